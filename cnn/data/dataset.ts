import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataFileError } from '../errors.js';
import { readIdxFile, type IdxValues } from './idx.js';

/**
 * A labelled image set from an IDX image file ([N, H, W] or [N, C, H, W]) and its IDX label file
 * ([N]), held in memory as stored (bytes for MNIST: 47 MB for 60,000 images).
 */
export interface ImageDataset {
  imageFile: string;
  labelFile: string;
  count: number;
  channels: number;
  height: number;
  width: number;
  images: IdxValues;
  labels: IdxValues;
}

/**
 * The label file that goes with an image file by the MNIST naming convention
 * (train-images-idx3-ubyte[.gz] → train-labels-idx1-ubyte[.gz], also "images" → "labels").
 */
export function defaultLabelFile(imageFile: string): string {
  const dir = dirname(imageFile);
  const name = basename(imageFile);
  const candidates = [name.replace('images-idx3', 'labels-idx1'), name.replace('images', 'labels')].filter((n) => n !== name);
  if (candidates.length === 0) {
    throw new DataFileError(imageFile, 'cannot derive the label file from this name (no "images" in it): give data_param.label_source');
  }
  const found = candidates.find((n) => existsSync(join(dir, n)));
  return join(dir, found ?? candidates[0]!);
}

const cache = new Map<string, ImageDataset>();

/** Load (once per process; the TRAIN and TEST nets and every thread share it) an IDX image set. */
export function loadImageDataset(imageFile: string, labelFile = defaultLabelFile(imageFile)): ImageDataset {
  const key = `${imageFile}\0${labelFile}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const images = readIdxFile(imageFile);
  const labels = readIdxFile(labelFile);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataFileError(imageFile, `an image file must have 3 (N, H, W) or 4 (N, C, H, W) dimensions, this one has [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1 && !(labels.dims.length === 2 && labels.dims[1] === 1)) {
    throw new DataFileError(labelFile, `a label file must have one dimension (N), this one has [${labels.dims.join(', ')}]`);
  }
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) throw new DataFileError(labelFile, `${labels.dims[0]} labels for the ${count} images of ${imageFile}`);
  if (count === 0) throw new DataFileError(imageFile, 'the file holds no images');
  if (labels.values instanceof Float32Array || labels.values instanceof Float64Array) {
    for (let i = 0; i < count; i++) {
      if (!Number.isInteger(labels.values[i]!)) throw new DataFileError(labelFile, `label ${i} is ${labels.values[i]}, not an integer class`);
    }
  }
  for (let i = 0; i < count; i++) {
    if (labels.values[i]! < 0) throw new DataFileError(labelFile, `label ${i} is negative (${labels.values[i]})`);
  }
  const four = images.dims.length === 4;
  const ds: ImageDataset = {
    imageFile,
    labelFile,
    count,
    channels: four ? images.dims[1]! : 1,
    height: images.dims[four ? 2 : 1]!,
    width: images.dims[four ? 3 : 2]!,
    images: images.values,
    labels: labels.values,
  };
  cache.set(key, ds);
  return ds;
}

/** Forget cached datasets (tests that rewrite files under the same name). */
export function clearDatasetCache(): void {
  cache.clear();
}

/** The contiguous block of `count` samples that part `part` of `parts` owns (sizes differ by ≤ 1). */
export function partitionRange(count: number, part: number, parts: number): [number, number] {
  const start = Math.floor((count * part) / parts);
  const end = Math.floor((count * (part + 1)) / parts);
  return [start, end];
}
