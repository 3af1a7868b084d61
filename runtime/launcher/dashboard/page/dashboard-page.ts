/**
 * The dashboard page: runs in the browser, as one ES module without imports (uPlot is a global, inlined
 * before it), so that the same script works served live and inlined into the static report (file://
 * pages cannot import modules).
 *
 * Messages only change the model; drawing happens once per animation frame, and only when something
 * changed: 64 ranks reporting 10 times a second each cost one table update and one redraw per chart per
 * frame at most, however the updates arrive (one tick with every rank, or one message per rank).
 *
 * The project's tsconfig is Node's (no DOM library: adding it would change the types of every Node file),
 * so the few browser APIs used here are declared below, module-local.
 */
import type {
  DashboardMessage, EndMessage, HelloMessage, JobMeta, JobView, RankView, StaticReportData, TickMessage,
} from '../messages.js';

// ---- the browser APIs this page uses -----------------------------------------------------------

interface Style {
  width: string;
  background: string;
}
interface Elem {
  textContent: string | null;
  className: string;
  hidden: boolean;
  title: string;
  readonly style: Style;
  readonly clientWidth: number;
  appendChild<T extends Elem>(child: T): T;
  setAttribute(name: string, value: string): void;
}
interface Doc {
  getElementById(id: string): Elem | null;
  createElement(tag: string): Elem;
  title: string;
}
interface Sock {
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
}
interface Win {
  location: { search: string; host: string; protocol: string };
  requestAnimationFrame(callback: (time: number) => void): number;
  addEventListener(type: 'resize', listener: () => void): void;
  __DASHBOARD_BOOT__?: Boot;
  __dashboard?: PageApi;
}
interface UPlot {
  setData(data: (number | null)[][], resetScales?: boolean): void;
  setSize(size: { width: number; height: number }): void;
}
declare const document: Doc;
declare const window: Win;
declare const WebSocket: new (url: string) => Sock;
declare const uPlot: new (options: object, data: (number | null)[][], target: Elem) => UPlot;

/** How the HTML starts the page: live (WebSocket to the launcher) or a static report (data embedded). */
type Boot = { mode: 'live' } | { mode: 'static'; data: StaticReportData };

/** What tests and the benchmark reach through window.__dashboard. */
interface PageApi {
  /** points on the curves */
  points(): number;
  ranks(): RankView[];
  /** time each redraw took (ms), the latest last */
  renderMs: number[];
  /** feed a message as if it had come from the launcher */
  apply(message: DashboardMessage): void;
  ended(): boolean;
}

// ---- model ----------------------------------------------------------------------------------------

/**
 * Points kept per curve; when full every other one is dropped (the launcher does the same). A chart
 * is a few hundred pixels wide: more points cost drawing time (64 ranks x 3 charts) and show nothing.
 */
const MAX_POINTS = 800;
/**
 * A chart is redrawn at most this often (ms), and one chart per frame at most: drawing 64 curves is
 * the page's one expensive job, and spread out like this it never takes a whole frame's budget three
 * times over. The table still updates every frame.
 */
const CHART_MIN_INTERVAL_MS = 200;
/**
 * And no more often than keeps drawing under about 1/DRAW_SHARE of the main thread: each chart's
 * last draw time sets its interval, so a slow machine (or a busy one) gets fewer redraws, not a page
 * that stops responding.
 */
const DRAW_SHARE = 5;
/**
 * The table and header are rewritten at most this often (ms), unless a rank's health changed (shown in
 * the next frame): numbers changing 10 times a second cannot be read anyway, and every rewrite costs a
 * layout.
 */
const TABLE_MIN_INTERVAL_MS = 250;
/** A new point on the curves at most this often (s): per-rank messages fold into one point. */
const POINT_EVERY_S = 0.09;
const RENDER_SAMPLES = 20000;

class Model {
  meta: JobMeta | null = null;
  t: number[] = [];
  rate: (number | null)[][] = [];
  loss: (number | null)[][] = [];
  error: (number | null)[][] = [];
  latest: RankView[] = [];
  job: JobView | null = null;
  end: EndMessage | null = null;
  lastPointT = -Infinity;
  /** what changed since the last frame */
  tableDirty = false;
  /** a rank's health changed since the last frame: show it now */
  healthChanged = false;
  chartsDirty = false;
  /** bumped whenever the curves change; each chart remembers the version it drew */
  curvesVersion = 0;
  headerDirty = false;
  /** the structure (number of ranks) changed: rebuild the table and charts */
  rebuild = false;

  hello(h: HelloMessage): void {
    this.meta = h.meta;
    const positive = (a: (number | null)[]): (number | null)[] => a.map((v) => (v !== null && v > 0 ? v : null));
    this.t = h.history.t.slice();
    this.rate = h.history.rate.map((a) => a.slice());
    this.loss = h.history.loss.map(positive);
    this.error = h.history.error.map(positive);
    this.latest = h.tick.ranks.slice();
    this.job = h.tick.job;
    while (this.t.length > MAX_POINTS) this.thin();
    this.lastPointT = this.t.length ? this.t[this.t.length - 1]! : -Infinity;
    this.curvesVersion++;
    this.rebuild = this.tableDirty = this.chartsDirty = this.headerDirty = this.healthChanged = true;
  }

  tick(m: TickMessage): void {
    if (this.meta === null) return;
    for (const v of m.ranks) {
      if (v.rank < 0 || v.rank >= this.latest.length) continue;
      if (this.latest[v.rank]!.health !== v.health) this.healthChanged = true;
      this.latest[v.rank] = v;
    }
    this.job = m.job;
    this.tableDirty = this.headerDirty = true;
    if (m.t - this.lastPointT >= POINT_EVERY_S) {
      this.lastPointT = m.t;
      if (this.t.length >= MAX_POINTS) this.thin();
      this.t.push(m.t);
      this.latest.forEach((v, r) => {
        const gone = v.health === 'dead';
        this.rate[r]!.push(v.rate);
        this.loss[r]!.push(!gone && v.loss !== null && v.loss > 0 ? v.loss : null);
        this.error[r]!.push(!gone && v.error !== null && v.error > 0 ? v.error : null);
      });
      this.chartsDirty = true;
      this.curvesVersion++;
    }
  }

  private thin(): void {
    const keepEven = <T>(a: T[]): void => {
      let w = 0;
      for (let i = 0; i < a.length; i += 2) a[w++] = a[i]!;
      a.length = w;
    };
    keepEven(this.t);
    for (const s of [this.rate, this.loss, this.error]) s.forEach(keepEven);
  }

  hasErrors(): boolean {
    return this.latest.some((v) => v.error !== null);
  }
}

// ---- formatting -----------------------------------------------------------------------------------

function compact(n: number | null): string {
  if (n === null) return '—';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function precise(n: number | null): string {
  return n === null ? '—' : n.toPrecision(4);
}

function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Tick labels of a log axis: 0.001 and 2e-5 rather than uPlot's fixed decimals ("0"). */
function logTicks(_plot: unknown, splits: (number | null)[]): string[] {
  return splits.map((v) => {
    if (v === null || !Number.isFinite(v)) return ''; // uPlot passes null for ticks it leaves unlabelled
    return v >= 0.01 && v < 1e5 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
  });
}

function rankColor(r: number): string {
  return `hsl(${(r * 137.508) % 360}, 65%, 42%)`;
}

// ---- view -----------------------------------------------------------------------------------------

function el(id: string): Elem {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`dashboard page: element #${id} is missing`);
  return e;
}

/** Set a text only when it changed: DOM writes are what costs, reading our own cache is free. */
class TextCell {
  private last: string | null = null;
  constructor(readonly node: Elem) {}
  set(text: string): void {
    if (text === this.last) return;
    this.last = text;
    this.node.textContent = text;
  }
}

const COLUMNS = ['rank', 'host', 'pid', 'health', 'samples/s', 'samples', 'loss', 'error', 'sent', 'received', 'accepted', 'progress', 'note'] as const;

class RankRow {
  readonly cells: TextCell[];
  private health = '';
  constructor(readonly row: Elem, rank: number) {
    row.setAttribute('data-rank', String(rank));
    this.cells = COLUMNS.map((name) => {
      const td = row.appendChild(document.createElement('td'));
      td.className = `col-${name.replace(/[^a-z]/g, '')}`;
      if (name === 'rank') {
        const swatch = td.appendChild(document.createElement('span'));
        swatch.className = 'swatch';
        swatch.style.background = rankColor(rank);
        return new TextCell(td.appendChild(document.createElement('span')));
      }
      return new TextCell(td);
    });
  }

  update(v: RankView): void {
    if (v.health !== this.health) {
      this.health = v.health;
      this.row.setAttribute('data-health', v.health);
      this.row.className = `health-${v.health}`;
    }
    const accepted = v.accepted === null ? '—'
      : `${compact(v.accepted)}${v.received ? ` (${Math.round((100 * v.accepted) / v.received)}%)` : ''}`;
    const texts = [
      String(v.rank), v.host || '—', v.pid === null ? '—' : String(v.pid), v.health,
      compact(v.rate), compact(v.samples), precise(v.loss), precise(v.error),
      compact(v.sent), compact(v.received), accepted,
      v.progress === null ? '—' : `${(100 * v.progress).toFixed(1)}%`, v.reason,
    ];
    texts.forEach((t, i) => this.cells[i]!.set(t));
  }
}

interface Chart {
  plot: UPlot;
  box: Elem;
  series: (m: Model) => (number | null)[][];
  drawnVersion: number;
  drawnAt: number;
  /** how long its last draw took (ms) */
  drawMs: number;
}

const CHART_HEIGHT = 220;
/** the .chart box's CSS padding (px) */
const CHART_PADDING = 4;

class View {
  private rows: RankRow[] = [];
  private charts: Chart[] = [];
  private readonly header = {
    status: new TextCell(el('status')),
    meta: new TextCell(el('meta')),
    elapsed: new TextCell(el('elapsed')),
    progress: new TextCell(el('progress-text')),
    eta: new TextCell(el('eta')),
    rate: new TextCell(el('rate')),
    counts: new TextCell(el('counts')),
  };
  private readonly bar = el('progress-bar');
  private lastBar = '';
  private tableAt = -Infinity;

  constructor(private readonly model: Model, readonly renderMs: number[]) {}

  /**
   * Draw what changed. Returns in how many ms a chart that still shows old data may be redrawn (the
   * caller asks for a frame then), or -1 when every chart is current.
   */
  render(now: number): number {
    const started = performance.now();
    const m = this.model;
    if (m.rebuild) this.build();
    const tableDue = m.healthChanged || now - this.tableAt >= TABLE_MIN_INTERVAL_MS;
    if (tableDue && (m.headerDirty || m.tableDirty)) {
      if (m.headerDirty) this.renderHeader();
      if (m.tableDirty) m.latest.forEach((v, r) => this.rows[r]?.update(v));
      m.headerDirty = m.tableDirty = m.healthChanged = false;
      this.tableAt = now;
    }
    if (m.chartsDirty) {
      const errorBox = this.charts[2]?.box;
      if (errorBox && errorBox.hidden === m.hasErrors()) {
        errorBox.hidden = !errorBox.hidden;
        this.resize(); // the grid gave the other charts a new width
      }
    }
    const visible = this.charts.filter((c) => !c.box.hidden);
    const interval = (c: Chart): number => Math.max(CHART_MIN_INTERVAL_MS, DRAW_SHARE * visible.length * c.drawMs);
    const stale = visible.filter((c) => c.drawnVersion !== m.curvesVersion);
    const due = stale.filter((c) => now - c.drawnAt >= interval(c)).sort((a, b) => a.drawnAt - b.drawnAt)[0];
    if (due) {
      const drawStarted = performance.now();
      due.plot.setData(due.series(m));
      due.drawnVersion = m.curvesVersion;
      due.drawnAt = now;
      // uPlot draws in a microtask it queued in setData; this one runs after it.
      queueMicrotask(() => { due.drawMs = performance.now() - drawStarted; });
    }
    m.rebuild = m.chartsDirty = false;
    if (this.renderMs.length >= RENDER_SAMPLES) this.renderMs.splice(0, RENDER_SAMPLES / 2);
    queueMicrotask(() => this.renderMs.push(performance.now() - started));
    const waits = stale.filter((c) => c !== due).map((c) => c.drawnAt + interval(c) - now);
    if (m.headerDirty || m.tableDirty) waits.push(this.tableAt + TABLE_MIN_INTERVAL_MS - now);
    return waits.length === 0 ? -1 : Math.max(0, Math.min(...waits));
  }

  resize(): void {
    for (const c of this.charts) c.plot.setSize({ width: this.chartWidth(c.box), height: CHART_HEIGHT });
  }

  private chartWidth(box: Elem): number {
    return Math.max(300, (box.clientWidth || 600) - 2 * CHART_PADDING);
  }

  private build(): void {
    const m = this.model;
    const meta = m.meta!;
    document.title = `pgas-run: ${meta.program} (${meta.size} ranks)`;
    const body = el('rank-rows');
    body.textContent = '';
    this.rows = m.latest.map((_, r) => new RankRow(body.appendChild(document.createElement('tr')), r));
    const charts = el('charts');
    charts.textContent = '';
    /** optional: hidden until some rank reports values for it */
    const make = (title: string, unit: string, log: boolean, series: (m: Model) => (number | null)[][], optional = false): Chart => {
      const box = charts.appendChild(document.createElement('div'));
      box.className = 'chart';
      box.hidden = optional;
      const opts = {
        title,
        width: this.chartWidth(box),
        height: CHART_HEIGHT,
        legend: { show: false },
        cursor: { points: { show: false } },
        scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
        axes: [{ label: 'seconds' }, { label: unit, size: 70, ...(log ? { values: logTicks } : {}) }],
        series: [{ label: 't' }, ...m.latest.map((_, r) => ({ label: `rank ${r}`, stroke: rankColor(r), width: 1, points: { show: false } }))],
      };
      return { plot: new uPlot(opts, series(m), box), box, series, drawnVersion: m.curvesVersion, drawnAt: -Infinity, drawMs: 0 };
    };
    this.charts = [
      make('samples / s per rank', 'samples/s', false, (x) => [x.t, ...x.rate]),
      make('training loss per rank', 'loss (log)', true, (x) => [x.t, ...x.loss]),
      make('error per rank', 'error (log)', true, (x) => [x.t, ...x.error], true),
    ];
  }

  private renderHeader(): void {
    const m = this.model;
    const meta = m.meta!;
    const job = m.job;
    const h = this.header;
    h.meta.set(`${meta.program} · ${meta.size} rank${meta.size === 1 ? '' : 's'} · transport ${meta.transport} · ${meta.hosts}`);
    if (m.end !== null) h.status.set(`finished: exit status ${m.end.exitCode}`);
    else h.status.set('running');
    if (job === null) return;
    h.elapsed.set(duration(job.elapsed));
    h.rate.set(`${compact(job.rate)} samples/s`);
    const c = job.counts;
    h.counts.set(`${c.alive} alive · ${c.slow} slow · ${c.dead} dead · ${c.done} done${c.starting ? ` · ${c.starting} starting` : ''}${c.stopped ? ` · ${c.stopped} stopped` : ''}`);
    const p = m.end !== null && m.end.exitCode === 0 ? 1 : job.progress;
    h.progress.set(p === null ? '—' : `${(100 * p).toFixed(1)}%`);
    h.eta.set(m.end !== null ? '—' : duration(job.eta));
    const width = `${p === null ? 0 : (100 * p).toFixed(1)}%`;
    if (width !== this.lastBar) {
      this.lastBar = width;
      this.bar.style.width = width;
    }
  }
}

// ---- wiring ---------------------------------------------------------------------------------------

class Page {
  readonly model = new Model();
  readonly renderMs: number[] = [];
  private view: View | null = null;
  private scheduled = false;

  apply(message: DashboardMessage): void {
    if (message.type === 'hello') this.model.hello(message);
    else if (message.type === 'tick') this.model.tick(message);
    else if (message.type === 'end') this.showEnd(message);
    this.schedule();
  }

  private showEnd(end: EndMessage): void {
    this.model.end = end;
    this.model.headerDirty = true;
    const summary = el('summary');
    summary.hidden = false;
    summary.textContent = `${end.summary}${end.reportPath ? `report: ${end.reportPath}\n` : ''}`;
  }

  connectionLost(code: number): void {
    if (this.model.end !== null) return;
    const status = el('status');
    status.textContent = code === 1008 || code === 1006 ? 'connection to pgas-run lost' : `connection to pgas-run closed (${code})`;
  }

  /** Draw in the next animation frame, once, however many messages arrive before it. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    window.requestAnimationFrame((now) => {
      this.scheduled = false;
      if (this.model.meta === null) return;
      this.view ??= new View(this.model, this.renderMs);
      const next = this.view.render(now);
      // Not a frame loop: an idle page draws nothing, and a chart waits for its turn without frames.
      if (next >= 0) setTimeout(() => this.schedule(), next);
    });
  }

  resize(): void {
    this.view?.resize();
  }
}

function start(): void {
  const page = new Page();
  window.__dashboard = {
    points: () => page.model.t.length,
    ranks: () => page.model.latest.slice(),
    renderMs: page.renderMs,
    apply: (message) => page.apply(message),
    ended: () => page.model.end !== null,
  };
  window.addEventListener('resize', () => page.resize());
  const boot = window.__DASHBOARD_BOOT__ ?? { mode: 'live' };
  if (boot.mode === 'static') {
    page.apply(boot.data.hello);
    page.apply(boot.data.end);
    return;
  }
  const key = new URLSearchParams(window.location.search).get('key') ?? '';
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws?key=${encodeURIComponent(key)}`);
  socket.onmessage = (event) => {
    if (typeof event.data === 'string') page.apply(JSON.parse(event.data) as DashboardMessage);
  };
  socket.onclose = (event) => page.connectionLost(event.code);
}

start();
