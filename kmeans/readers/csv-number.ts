/**
 * Decimal numbers parsed straight from file bytes, so that reading a CSV allocates no string per
 * field. The common case (at most 15 significant digits, a decimal exponent within ±22) is computed
 * as one exact integer times or divided by an exact power of ten: a single rounding, hence the same
 * double as Number(text) (Clinger's fast path). Anything else goes through Number() on the field's
 * text after this parser has checked the syntax, so both paths accept exactly the same inputs.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_FAST_DIGITS = 15;
const latin1 = new TextDecoder('latin1');

/**
 * The number in bytes [start, end), which must be exactly `[+-]digits[.digits][(e|E)[+-]digits]` (or
 * `.digits`): no spaces, no hex, no `Infinity`/`NaN` words. NaN when the text is not such a number.
 */
export function parseDecimal(b: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && (b[i] === 0x2d || b[i] === 0x2b)) {
    negative = b[i] === 0x2d;
    i++;
  }
  let mantissa = 0;
  let significant = 0;
  let exponent = 0;
  let digits = 0;
  let fast = true;
  for (; i < end; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    digits++;
    if (significant < MAX_FAST_DIGITS) {
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) significant++;
    } else {
      fast = false;
    }
  }
  if (i < end && b[i] === 0x2e) {
    for (i++; i < end; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      digits++;
      if (significant < MAX_FAST_DIGITS) {
        mantissa = mantissa * 10 + d;
        if (mantissa !== 0) significant++;
        exponent--;
      } else {
        fast = false;
      }
    }
  }
  if (digits === 0) return NaN;
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    let expNegative = false;
    if (i < end && (b[i] === 0x2d || b[i] === 0x2b)) {
      expNegative = b[i] === 0x2d;
      i++;
    }
    let e = 0;
    let expDigits = 0;
    for (; i < end; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      expDigits++;
      if (e < 100000) e = e * 10 + d;
    }
    if (expDigits === 0) return NaN;
    exponent += expNegative ? -e : e;
  }
  if (i !== end) return NaN;
  if (fast && exponent >= -22 && exponent <= 22) {
    const v = exponent >= 0 ? mantissa * POW10[exponent]! : mantissa / POW10[-exponent]!;
    return negative ? -v : v;
  }
  return Number(latin1.decode(b.subarray(start, end)));
}
