import { DefinitionError, type TextLocation } from '../errors.js';
import type { TextField, TextMessage } from './text-format.js';

/** The types a field may have (protobuf's scalar types as Caffe uses them). */
export type FieldType = 'int' | 'uint' | 'float' | 'bool' | 'string' | 'enum' | 'message';
export type Scalar = number | boolean | string;

export interface FieldSpec {
  type: FieldType;
  repeated?: boolean;
  /** enum values, by name */
  values?: readonly string[];
  /** the message type of a 'message' field */
  message?: string;
  /** value when absent (Caffe's proto default) */
  default?: Scalar;
}

export type MessageSpec = Readonly<Record<string, FieldSpec>>;
export type SchemaSet = Readonly<Record<string, MessageSpec>>;

interface Entry {
  value: Scalar | Msg;
  line: number;
  column: number;
}

/**
 * A message decoded against its schema: every field known, typed and in range. Accessors return
 * the proto default for absent fields; asking for a field that the schema does not define is a bug
 * in the caller and throws.
 */
export class Msg {
  readonly spec: MessageSpec;

  constructor(
    readonly type: string,
    readonly schemas: SchemaSet,
    readonly file: string,
    readonly line: number,
    private readonly fields: Map<string, Entry[]>,
  ) {
    this.spec = specOf(schemas, type);
  }

  /** an empty message of `type` (all defaults) */
  static empty(schemas: SchemaSet, type: string, file = '<default>'): Msg {
    return new Msg(type, schemas, file, 0, new Map());
  }

  private field(name: string): FieldSpec {
    const f = this.spec[name];
    if (!f) throw new Error(`internal: ${this.type} has no field '${name}'`);
    return f;
  }

  has(name: string): boolean {
    this.field(name);
    return (this.fields.get(name)?.length ?? 0) > 0;
  }

  /** where a field (or the message itself) was written */
  loc(name?: string): TextLocation {
    const e = name === undefined ? undefined : this.fields.get(name)?.[0];
    return { file: this.file, line: e?.line ?? this.line };
  }

  private one(name: string): Scalar | Msg | undefined {
    const f = this.field(name);
    const e = this.fields.get(name);
    if (e && e.length > 0) return e[0]!.value;
    return f.default;
  }

  num(name: string, fallback?: number): number {
    const v = this.one(name) ?? fallback;
    if (typeof v !== 'number') throw new Error(`internal: ${this.type}.${name} is not a number field with a default`);
    return v;
  }

  str(name: string, fallback?: string): string {
    const v = this.one(name) ?? fallback;
    if (typeof v !== 'string') throw new Error(`internal: ${this.type}.${name} has no string value`);
    return v;
  }

  bool(name: string, fallback?: boolean): boolean {
    const v = this.one(name) ?? fallback;
    if (typeof v !== 'boolean') throw new Error(`internal: ${this.type}.${name} has no boolean value`);
    return v;
  }

  /** the optional sub-message, or an empty one (all defaults) when absent */
  msg(name: string): Msg {
    const f = this.field(name);
    const v = this.fields.get(name)?.[0]?.value;
    if (v instanceof Msg) return v;
    return new Msg(f.message!, this.schemas, this.file, this.line, new Map());
  }

  msgs(name: string): Msg[] {
    this.field(name);
    return (this.fields.get(name) ?? []).map((e) => e.value as Msg);
  }

  nums(name: string): number[] {
    this.field(name);
    return (this.fields.get(name) ?? []).map((e) => e.value as number);
  }

  bools(name: string): boolean[] {
    this.field(name);
    return (this.fields.get(name) ?? []).map((e) => e.value as boolean);
  }

  strs(name: string): string[] {
    this.field(name);
    return (this.fields.get(name) ?? []).map((e) => e.value as string);
  }

  /** names of the fields that were written */
  written(): string[] {
    return [...this.fields.keys()];
  }
}

function specOf(schemas: SchemaSet, type: string): MessageSpec {
  const spec = schemas[type];
  if (!spec) throw new Error(`internal: no message type '${type}'`);
  return spec;
}

/** Check a parsed text message against message type `type` of `schemas`. */
export function decodeMessage(schemas: SchemaSet, type: string, text: TextMessage, file: string): Msg {
  const spec = specOf(schemas, type);
  const fields = new Map<string, Entry[]>();
  for (const f of text.fields) {
    // Own properties only: a field named 'constructor' or '__proto__' must be unknown, not Object's.
    const fs = Object.hasOwn(spec, f.name) ? spec[f.name] : undefined;
    const at = { file, line: f.line, column: f.column };
    if (!fs) {
      const near = closest(f.name, Object.keys(spec));
      throw new DefinitionError(`unknown field '${f.name}' in ${type}${near ? ` (did you mean '${near}'?)` : ''}`, at);
    }
    const list = fields.get(f.name) ?? [];
    if (list.length > 0 && !fs.repeated) throw new DefinitionError(`field '${f.name}' of ${type} is not repeated but is given more than once (first at line ${list[0]!.line})`, at);
    list.push({ value: decodeValue(schemas, type, f, fs, file), line: f.line, column: f.column });
    fields.set(f.name, list);
  }
  return new Msg(type, schemas, file, text.line, fields);
}

function decodeValue(schemas: SchemaSet, type: string, f: TextField, fs: FieldSpec, file: string): Scalar | Msg {
  const v = f.value;
  const at = { file, line: f.line, column: f.column };
  const what = `${type}.${f.name}`;
  if (fs.type === 'message') {
    if (v.kind !== 'message') throw new DefinitionError(`${what} is a message: write '${f.name} { ... }'`, at);
    return decodeMessage(schemas, fs.message!, v, file);
  }
  if (v.kind === 'message') throw new DefinitionError(`${what} is a ${fs.type === 'enum' ? 'enum' : fs.type} field, not a message`, at);
  const vat = { file, line: v.line, column: v.column };
  switch (fs.type) {
    case 'string':
      if (v.kind !== 'string') throw new DefinitionError(`${what} must be a quoted string, got ${v.text}`, vat);
      return v.text;
    case 'bool':
      if (v.kind === 'identifier' && (v.text === 'true' || v.text === 't' || v.text === 'True')) return true;
      if (v.kind === 'identifier' && (v.text === 'false' || v.text === 'f' || v.text === 'False')) return false;
      if (v.kind === 'number' && (v.text === '1' || v.text === '0')) return v.text === '1';
      throw new DefinitionError(`${what} must be true or false, got ${v.text}`, vat);
    case 'enum':
      if (v.kind !== 'identifier' || !fs.values!.includes(v.text)) {
        throw new DefinitionError(`${what} must be one of ${fs.values!.join(', ')}; got ${v.kind === 'string' ? `"${v.text}"` : v.text}`, vat);
      }
      return v.text;
    case 'int':
    case 'uint': {
      if (v.kind !== 'number') throw new DefinitionError(`${what} must be an integer, got ${v.text}`, vat);
      const n = /^[-+]?0[xX]/.test(v.text) ? parseInt(v.text, 16) : Number(v.text);
      if (!Number.isSafeInteger(n)) throw new DefinitionError(`${what} must be an integer, got ${v.text}`, vat);
      if (fs.type === 'uint' && n < 0) throw new DefinitionError(`${what} must not be negative, got ${v.text}`, vat);
      return n;
    }
    case 'float': {
      if (v.kind === 'identifier' && /^(inf|infinity|nan)$/i.test(v.text)) return /^nan$/i.test(v.text) ? NaN : Infinity;
      if (v.kind !== 'number') throw new DefinitionError(`${what} must be a number, got ${v.text}`, vat);
      const t = v.text.replace(/[fF]$/, '');
      const n = /^[-+]?inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : /nan/i.test(t) ? NaN : Number(t);
      if (Number.isNaN(n) && !/nan/i.test(t)) throw new DefinitionError(`${what} must be a number, got ${v.text}`, vat);
      return n;
    }
  }
  throw new Error(`internal: field type ${fs.type as string}`);
}

/** the known name within edit distance 2, for "did you mean" */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
