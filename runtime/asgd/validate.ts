import { InvalidOptionError, UnknownNameError } from './errors.js';

/** Checks shared by every configuration entry point; each names the option that is wrong. */

export interface NumberRule {
  min?: number;
  max?: number;
  /** the bound itself is not allowed */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  integer?: boolean;
  /** Infinity is allowed (it must be the only non-finite value that is) */
  allowInfinity?: boolean;
}

export function checkNumber(option: string, value: unknown, rule: NumberRule = {}): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidOptionError(option, `must be a number, got ${describe(value)}`);
  }
  if (!Number.isFinite(value) && !(rule.allowInfinity && value === Infinity)) {
    throw new InvalidOptionError(option, `must be finite, got ${String(value)}`);
  }
  if (rule.integer && Number.isFinite(value) && !Number.isInteger(value)) {
    throw new InvalidOptionError(option, `must be an integer, got ${String(value)}`);
  }
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) {
    throw new InvalidOptionError(option, `must be ${rule.exclusiveMin ? '>' : '>='} ${rule.min}, got ${String(value)}`);
  }
  if (rule.max !== undefined && (rule.exclusiveMax ? value >= rule.max : value > rule.max)) {
    throw new InvalidOptionError(option, `must be ${rule.exclusiveMax ? '<' : '<='} ${rule.max}, got ${String(value)}`);
  }
  return value;
}

export function optionalNumber(option: string, value: unknown, fallback: number, rule: NumberRule = {}): number {
  return value === undefined ? fallback : checkNumber(option, value, rule);
}

export function checkName<T extends string>(kind: string, value: unknown, known: readonly T[]): T {
  if (typeof value !== 'string' || !(known as readonly string[]).includes(value)) {
    throw new UnknownNameError(kind, typeof value === 'string' ? value : describe(value), known);
  }
  return value as T;
}

/** Every key of `object` must be in `allowed`: a misspelt option is an error, not silently ignored. */
export function checkKeys(where: string, object: object, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(`${where}.${key}`, `is not an option here; allowed: ${allowed.join(', ')}`);
    }
  }
}

export function checkObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
