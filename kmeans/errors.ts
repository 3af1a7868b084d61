/**
 * Typed errors of the K-Means application. Each has a stable `code`; messages name what was wrong
 * (the flag, or the file with its row or byte offset) and what to do about it.
 */
export type KmeansErrorCode =
  | 'ERR_KMEANS_USAGE' // a bad flag or option value
  | 'ERR_KMEANS_DATA_FORMAT' // a data file whose content cannot be read as points
  | 'ERR_KMEANS_DATA_SHORT' // a data file with fewer points than the job needs
  | 'ERR_KMEANS_IO'; // the file system said no

export class KmeansError extends Error {
  readonly code: KmeansErrorCode;
  constructor(code: KmeansErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad command-line flag or configuration value; thrown before anything runs or is written. */
export class UsageError extends KmeansError {
  constructor(message: string) {
    super('ERR_KMEANS_USAGE', message);
  }
}

/**
 * Where in a file a problem is: always the file; then what is known of a data row (0-based, binary
 * formats), a text line (1-based, as an editor shows it) and a byte offset.
 */
export interface FileLocation {
  file: string;
  row?: number;
  line?: number;
  byteOffset?: number;
}

function where(loc: FileLocation): string {
  const parts: string[] = [];
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.byteOffset !== undefined) parts.push(`byte offset ${loc.byteOffset}`);
  return parts.length ? `${loc.file} (${parts.join(', ')})` : loc.file;
}

/** The file's content is not what its format promises. */
export class DataFormatError extends KmeansError {
  readonly file: string;
  readonly row: number | undefined;
  readonly line: number | undefined;
  readonly byteOffset: number | undefined;
  constructor(loc: FileLocation, message: string) {
    super('ERR_KMEANS_DATA_FORMAT', `${where(loc)}: ${message}`);
    this.file = loc.file;
    this.row = loc.row;
    this.line = loc.line;
    this.byteOffset = loc.byteOffset;
  }
}

/** The file holds fewer points than the ranks (or `k`, or the held-out sample) need. */
export class DataShortError extends KmeansError {
  readonly file: string;
  readonly byteOffset: number | undefined;
  constructor(loc: FileLocation, message: string) {
    super('ERR_KMEANS_DATA_SHORT', `${where(loc)}: ${message}`);
    this.file = loc.file;
    this.byteOffset = loc.byteOffset;
  }
}

/** Opening or reading a file failed (missing, unreadable); wraps the system error. */
export class DataIoError extends KmeansError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super('ERR_KMEANS_IO', `${file}: ${(cause as Error)?.message ?? String(cause)}`);
    this.file = file;
  }
}
