import { readFileSync } from 'node:fs';
import { CnnError, DefinitionError } from '../errors.js';
import { CAFFE_SCHEMAS } from './caffe-schema.js';
import { decodeMessage, Msg } from './message.js';
import { parseTextFormat } from './text-format.js';

export { parseTextFormat, type TextMessage, type TextField, type TextScalar } from './text-format.js';
export { Msg, decodeMessage, type FieldSpec, type MessageSpec, type SchemaSet } from './message.js';
export { CAFFE_SCHEMAS, PHASES } from './caffe-schema.js';

/** Parse prototxt text as Caffe message `type` (NetParameter, SolverParameter, ...). */
export function parsePrototxt(text: string, type: string, file = '<text>'): Msg {
  return decodeMessage(CAFFE_SCHEMAS, type, parseTextFormat(text, file), file);
}

/** Read and parse a prototxt file; errors name the file (and the line). */
export function readPrototxt(file: string, type: string): Msg {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DefinitionError(`cannot read ${type} file ${file}: ${(error as Error).message}`);
  }
  try {
    return parsePrototxt(text, type, file);
  } catch (error) {
    if (error instanceof CnnError) throw error;
    throw new DefinitionError(`${file}: ${(error as Error).message}`);
  }
}
