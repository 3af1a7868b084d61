/**
 * Typed errors of the CNN application. Each has a stable `code`; messages name what was wrong (the
 * file with its line, the layer, the blob) and what to do about it.
 */
export type CnnErrorCode =
  | 'ERR_CNN_PROTOTXT' // text that is not protobuf text format
  | 'ERR_CNN_DEFINITION' // a well-formed definition that names unknown fields, types, bottoms...
  | 'ERR_CNN_SHAPE' // blob shapes that do not fit together
  | 'ERR_CNN_DATA' // a corrupt or truncated data file, labels out of range
  | 'ERR_CNN_SOLVER' // a solver definition that cannot be run
  | 'ERR_CNN_SNAPSHOT' // a snapshot that cannot be written, read or does not fit the net
  | 'ERR_CNN_USAGE'; // a bad command-line flag

export class CnnError extends Error {
  readonly code: CnnErrorCode;
  constructor(code: CnnErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Where in a text file a problem is; line and column are 1-based, as an editor shows them. */
export interface TextLocation {
  file: string;
  line: number;
  column?: number;
}

export function formatLocation(loc: TextLocation): string {
  return `${loc.file}:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`;
}

/** Text that the protobuf text-format parser cannot read. */
export class PrototxtSyntaxError extends CnnError {
  readonly location: TextLocation;
  constructor(location: TextLocation, message: string) {
    super('ERR_CNN_PROTOTXT', `${formatLocation(location)}: ${message}`);
    this.location = location;
  }
}

/** A definition that parses but does not describe a net or solver this implementation can build. */
export class DefinitionError extends CnnError {
  readonly location: TextLocation | undefined;
  constructor(message: string, location?: TextLocation) {
    super('ERR_CNN_DEFINITION', location ? `${formatLocation(location)}: ${message}` : message);
    this.location = location;
  }
}

/** Blob shapes that do not fit (a layer's bottoms, a snapshot against a net, a parameter array). */
export class ShapeError extends CnnError {
  constructor(message: string) {
    super('ERR_CNN_SHAPE', message);
  }
}

/** A data file that is corrupt, truncated or inconsistent; always names the file. */
export class DataFileError extends CnnError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('ERR_CNN_DATA', `${file}: ${message}`);
    this.file = file;
  }
}

export class SolverError extends CnnError {
  constructor(message: string) {
    super('ERR_CNN_SOLVER', message);
  }
}

export class SnapshotError extends CnnError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('ERR_CNN_SNAPSHOT', `${file}: ${message}`);
    this.file = file;
  }
}

export class UsageError extends CnnError {
  constructor(message: string) {
    super('ERR_CNN_USAGE', message);
  }
}

/** A label outside the classes a layer knows (names the layer and the sample). */
export class LabelRangeError extends CnnError {
  constructor(message: string) {
    super('ERR_CNN_DATA', message);
  }
}
