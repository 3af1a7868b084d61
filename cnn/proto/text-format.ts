import { PrototxtSyntaxError } from '../errors.js';

/**
 * A reader for the protobuf text format (what Caffe's .prototxt files are): fields `name: value`,
 * sub-messages `name { ... }` (also `name: { ... }` and `name < ... >`), repeated fields by repetition or
 * `name: [a, b]`, numbers, identifiers (enum values, true/false), quoted strings with C escapes and
 * adjacent-string concatenation, `#` comments, optional `,` / `;` separators.
 *
 * The result is untyped (a tree of fields with their source lines); schema.ts checks it against the
 * message definitions, so that an unknown field is reported with its line.
 */

export type ScalarKind = 'number' | 'identifier' | 'string';

export interface TextScalar {
  kind: ScalarKind;
  /** the number or identifier as written, or the decoded string */
  text: string;
  line: number;
  column: number;
}

export interface TextField {
  name: string;
  line: number;
  column: number;
  value: TextScalar | TextMessage;
}

export interface TextMessage {
  kind: 'message';
  fields: TextField[];
  line: number;
  column: number;
}

type TokenKind = 'name' | 'number' | 'string' | 'punct' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  line: number;
  column: number;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;
const NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?|inf(?:inity)?|nan)/i;

class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: Token | undefined;

  constructor(private readonly text: string, private readonly file: string) {}

  fail(message: string, line = this.line, column = this.pos - this.lineStart + 1): never {
    throw new PrototxtSyntaxError({ file: this.file, line, column }, message);
  }

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private skipSpaceAndComments(): void {
    const s = this.text;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === '\n') {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else {
        return;
      }
    }
  }

  private read(): Token {
    this.skipSpaceAndComments();
    const s = this.text;
    const line = this.line;
    const column = this.pos - this.lineStart + 1;
    if (this.pos >= s.length) return { kind: 'eof', text: '', line, column };
    const c = s[this.pos]!;
    if (NAME_START.test(c)) {
      const start = this.pos;
      while (this.pos < s.length && NAME_PART.test(s[this.pos]!)) this.pos++;
      return { kind: 'name', text: s.slice(start, this.pos), line, column };
    }
    if (c === '"' || c === "'") return { kind: 'string', text: this.readString(c, line, column), line, column };
    if (/[-+.\d]/.test(c)) {
      const m = NUMBER.exec(s.slice(this.pos, this.pos + 64));
      if (!m) this.fail(`'${c}' does not start a number`);
      this.pos += m[0].length;
      if (this.pos < s.length && NAME_PART.test(s[this.pos]!)) this.fail(`malformed number '${m[0]}${s[this.pos]}'`, line, column);
      return { kind: 'number', text: m[0], line, column };
    }
    if ('{}<>[]:,;'.includes(c)) {
      this.pos++;
      return { kind: 'punct', text: c, line, column };
    }
    return this.fail(`unexpected character '${c}'`);
  }

  private readString(quote: string, line: number, column: number): string {
    const s = this.text;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= s.length || s[this.pos] === '\n') this.fail('string not closed on its line', line, column);
      const c = s[this.pos++]!;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = s[this.pos++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case "'": out += "'"; break;
        case 'a': out += '\x07'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '?': out += '?'; break;
        case 'x': {
          const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.pos, this.pos + 2));
          if (!m) this.fail('\\x must be followed by hex digits');
          out += String.fromCharCode(parseInt(m[0], 16));
          this.pos += m[0].length;
          break;
        }
        default: {
          const m = /^[0-7]{1,3}/.exec(s.slice(this.pos - 1, this.pos + 2));
          if (!m) this.fail(`unknown escape '\\${e ?? ''}' in a string`);
          out += String.fromCharCode(parseInt(m[0], 8));
          this.pos += m[0].length - 1;
        }
      }
    }
  }
}

/** Parse protobuf text format; `file` names the source in error messages. */
export function parseTextFormat(text: string, file = '<text>'): TextMessage {
  const lex = new Lexer(text, file);
  const root = parseFields(lex, 'eof', 1, 1);
  return root;
}

function expectValueStart(lex: Lexer, t: Token, field: string): void {
  if (t.kind === 'eof') lex.fail(`field '${field}' has no value (end of file)`, t.line, t.column);
  if (t.kind === 'punct') lex.fail(`field '${field}' has no value: found '${t.text}'`, t.line, t.column);
}

function parseFields(lex: Lexer, close: 'eof' | '}' | '>', line: number, column: number): TextMessage {
  const msg: TextMessage = { kind: 'message', fields: [], line, column };
  for (;;) {
    const t = lex.next();
    if (t.kind === 'eof') {
      if (close === 'eof') return msg;
      lex.fail(`message opened at line ${line} is not closed: expected '${close}' before the end of the file`, t.line, t.column);
    }
    if (t.kind === 'punct' && t.text === close) return msg;
    if (t.kind === 'punct' && (t.text === '}' || t.text === '>')) lex.fail(`unexpected '${t.text}' (no message is open here)`, t.line, t.column);
    if (t.kind === 'punct' && t.text === '[') lex.fail('extensions ([name]) are not supported', t.line, t.column);
    if (t.kind !== 'name') lex.fail(`expected a field name, found ${describe(t)}`, t.line, t.column);
    const name = t.text;
    let sep = lex.peek();
    let colon = false;
    if (sep.kind === 'punct' && sep.text === ':') {
      lex.next();
      colon = true;
      sep = lex.peek();
    }
    if (sep.kind === 'punct' && (sep.text === '{' || sep.text === '<')) {
      lex.next();
      const sub = parseFields(lex, sep.text === '{' ? '}' : '>', sep.line, sep.column);
      msg.fields.push({ name, line: t.line, column: t.column, value: sub });
    } else if (!colon) {
      lex.fail(`expected ':' or '{' after field name '${name}', found ${describe(sep)}`, sep.line, sep.column);
    } else if (sep.kind === 'punct' && sep.text === '[') {
      lex.next();
      parseList(lex, name, t, msg);
    } else {
      msg.fields.push({ name, line: t.line, column: t.column, value: parseScalar(lex, name) });
    }
    const after = lex.peek();
    if (after.kind === 'punct' && (after.text === ',' || after.text === ';')) lex.next();
  }
}

function parseList(lex: Lexer, name: string, at: Token, msg: TextMessage): void {
  let first = true;
  for (;;) {
    const t = lex.peek();
    if (t.kind === 'punct' && t.text === ']') {
      lex.next();
      return;
    }
    if (!first) {
      if (!(t.kind === 'punct' && t.text === ',')) lex.fail(`expected ',' or ']' in the list of '${name}', found ${describe(t)}`, t.line, t.column);
      lex.next();
    }
    first = false;
    const v = lex.peek();
    if (v.kind === 'punct' && (v.text === '{' || v.text === '<')) {
      lex.next();
      msg.fields.push({ name, line: at.line, column: at.column, value: parseFields(lex, v.text === '{' ? '}' : '>', v.line, v.column) });
    } else {
      msg.fields.push({ name, line: v.line, column: v.column, value: parseScalar(lex, name) });
    }
  }
}

function parseScalar(lex: Lexer, name: string): TextScalar {
  const t = lex.next();
  expectValueStart(lex, t, name);
  if (t.kind === 'string') {
    let text = t.text;
    // adjacent string literals concatenate, as in C
    while (lex.peek().kind === 'string') text += lex.next().text;
    return { kind: 'string', text, line: t.line, column: t.column };
  }
  if (t.kind === 'number') return { kind: 'number', text: t.text, line: t.line, column: t.column };
  if (t.kind === 'name') {
    // a leading '-' before inf/nan is lexed as a number already; bare identifiers are enums or booleans
    return { kind: 'identifier', text: t.text, line: t.line, column: t.column };
  }
  return lex.fail(`unexpected ${describe(t)} as the value of '${name}'`, t.line, t.column);
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'the end of the file';
    case 'string': return `the string "${t.text}"`;
    default: return `'${t.text}'`;
  }
}
