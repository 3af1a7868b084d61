/**
 * The dashboard end to end, in a real browser: a 4-rank ASGD K-Means job started by pgas-run with
 * --dashboard, the page loaded in headless Chromium (Debian's, driven by playwright-core; no browser
 * download). The page must show 4 ranks with advancing curves; a rank SIGKILLed by its PID (read off
 * the page) must turn dead while the others go on (--tolerate-failures); requests and WebSocket
 * upgrades without the key get 403; the static report written when the job ends (here: by Ctrl-C) opens
 * from file://.
 * Screenshots go to test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ROOT, sleep, startLauncher, uwsMissingReason } from './fixtures/launcher-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is absent (Debian package chromium), and tests never download a browser`
  : uwsMissingReason();

/** Status of an HTTP GET, or of a WebSocket upgrade (101 when it was accepted). */
async function httpStatus(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => { ws.close(); resolve(101); });
    ws.once('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('error', (err) => reject(err));
  });
}

interface PageRank {
  rank: number;
  pid: number | null;
  health: string;
  reason: string;
  samples: number | null;
}

const ranksOnPage = async (page: Page): Promise<PageRank[]> => JSON.parse(await page.evaluate('JSON.stringify(window.__dashboard.ranks())')) as PageRank[];
const pointsOnPage = async (page: Page): Promise<number> => Number(await page.evaluate('window.__dashboard.points()'));

/** The PID's parent and command line (to kill only what this test's launcher started). */
function procInfo(pid: number): { ppid: number; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') };
  } catch {
    return undefined;
  }
}

if (skipReason) {
  test('dashboard end to end in Chromium', (t) => {
    t.log(`skipped: ${skipReason}`);
    t.pass();
  });
} else {
  test.serial('dashboard: 4 ranks live, a killed rank turns dead, 403 without the key, static report', async (t) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), 'dash-e2e-'));
    let browser: Browser | undefined;
    const job = startLauncher([
      '-n', '4', '--dashboard', '--dashboard-dir', dir, '--tolerate-failures', '--kill-grace', '1000',
      'kmeans', '--size', '1G', '--dim', '4', '--k', '10', '--batch', '1000', '--time', '90', '--progress-every', '0',
    ], { timeoutMs: 110000 });
    t.teardown(async () => {
      await browser?.close();
      if (job.child.exitCode === null) job.child.kill('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    });

    // The URL is printed before any rank starts.
    let url = '';
    for (let i = 0; i < 300 && !url; i++) {
      url = /pgas-run: dashboard: (http:\/\/\S+)/.exec(job.stderr())?.[1] ?? '';
      if (!url) await sleep(100);
    }
    t.truthy(url, `no dashboard URL in the launcher's output:\n${job.stderr()}`);
    const parsed = new URL(url);
    t.is(parsed.hostname, '127.0.0.1', 'bound to loopback by default');
    const key = parsed.searchParams.get('key') ?? '';
    t.true(key.length >= 20);
    const base = `${parsed.protocol}//${parsed.host}`;
    const wsBase = `ws://${parsed.host}`;

    // Access: nothing without the key, HTTP or WebSocket, whatever the path.
    t.is(await httpStatus(url), 200);
    t.is(await httpStatus(`${base}/`), 403);
    t.is(await httpStatus(`${base}/?key=${key.slice(0, -1)}x`), 403);
    t.is(await httpStatus(`${base}/favicon.ico`), 403);
    t.is(await upgradeStatus(`${wsBase}/ws`), 403);
    t.is(await upgradeStatus(`${wsBase}/ws?key=wrong`), 403);
    t.is(await upgradeStatus(`${wsBase}/feed?key=${key}`), 403, 'the view key is not the feed key');
    t.is(await upgradeStatus(`${wsBase}/ws?key=${key}`), 101);

    // bypassCSP: the page's Content-Security-Policy forbids eval, which waitForFunction(string) uses.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);

    // 4 ranks appear and report.
    await page.waitForFunction('document.querySelectorAll("tr[data-rank]").length === 4', undefined, { timeout: 60000 });
    await page.waitForFunction(
      'window.__dashboard.ranks().every((r) => r.health === "alive" || r.health === "slow") && window.__dashboard.ranks().every((r) => r.samples > 0)',
      undefined, { timeout: 60000 },
    );
    const before = await ranksOnPage(page);
    const pointsBefore = await pointsOnPage(page);
    await sleep(1500);
    const after = await ranksOnPage(page);
    const pointsAfter = await pointsOnPage(page);
    t.true(pointsAfter > pointsBefore, `curves advance: ${pointsBefore} -> ${pointsAfter} points`);
    for (let r = 0; r < 4; r++) t.true(after[r]!.samples! > before[r]!.samples!, `rank ${r}'s samples advance`);
    t.is(await page.locator('#charts canvas').count() >= 2, true, 'the charts are drawn');

    // Kill rank 3 by the PID the page shows, after checking it is a rank of this very job.
    const pid = after[3]!.pid!;
    const info = procInfo(pid);
    t.truthy(info, `rank 3's pid ${pid} from the page is not a process`);
    t.is(info!.ppid, job.child.pid ?? -1, 'the pid on the page is a child of our launcher');
    t.regex(info!.cmdline, /kmeans/);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await page.waitForFunction('document.querySelector(\'tr[data-rank="3"]\').getAttribute("data-health") === "dead"', undefined, { timeout: 15000 });
    const deadAfterMs = Date.now() - killedAt;
    t.log(`rank 3 shown dead ${deadAfterMs} ms after SIGKILL`);
    // A peer's heartbeat verdict may reach the page before the launcher's exit report: the reason then
    // reads 'seen dead by ...' for a moment, until the exit (the cause) replaces it.
    let dead = (await ranksOnPage(page))[3]!;
    for (let deadline = Date.now() + 15000; !/SIGKILL/.test(dead.reason) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      dead = (await ranksOnPage(page))[3]!;
    }
    t.is(dead.health, 'dead');
    t.regex(dead.reason, /SIGKILL/);

    // The others go on.
    const survivors = await ranksOnPage(page);
    await sleep(1500);
    const later = await ranksOnPage(page);
    for (let r = 0; r < 3; r++) {
      t.not(later[r]!.health, 'dead', `rank ${r} lives on (${later[r]!.reason}); launcher:\n${job.stderr().slice(-4000)}`);
      t.true(later[r]!.samples! > survivors[r]!.samples!, `rank ${r} goes on after rank 3 died`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live.png'), fullPage: true });

    // End the job now (Ctrl-C) rather than wait out its budget: the report is written however it ends.
    job.child.kill('SIGINT');
    const result = await job.done;
    t.is(result.code, 130, result.stderr);
    const reportPath = join(dir, 'dashboard.html');
    t.regex(result.stderr, /pgas-run: dashboard report: /, result.stderr);
    t.true(existsSync(reportPath), 'the static report exists');
    await page.waitForFunction('window.__dashboard.ended()', undefined, { timeout: 10000 }).catch(() => {});
    const report = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
    report.on('pageerror', (e) => pageErrors.push(`report: ${e.message}`));
    await report.goto(pathToFileURL(reportPath).href);
    await report.waitForFunction('window.__dashboard && window.__dashboard.ended() && document.querySelectorAll("tr[data-rank]").length === 4', undefined, { timeout: 15000 });
    const final = await ranksOnPage(report);
    t.is(final[3]!.health, 'dead', 'the report shows rank 3 dead');
    t.deepEqual(final.slice(0, 3).map((r) => r.health), ['stopped', 'stopped', 'stopped'], 'Ctrl-C stopped the others');
    t.true(await pointsOnPage(report) >= pointsAfter, 'the report holds the whole curves');
    t.is(await report.locator('#charts canvas').count() >= 2, true);
    t.regex((await report.locator('#summary').textContent()) ?? '', /dead ranks: 3 \(killed by SIGKILL/);
    await report.screenshot({ path: join(ARTIFACTS, 'dashboard-report.png'), fullPage: true });
    t.deepEqual(pageErrors, [], 'no script errors in the page');
  });
}
