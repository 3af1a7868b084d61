import { isAbsolute, resolve } from 'node:path';
import type { Blob } from '../blob.js';
import { loadImageDataset, partitionRange, type ImageDataset } from '../data/dataset.js';
import { EpochSampler } from '../data/sampler.js';
import { Layer } from '../layer.js';

/**
 * Caffe's Data layer reading an IDX image file and its label file instead of an LMDB (see
 * cnn/README.md): `source` names the images, `label_source` the labels (default: the MNIST naming
 * convention), relative paths are relative to the definition file. Pixels are multiplied by
 * transform_param.scale after subtracting mean_value. In the TRAIN phase each rank reads its own
 * contiguous part of the file; `shuffle: true` (an extension) permutes it anew each epoch.
 *
 * Whoever drives the net (the numeric core's model adapter) can hand in the sample indices of the next
 * batch with `feed`, instead of the layer's own sampler.
 */
export class DataLayer extends Layer {
  dataset!: ImageDataset;
  sampler!: EpochSampler;
  private batchSize = 0;
  private scale = 1;
  private mean: number[] = [];
  private fed: Int32Array | null = null;
  private fedCount = 0;

  override get bottomRange(): [number, number] {
    return [0, 0];
  }

  override get topRange(): [number, number] {
    return [1, 2];
  }

  protected override layerSetUp(_bottom: Blob[], top: Blob[]): void {
    const p = this.def.msg('data_param');
    const t = this.def.msg('transform_param');
    if (!p.has('source')) throw this.defError('data_param.source (an IDX image file) is required', p);
    if (!p.has('batch_size') || p.num('batch_size') < 1) throw this.defError('data_param.batch_size must be a positive integer', p, 'batch_size');
    if (t.bool('mirror') || t.num('crop_size') > 0 || p.bool('mirror') || p.num('crop_size') > 0) {
      throw this.defError('mirror and crop_size are not supported by the IDX data layer', t);
    }
    if (p.has('mean_file')) throw this.defError('mean_file is not supported; use transform_param.mean_value', p, 'mean_file');
    const path = (f: string): string => (isAbsolute(f) ? f : resolve(this.ctx.baseDir, f));
    const images = path(p.str('source'));
    this.dataset = p.has('label_source') ? loadImageDataset(images, path(p.str('label_source'))) : loadImageDataset(images);
    this.batchSize = p.num('batch_size');
    this.scale = t.has('scale') ? t.num('scale') : p.num('scale');
    this.mean = t.nums('mean_value');
    const C = this.dataset.channels;
    if (this.mean.length > 1 && this.mean.length !== C) throw this.defError(`${this.mean.length} mean_value entries for ${C} channels`, t, 'mean_value');
    const train = this.ctx.phase === 'TRAIN';
    const [start, end] = train ? partitionRange(this.dataset.count, this.ctx.part, this.ctx.parts) : [0, this.dataset.count];
    if (end <= start) throw this.defError(`part ${this.ctx.part} of ${this.ctx.parts} of ${images} is empty (${this.dataset.count} samples)`, p, 'source');
    this.sampler = new EpochSampler(start, end, p.bool('shuffle'), this.ctx.seed, train ? this.ctx.part : 0);
    const skip = p.num('rand_skip');
    if (skip > 0) this.sampler.skip(this.ctx.rng.int(skip + 1));
    top[0]!.reshape([this.batchSize, C, this.dataset.height, this.dataset.width]);
    if (top[1]) top[1].reshape([this.batchSize]);
  }

  get batch(): number {
    return this.batchSize;
  }

  /** Use these sample indices for the next forward (the first `count`); the batch size follows. */
  feed(indices: Int32Array, count: number): void {
    this.fed = indices;
    this.fedCount = count;
  }

  /** Change the batch size (tops are reshaped on the next reshape). */
  setBatchSize(n: number): void {
    this.batchSize = n;
  }

  override reshape(_bottom: Blob[], top: Blob[]): void {
    const d = this.dataset;
    const n = this.fed ? this.fedCount : this.batchSize;
    top[0]!.reshape([n, d.channels, d.height, d.width]);
    if (top[1]) top[1].reshape([n]);
  }

  override forward(_bottom: Blob[], top: Blob[]): void {
    const d = this.dataset;
    const per = d.channels * d.height * d.width;
    const plane = d.height * d.width;
    const n = top[0]!.shape[0]!;
    const x = top[0]!.data;
    const label = top[1]?.data;
    const scale = this.scale;
    const images = d.images;
    const mean = this.mean;
    for (let s = 0; s < n; s++) {
      const idx = this.fed ? this.fed[s]! : this.sampler.next();
      const src = idx * per;
      const dst = s * per;
      if (mean.length === 0) {
        for (let i = 0; i < per; i++) x[dst + i] = images[src + i]! * scale;
      } else {
        for (let i = 0; i < per; i++) x[dst + i] = (images[src + i]! - mean[mean.length === 1 ? 0 : Math.floor(i / plane)]!) * scale;
      }
      if (label) label[s] = d.labels[idx]!;
    }
    this.fed = null;
  }

  override backward(): void {}
}
