import { dirname, resolve } from 'node:path';
import { Rng } from '../runtime/asgd/rng.js';
import { Blob } from './blob.js';
import { CnnError, DefinitionError, ShapeError } from './errors.js';
import type { Layer, LayerContext, Phase } from './layer.js';
import { ConvolutionLayer } from './layers/convolution.js';
import { LAYER_TYPES } from './layers/registry.js';
import { layerIncluded, type NetState } from './net-filter.js';
import { parsePrototxt, readPrototxt } from './proto/index.js';
import type { Msg } from './proto/message.js';

export interface NetOptions {
  phase: Phase;
  level?: number;
  stages?: string[];
  /** seeds dropout masks, shuffling and rand_skip (default 1) */
  seed?: number;
  /** this rank's part of the training data (default 0 of 1) */
  part?: number;
  parts?: number;
  /** directory relative data paths are resolved against (default: the definition file's) */
  baseDir?: string;
  /** bind the parameters into these arrays (length paramCount each) instead of allocating them */
  params?: Float32Array;
  grads?: Float32Array;
  /** use the parameters of this net, layer by layer name (Caffe's test nets share the train net's) */
  shareWith?: Net;
}

/** One parameter blob's place in the net's parameter array. */
export interface ParamEntry {
  layer: string;
  index: number;
  blob: Blob;
  offset: number;
  count: number;
  lrMult: number;
  decayMult: number;
  /** false for state that is not learned by gradient (BatchNorm's statistics) */
  learnable: boolean;
}

interface LayerSpec {
  def: Msg;
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
}

const NET_STREAM = 0x6e6574; // "net"

/**
 * A net assembled from a NetParameter for one phase (Caffe's Net): layers filtered by include/exclude
 * rules, Split layers inserted where a blob feeds several layers, blobs connected by name (a top with
 * its bottom's name works in place), every parameter blob bound into one contiguous `params` array and
 * one `grads` array, in layer order (so that a whole state moves with one put).
 */
export class Net {
  readonly name: string;
  readonly phase: Phase;
  readonly layers: Layer[] = [];
  readonly bottoms: Blob[][] = [];
  readonly tops: Blob[][] = [];
  readonly blobs = new Map<string, Blob>();
  readonly paramEntries: ParamEntry[] = [];
  /** blobs no layer consumes (loss, accuracy...) */
  readonly outputs: Blob[] = [];
  readonly paramCount: number;
  params: Float32Array;
  grads: Float32Array;
  private readonly needBackward: boolean[] = [];
  private readonly propagateDown: boolean[][] = [];
  private readonly lossTerms: { blob: Blob; weight: number }[] = [];
  readonly rng: Rng;

  static fromFile(file: string, options: NetOptions): Net {
    return new Net(readPrototxt(file, 'NetParameter'), { baseDir: dirname(resolve(file)), ...options });
  }

  static fromText(text: string, options: NetOptions, file = '<net>'): Net {
    return new Net(parsePrototxt(text, 'NetParameter', file), options);
  }

  constructor(def: Msg, options: NetOptions) {
    if (def.type !== 'NetParameter') throw new Error(`internal: a Net is built from a NetParameter, got ${def.type}`);
    this.name = def.str('name');
    this.phase = options.phase;
    const seed = options.seed ?? 1;
    this.rng = new Rng(seed, NET_STREAM, options.part ?? 0, options.phase === 'TRAIN' ? 0 : 1);
    const ctx: LayerContext = {
      phase: options.phase,
      rng: this.rng,
      part: options.part ?? 0,
      parts: options.parts ?? 1,
      seed,
      baseDir: options.baseDir ?? (def.file.startsWith('<') ? process.cwd() : dirname(resolve(def.file))),
    };
    const state: NetState = {
      phase: options.phase,
      level: options.level ?? def.msg('state').num('level'),
      stages: options.stages ?? def.msg('state').strs('stage'),
    };
    const specs = insertSplits(filterLayers(def, state));
    this.build(specs, ctx, def);
    this.markBackward(def.bool('force_backward'));
    const shared = options.shareWith;
    let total = 0;
    for (const layer of this.layers) {
      layer.blobs.forEach((blob, index) => {
        const m = layer.paramMults(index);
        this.paramEntries.push({ layer: layer.name, index, blob, offset: total, count: blob.count, lrMult: m.lrMult, decayMult: m.decayMult, learnable: layer.learnable(index) });
        total += blob.count;
      });
    }
    this.paramCount = total;
    if (shared) {
      this.params = shared.params;
      this.grads = shared.grads;
      this.shareFrom(shared);
    } else {
      this.params = options.params ?? new Float32Array(total);
      this.grads = options.grads ?? new Float32Array(total);
      this.bind(this.params, this.grads);
    }
  }

  private build(specs: LayerSpec[], ctx: LayerContext, def: Msg): void {
    const available = new Map<string, Blob>();
    const consumed = new Set<Blob>();
    this.addLegacyInputs(def, available);
    for (const spec of specs) {
      const at = spec.def.loc();
      const Ctor = LAYER_TYPES[spec.type];
      if (!Ctor) throw new DefinitionError(`layer '${spec.name}': unknown layer type '${spec.type}'; known: ${Object.keys(LAYER_TYPES).filter((t) => t !== 'Split').join(', ')}`, spec.def.loc('type'));
      if (spec.def.msgs('include').length > 0 && spec.def.msgs('exclude').length > 0) {
        throw new DefinitionError(`layer '${spec.name}' has both include and exclude rules; give one kind`, at);
      }
      for (const p of spec.def.msgs('param')) {
        if (p.str('name') !== '') throw new DefinitionError(`layer '${spec.name}': sharing parameters by name (param { name: ... }) is not supported`, p.loc('name'));
      }
      const bottoms = spec.bottoms.map((b) => {
        const blob = available.get(b);
        if (!blob) throw new DefinitionError(`layer '${spec.name}' (${spec.type}): bottom '${b}' is not produced by any earlier layer of the ${ctx.phase} net`, spec.def.loc('bottom'));
        consumed.add(blob);
        return blob;
      });
      const tops = spec.tops.map((t) => {
        const inPlace = spec.bottoms.indexOf(t);
        if (inPlace >= 0) return bottoms[inPlace]!;
        if (available.has(t)) throw new DefinitionError(`layer '${spec.name}': top '${t}' is produced by more than one layer`, spec.def.loc('top'));
        const blob = new Blob(t);
        available.set(t, blob);
        this.blobs.set(t, blob);
        return blob;
      });
      const layer = new Ctor(spec.def, ctx);
      try {
        layer.setUp(bottoms, tops);
      } catch (error) {
        if (error instanceof CnnError) throw error;
        throw new ShapeError(`layer '${spec.name}' (${spec.type}, ${at.file}:${at.line}): ${(error as Error).message}`);
      }
      this.layers.push(layer);
      this.bottoms.push(bottoms);
      this.tops.push(tops);
      tops.forEach((t, i) => {
        const w = layer.lossWeights[i]!;
        if (w !== 0) {
          this.lossTerms.push({ blob: t, weight: w });
          t.diff.fill(w, 0, t.count);
        }
      });
    }
    for (const blob of available.values()) if (!consumed.has(blob)) this.outputs.push(blob);
    // a convolution may reuse its forward columns in backward only if nothing after it rewrites its bottom
    this.layers.forEach((layer, l) => {
      if (!(layer instanceof ConvolutionLayer)) return;
      const b = this.bottoms[l]![0]!;
      if (this.tops.some((tops, m) => m > l && tops.includes(b))) layer.reuseColumns = false;
    });
  }

  /** NetParameter.input with input_shape or input_dim: an implicit Input layer */
  private addLegacyInputs(def: Msg, available: Map<string, Blob>): void {
    const names = def.strs('input');
    if (names.length === 0) return;
    const shapes = def.msgs('input_shape').map((s) => s.nums('dim'));
    const dims = def.nums('input_dim');
    if (shapes.length === 0 && dims.length === 4 * names.length) {
      for (let i = 0; i < names.length; i++) shapes.push(dims.slice(4 * i, 4 * i + 4));
    }
    if (shapes.length !== names.length) throw new DefinitionError(`${names.length} inputs need as many input_shape entries (or 4 input_dim values each)`, def.loc('input'));
    names.forEach((n, i) => {
      const blob = new Blob(n, shapes[i]);
      available.set(n, blob);
      this.blobs.set(n, blob);
    });
  }

  /** Caffe's backward bookkeeping: which layers and bottoms need a gradient. */
  private markBackward(force: boolean): void {
    const needs = new Set<Blob>();
    for (let l = 0; l < this.layers.length; l++) {
      const layer = this.layers[l]!;
      const explicit = layer.def.bools('propagate_down');
      const pd = this.bottoms[l]!.map((b, i) => {
        if (!layer.allowBackward(i)) return false;
        if (explicit.length > 0 && explicit[i] === false) return false;
        return force || needs.has(b);
      });
      const params = layer.blobs.some((_, i) => layer.learnable(i) && layer.paramMults(i).lrMult !== 0);
      const need = params || pd.some((p) => p);
      this.needBackward.push(need);
      this.propagateDown.push(pd);
      if (need) for (const t of this.tops[l]!) needs.add(t);
    }
    // layers whose outputs reach no loss skip backward (Accuracy, anything only it consumes)
    const underLoss = new Set<Blob>();
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const contributes = this.tops[l]!.some((t, i) => layer.lossWeights[i] !== 0 || underLoss.has(t));
      if (contributes) for (const b of this.bottoms[l]!) underLoss.add(b);
      else {
        this.needBackward[l] = false;
        this.propagateDown[l] = this.propagateDown[l]!.map(() => false);
      }
    }
  }

  private shareFrom(source: Net): void {
    for (const entry of this.paramEntries) {
      const src = source.paramEntries.find((e) => e.layer === entry.layer && e.index === entry.index);
      if (!src) throw new DefinitionError(`layer '${entry.layer}' of the ${this.phase} net has parameters, but the ${source.phase} net has no layer of that name to share them with`);
      if (!src.blob.sameShape(entry.blob)) {
        throw new ShapeError(`layer '${entry.layer}': parameter ${entry.index} is ${entry.blob.shapeString()} in the ${this.phase} net but ${src.blob.shapeString()} in the ${source.phase} net`);
      }
      entry.offset = src.offset;
      entry.blob.bind(source.params, source.grads, src.offset);
    }
  }

  /** Make every parameter blob a view of `params` / `grads` (cheap when they are the arrays bound already). */
  bind(params: Float32Array, grads: Float32Array): void {
    if (params.length !== this.paramCount || grads.length !== this.paramCount) {
      throw new ShapeError(`net '${this.name}' has ${this.paramCount} parameters; got arrays of ${params.length} and ${grads.length}`);
    }
    if (params === this.params && grads === this.grads && this.paramEntries.every((e) => e.blob.bound)) return;
    this.params = params;
    this.grads = grads;
    for (const e of this.paramEntries) e.blob.bind(params, grads, e.offset);
  }

  /** Write the initial parameters with the layers' fillers, in layer order, from `rng`. */
  initParams(rng: Rng): void {
    for (const layer of this.layers) layer.fill(rng);
  }

  /** Forward through every layer; returns the weighted sum of the losses. */
  forward(): number {
    const n = this.layers.length;
    for (let l = 0; l < n; l++) {
      const layer = this.layers[l]!;
      layer.reshape(this.bottoms[l]!, this.tops[l]!);
      layer.forward(this.bottoms[l]!, this.tops[l]!);
    }
    let loss = 0;
    for (const term of this.lossTerms) {
      const d = term.blob.data;
      for (let i = 0; i < term.blob.count; i++) loss += term.weight * d[i]!;
    }
    return loss;
  }

  /** Backward from the losses; parameter gradients are added to `grads` (clear them first). */
  backward(): void {
    for (const term of this.lossTerms) term.blob.diff.fill(term.weight, 0, term.blob.count);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      if (this.needBackward[l]) this.layers[l]!.backward(this.tops[l]!, this.propagateDown[l]!, this.bottoms[l]!);
    }
  }

  clearGrads(): void {
    this.grads.fill(0);
  }

  /** forward, then backward; returns the loss */
  forwardBackward(): number {
    const loss = this.forward();
    this.backward();
    return loss;
  }

  blob(name: string): Blob {
    const b = this.blobs.get(name);
    if (!b) throw new DefinitionError(`net '${this.name}' (${this.phase}) has no blob '${name}'`);
    return b;
  }

  layer(name: string): Layer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new DefinitionError(`net '${this.name}' (${this.phase}) has no layer '${name}'`);
    return l;
  }

  /** whether layer `l` runs backward, and into which bottoms (for tests and debugging) */
  backwardPlan(l: number): { layer: boolean; bottoms: readonly boolean[] } {
    return { layer: this.needBackward[l]!, bottoms: this.propagateDown[l]! };
  }

  /** the learnable parameter blobs in order, with their multipliers */
  learnableParams(): ParamEntry[] {
    return this.paramEntries.filter((e) => e.learnable);
  }
}

function filterLayers(def: Msg, state: NetState): LayerSpec[] {
  const out: LayerSpec[] = [];
  for (const l of def.msgs('layer')) {
    if (l.str('type') === '') throw new DefinitionError(`layer '${l.str('name')}' has no type`, l.loc());
    if (l.msgs('include').length > 0 && l.msgs('exclude').length > 0) {
      throw new DefinitionError(`layer '${l.str('name')}' has both include and exclude rules; give one kind`, l.loc('include'));
    }
    if (!layerIncluded(state, l)) continue;
    out.push({ def: l, name: l.str('name'), type: l.str('type'), bottoms: l.strs('bottom'), tops: l.strs('top') });
  }
  return out;
}

/**
 * Caffe's InsertSplits: where one top (by name and version: in-place layers make new versions) feeds
 * more than one bottom, a Split layer gives each consumer its own copy.
 */
function insertSplits(specs: LayerSpec[]): LayerSpec[] {
  // producer of the current version of each name: [spec index, top index]; -1 for net inputs
  const producer = new Map<string, string>();
  const consumers = new Map<string, { layer: number; bottom: number }[]>();
  specs.forEach((s, li) => {
    s.bottoms.forEach((b, bi) => {
      const key = producer.get(b) ?? `input:${b}`;
      const list = consumers.get(key) ?? [];
      list.push({ layer: li, bottom: bi });
      consumers.set(key, list);
    });
    s.tops.forEach((t, ti) => producer.set(t, `${li}:${ti}`));
  });
  const renamed = specs.map((s) => ({ ...s, bottoms: s.bottoms.slice() }));
  const splitsAfter = new Map<number, LayerSpec[]>();
  for (const [key, list] of consumers) {
    if (list.length < 2 || key.startsWith('input:')) continue;
    const [li, ti] = key.split(':').map(Number) as [number, number];
    const src = specs[li]!;
    const blob = src.tops[ti]!;
    const name = `${blob}_${src.name}_${ti}_split`;
    const tops = list.map((_, k) => `${name}_${k}`);
    list.forEach((c, k) => {
      renamed[c.layer]!.bottoms[c.bottom] = tops[k]!;
    });
    const def = parsePrototxt(`name: "${name}" type: "Split"`, 'LayerParameter', src.def.file);
    const arr = splitsAfter.get(li) ?? [];
    arr.push({ def, name, type: 'Split', bottoms: [blob], tops });
    splitsAfter.set(li, arr);
  }
  const out: LayerSpec[] = [];
  renamed.forEach((s, i) => {
    out.push(s);
    out.push(...(splitsAfter.get(i) ?? []));
  });
  return out;
}
