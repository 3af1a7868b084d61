/**
 * `pgas-run --dashboard`: a live web page of the job, served by the launcher, and a static copy of it
 * written into the results folder when the job ends.
 *
 *   ranks --(metric records, WebSocket /feed?key=FEED)--> launcher: JobAggregator --(ticks, 10/s)--> pages
 *   launcher's own view of each rank process (exit seen at once) ------^
 *
 * Ranks learn where to report from PGAS_METRICS_FEED (set here through the launcher's -x list, so it
 * reaches local and remote ranks alike); runtime/metrics-feed is their side.
 */
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FEED_ENV } from '../../metrics-feed/publish.js';
import type { LaunchOptions } from '../args.js';
import { UsageError } from '../errors.js';
import type { JobObserver } from '../job.js';
import { formatHostPort } from '../rank-env.js';
import { formatSummary, type JobReport } from '../summary.js';
import { JobAggregator } from './aggregate.js';
import { makeKey } from './key.js';
import type { EndMessage, JobMeta } from './messages.js';
import { dashboardHtml } from './page-html.js';
import { DashboardServer } from './server.js';

/** ticks to the pages (and points on the curves) per second */
const TICK_MS = 100;
/** the page's last messages need a moment on the wire before the launcher exits */
const FLUSH_MS = 150;

export interface Dashboard {
  /** the page's address, key included (printed for the user) */
  readonly url: string;
  readonly observer: JobObserver;
  /** the job ended: last tick, the static report (returns its path), the end message to the pages */
  finish(report: JobReport): Promise<string | null>;
  close(): void;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function reportFile(options: LaunchOptions, started: Date): string {
  const dir = options.dashboardDir ?? options.outputDir;
  if (dir !== undefined) return join(dir, 'dashboard.html');
  const stamp = started.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return resolve(`pgas-run-dashboard-${stamp}.html`);
}

/** Write atomically: a reader never sees half a report. */
function writeReport(path: string, html: string): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, html);
  renameSync(tmp, path);
}

/**
 * Start the dashboard for a job about to be launched with `options` (it adds PGAS_METRICS_FEED to the
 * ranks' environment). The caller passes `observer` to the job and calls finish() and close().
 */
export async function startDashboard(options: LaunchOptions, log: (text: string) => void): Promise<Dashboard> {
  const size = options.ranks!;
  const started = new Date();
  const meta: JobMeta = {
    program: [options.program, ...options.programArgs].join(' ').slice(0, 200),
    size,
    transport: options.transport,
    hosts: options.hostfile === undefined ? 'localhost' : `hosts of ${options.hostfile}`,
    startedAt: started.getTime(),
  };
  const aggregator = new JobAggregator(meta, performance.now());
  const viewKey = makeKey();
  const feedKey = makeKey();
  let server: DashboardServer | undefined;
  const pushTick = (): void => {
    const tick = aggregator.tick(performance.now());
    if (server && server.pages > 0) server.broadcast(JSON.stringify(tick));
  };
  server = new DashboardServer({
    host: options.dashboardHost,
    viewKey,
    feedKey,
    size,
    log,
    handlers: {
      page: () => dashboardHtml(),
      hello: () => JSON.stringify(aggregator.hello(performance.now())),
      record: (record) => aggregator.ingest(record, performance.now()),
      feedClosed: (rank) => aggregator.feedClosed(rank, performance.now()),
    },
  });
  let port: number;
  try {
    port = await server.listen(options.dashboardPort ?? 0);
  } catch (err) {
    throw new UsageError(`--dashboard: ${(err as Error).message}`);
  }
  const ticker = setInterval(pushTick, TICK_MS);
  ticker.unref();

  const host = options.dashboardHost;
  const pageHost = isWildcard(host) ? hostname() : host;
  // Local ranks reach a wildcard-bound dashboard on loopback; ranks on other hosts need a name.
  const feedHost = isWildcard(host) ? (options.hostfile === undefined ? '127.0.0.1' : hostname()) : host;
  options.env.push([FEED_ENV, `ws://${formatHostPort(feedHost, port)}/feed?key=${feedKey}`]);
  const url = `http://${formatHostPort(pageHost, port)}/?key=${viewKey}`;
  log(`pgas-run: dashboard: ${url}\n`);

  const observer: JobObserver = {
    started: (processes) => {
      for (const p of processes) {
        void p.exit.then((exit) => {
          aggregator.rankExited(p.rank, exit);
          pushTick(); // a death is shown now, not at the next tick
        });
      }
    },
  };

  return {
    url,
    observer,
    async finish(report) {
      for (const o of report.outcomes) if (o.stoppedByLauncher) aggregator.rankStoppedByLauncher(o.rank);
      pushTick();
      const path = reportFile(options, started);
      const end: EndMessage = { type: 'end', exitCode: report.exitCode, summary: formatSummary(report), reportPath: path };
      let written: string | null = path;
      try {
        writeReport(path, dashboardHtml({ hello: aggregator.hello(performance.now()), end }));
        log(`pgas-run: dashboard report: ${path}\n`);
      } catch (err) {
        written = null;
        end.reportPath = null;
        log(`pgas-run: dashboard: cannot write the report ${path}: ${(err as Error).message}\n`);
      }
      server?.broadcast(JSON.stringify(end));
      await new Promise((r) => setTimeout(r, FLUSH_MS));
      return written;
    },
    close() {
      clearInterval(ticker);
      server?.close();
      server = undefined;
    },
  };
}
