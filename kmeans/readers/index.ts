/** Readers for real data: each is a PointSource over this rank's part of one file. */
export { RawFloat32Reader } from './raw.js';
export { NpyReader, readNpyHeader, type NpyHeader } from './npy.js';
export { CsvReader, type CsvOptions } from './csv.js';
export { parseDecimal } from './csv-number.js';
export type { FileReaderOptions } from './file.js';
