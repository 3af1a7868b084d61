/**
 * Does the dashboard page keep up with 64 ranks reporting 10 times a second each? Frame times of the
 * page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core), measured in the
 * page with requestAnimationFrame timestamps and the Long Tasks API, and the CPU time Chromium used
 * (from /proc), under three loads, beside a baseline measured in the same run ("quiet": the same page
 * with 64 ranks and no updates):
 *
 *   launcher  the real path: 64 fake ranks (WebSocket clients in this process) send records at 10 Hz
 *             to the launcher's dashboard server and aggregator, which push ticks of all 64 ranks
 *             10 times a second to the page (curves start empty)
 *   unbatched 64 x 10 = 640 single-rank messages a second fed straight into the page (no batching by
 *             the launcher: the page's own per-frame batching does all the work)
 *   full      ticks of all 64 ranks at 10 Hz into a page whose curves are already full (1,200 points,
 *             the page's most, x 64 ranks x 3 charts: a long job)
 *
 *   node dist/bench/dashboard-main.js [--seconds 10] [--json FILE]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { defaultOptions } from '../runtime/launcher/args.js';
import { startDashboard } from '../runtime/launcher/dashboard/index.js';
import { JobAggregator } from '../runtime/launcher/dashboard/aggregate.js';
import type { StaticReportData } from '../runtime/launcher/dashboard/messages.js';
import { dashboardHtml } from '../runtime/launcher/dashboard/page-html.js';

const CHROMIUM = '/usr/bin/chromium';
const RANKS = 64;
const HZ = 10;

interface FrameStats {
  /**
   * CPU time per second of wall time (ms/s) of the page's renderer main thread, and of every Chromium
   * process together (raster and compositing included). Unlike frame times, CPU time does not grow
   * when other work on the machine takes the cores: it says what the page costs.
   */
  mainThreadCpuMsPerS: number;
  chromiumCpuMsPerS: number;
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** frames that took longer than two 60 Hz frames (33.4 ms): visible stutter */
  slowFrames: number;
  longTasks: number;
  longTaskMs: number;
  renders: number;
  renderP50: number;
  renderP95: number;
  renderMax: number;
  points: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1] ?? fallback;
}

/** In the page: record every animation frame's timestamp and every long task from now on. */
const START_PROBE = `(() => {
  const probe = { frames: [], longTasks: [], renderStart: window.__dashboard ? window.__dashboard.renderMs.length : 0, stop: false };
  window.__probe = probe;
  const tick = (t) => { probe.frames.push(t); if (!probe.stop) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) probe.longTasks.push(e.duration); }).observe({ type: 'longtask' });
})()`;

const STOP_PROBE = `(() => {
  const p = window.__probe; p.stop = true;
  const d = window.__dashboard;
  return JSON.stringify({ frames: p.frames, longTasks: p.longTasks, render: d ? d.renderMs.slice(p.renderStart) : [], points: d ? d.points() : 0 });
})()`;

const CLOCK_TICKS_PER_S = 100;

/** utime + stime (ms) of a /proc stat line */
function statCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** CPU used so far by the Chromium processes this benchmark started (descendants of this process). */
function chromiumCpu(): { mainThreadMs: number; allMs: number } {
  const parent = new Map<number, number>();
  const stats = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      stats.set(Number(name), stat);
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const ours = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let mainThreadMs = 0;
  let allMs = 0;
  for (const [pid, stat] of stats) {
    if (!ours(pid) || !stat.includes('(chrom')) continue;
    allMs += statCpuMs(stat);
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) {
        mainThreadMs += statCpuMs(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
      }
    } catch { /* gone */ }
  }
  return { mainThreadMs, allMs };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(page: Page, seconds: number): Promise<FrameStats> {
  await page.evaluate(START_PROBE);
  const cpuBefore = chromiumCpu();
  const wallBefore = performance.now();
  await page.waitForTimeout(seconds * 1000);
  const cpuAfter = chromiumCpu();
  const wallS = (performance.now() - wallBefore) / 1000;
  const raw = JSON.parse(await page.evaluate(STOP_PROBE) as string) as { frames: number[]; longTasks: number[]; render: number[]; points: number };
  const intervals = raw.frames.slice(1).map((t, i) => t - raw.frames[i]!).sort((a, b) => a - b);
  const render = [...raw.render].sort((a, b) => a - b);
  return {
    mainThreadCpuMsPerS: (cpuAfter.mainThreadMs - cpuBefore.mainThreadMs) / wallS,
    chromiumCpuMsPerS: (cpuAfter.allMs - cpuBefore.allMs) / wallS,
    frames: raw.frames.length,
    p50: quantile(intervals, 0.5),
    p95: quantile(intervals, 0.95),
    p99: quantile(intervals, 0.99),
    max: intervals.at(-1) ?? NaN,
    slowFrames: intervals.filter((x) => x > 33.4).length,
    longTasks: raw.longTasks.length,
    longTaskMs: raw.longTasks.reduce((a, b) => a + b, 0),
    renders: render.length,
    renderP50: quantile(render, 0.5),
    renderP95: quantile(render, 0.95),
    renderMax: render.at(-1) ?? NaN,
    points: raw.points,
  };
}

/** 64 fake ranks sending records to the launcher's feed at 10 Hz each, staggered. */
function fakeRanks(feedUrl: string): { stop: () => void } {
  const timers: NodeJS.Timeout[] = [];
  const sockets: WebSocket[] = [];
  const started = performance.now();
  for (let r = 0; r < RANKS; r++) {
    const ws = new WebSocket(feedUrl);
    sockets.push(ws);
    const speed = 50000 * (0.6 + 0.8 * ((r * 37) % 64) / 64);
    ws.once('open', () => {
      const first = setTimeout(() => {
        timers.push(setInterval(() => {
          const t = performance.now() - started;
          const samples = Math.floor((speed * t) / 1000);
          ws.send(JSON.stringify({
            rank: r, pid: 10000 + r, host: `node${String(r >> 3).padStart(2, '0')}`, time: t, samples, steps: samples >> 10,
            loss: 0.5 * Math.exp(-t / 20000) + 0.01 * Math.random() + 0.05, error: 0.3 * Math.exp(-t / 8000) + 1e-4,
            sent: samples >> 10, received: samples >> 10, accepted: samples >> 12, progress: Math.min(1, t / 600000),
            transport: 'uws', solver: 'asgd', deadPeers: [],
          }));
        }, 1000 / HZ));
      }, (r * 1000) / HZ / RANKS);
      timers.push(first);
    });
  }
  return { stop: () => { for (const t of timers) clearInterval(t); for (const s of sockets) s.close(); } };
}

/** In the page: a job of 64 ranks with `history` points already on the curves, then `mode` load. */
function pageLoad(mode: 'unbatched' | 'full' | 'none', history: number): string {
  return `(() => {
  const R = ${RANKS}, HZ = ${HZ}, H = ${history};
  const view = (r, t) => ({ rank: r, host: 'node' + (r >> 3), pid: 10000 + r, health: 'alive', reason: '', rate: 40000 + 20000 * Math.sin(t / 3 + r),
    samples: Math.floor(50000 * t), steps: Math.floor(50 * t), loss: 0.5 * Math.exp(-t / 20) + 0.05 + 0.01 * Math.random(), error: 0.3 * Math.exp(-t / 8) + 1e-4,
    sent: Math.floor(50 * t), received: Math.floor(50 * t), accepted: Math.floor(12 * t), progress: Math.min(1, t / 600), transport: 'uws', solver: 'asgd' });
  const job = (t) => ({ elapsed: t, progress: t / 600, eta: 600 - t, rate: R * 50000, counts: { starting: 0, alive: R, slow: 0, dead: 0, done: 0, stopped: 0 } });
  const ts = Array.from({ length: H }, (_, i) => i / HZ);
  const series = (f) => Array.from({ length: R }, (_, r) => ts.map((t) => f(r, t)));
  let t0 = H / HZ;
  window.__dashboard.apply({ type: 'hello', meta: { program: 'bench', size: R, transport: 'uws', hosts: 'fake', startedAt: Date.now() },
    history: { t: ts, rate: series((r, t) => view(r, t).rate), loss: series((r, t) => view(r, t).loss), error: series((r, t) => view(r, t).error) },
    tick: { type: 'tick', t: t0, job: job(t0), ranks: Array.from({ length: R }, (_, r) => view(r, t0)) } });
  const start = performance.now();
  const now = () => t0 + (performance.now() - start) / 1000;
  if (${JSON.stringify(mode)} === 'unbatched') {
    for (let r = 0; r < R; r++) setTimeout(() => setInterval(() => { const t = now(); window.__dashboard.apply({ type: 'tick', t, job: job(t), ranks: [view(r, t)] }); }, 1000 / HZ), r * 1000 / HZ / R);
  } else if (${JSON.stringify(mode)} === 'full') {
    setInterval(() => { const t = now(); window.__dashboard.apply({ type: 'tick', t, job: job(t), ranks: Array.from({ length: R }, (_, r) => view(r, t)) }); }, 1000 / HZ);
  }
})()`;
}

/** An empty 64-rank report: the page without a connection. */
function staticShell(): StaticReportData {
  const agg = new JobAggregator({ program: 'bench', size: RANKS, transport: 'uws', hosts: 'fake', startedAt: Date.now() }, 0);
  return { hello: agg.hello(0), end: { type: 'end', exitCode: 0, summary: '', reportPath: null } };
}

function row(name: string, s: FrameStats, base: FrameStats): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');
  return `${name.padEnd(10)} CPU: page main thread ${f(s.mainThreadCpuMsPerS)} ms/s, all Chromium ${f(s.chromiumCpuMsPerS)} ms/s  frames ${String(s.frames).padStart(4)}  interval p50 ${f(s.p50)} p95 ${f(s.p95)} p99 ${f(s.p99)} max ${f(s.max)} ms ` +
    `(p95 ${f(s.p95 / base.p95)}x quiet)  >33ms ${s.slowFrames}  long tasks ${s.longTasks} (${f(s.longTaskMs)} ms)  ` +
    `redraws ${s.renders} p50 ${f(s.renderP50)} p95 ${f(s.renderP95)} max ${f(s.renderMax)} ms  points ${s.points}`;
}

async function main(): Promise<void> {
  const seconds = Number(arg('--seconds', '10'));
  const json = process.argv.includes('--json') ? arg('--json', '') : undefined;
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`dashboard bench: ${CHROMIUM} is absent (Debian package chromium); nothing measured\n`);
    process.exit(1);
  }
  const options = { ...defaultOptions(), ranks: RANKS, program: 'bench', dashboardPort: 0, dashboardDir: undefined };
  const logs: string[] = [];
  const dashboard = await startDashboard(options, (l) => logs.push(l));
  const feedUrl = options.env.find(([k]) => k === 'PGAS_METRICS_FEED')![1]!;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const results: Record<string, FrameStats> = {};
  try {
    const open = async (): Promise<Page> => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
      page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
      await page.goto(dashboard.url);
      await page.waitForFunction('document.querySelectorAll("tr[data-rank]").length === 64');
      return page;
    };
    const live = await open();
    const ranks = fakeRanks(feedUrl);
    await live.waitForTimeout(2000);
    results.launcher = await measure(live, seconds);
    ranks.stop();
    await live.close();

    for (const mode of ['quiet', 'unbatched', 'full'] as const) {
      // The page as the static report builds it (no connection to the launcher): fed by the script below only.
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
      page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
      await page.setContent(dashboardHtml(staticShell()));
      await page.evaluate(pageLoad(mode === 'quiet' ? 'none' : mode, mode === 'full' ? 1200 : 0));
      await page.waitForFunction('document.querySelectorAll("tr[data-rank]").length === 64');
      await page.waitForTimeout(1000);
      results[mode] = await measure(page, seconds);
      await page.close();
    }
  } finally {
    await browser.close();
    dashboard.close();
  }
  const base = results.quiet!;
  const lines = [
    `dashboard page, headless Chromium (${CHROMIUM}), ${RANKS} ranks x ${HZ} updates/s, ${seconds} s per load`,
    row('quiet', base, base),
    row('launcher', results.launcher!, base),
    row('unbatched', results.unbatched!, base),
    row('full', results.full!, base),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
}

await main();
process.exit(0);
