/**
 * The dashboard's HTML: one self-contained document (uPlot, its CSS and the page script inlined), so
 * that the live page is a single request and the static report opens from file:// with nothing beside
 * it. The page script is the compiled page/dashboard-page.js next to this module.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { StaticReportData } from './messages.js';

const require = createRequire(import.meta.url);

interface Assets {
  uplotJs: string;
  uplotCss: string;
  pageJs: string;
}

let cached: Assets | undefined;

/** Read once per launcher; a missing file is a clear error naming it (npm ci / npx tsc not run). */
function assets(): Assets {
  if (cached) return cached;
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`dashboard: cannot read ${what} at ${path}: ${(err as Error).message}`);
    }
  };
  const uplotDir = fileURLToPath(new URL('.', `file://${require.resolve('uplot/package.json')}`));
  const pageJs = read(fileURLToPath(new URL('./page/dashboard-page.js', import.meta.url)), 'the compiled page script (run npx tsc)')
    // a module with only type imports compiles to `export {}`; inlined, the source map would dangle
    .replace(/^export \{\};\s*$/m, '')
    .replace(/^\/\/# sourceMappingURL=.*$/m, '');
  cached = {
    uplotJs: read(`${uplotDir}dist/uPlot.iife.min.js`, 'uPlot'),
    uplotCss: read(`${uplotDir}dist/uPlot.min.css`, 'uPlot\'s CSS'),
    pageJs,
  };
  return cached;
}

/** Text inside <script>: "</script" (any case) would end the element early; "<\/" means the same in JS. */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for a <script> block: no "<" at all, so no "</script>" or "<!--" can appear. */
function embeddedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #1d232a; color: #fff; padding: 10px 16px; display: flex; flex-wrap: wrap; gap: 6px 24px; align-items: center; }
header h1 { font-size: 16px; margin: 0; }
header .meta { opacity: .8; }
.stats { contain: content; display: flex; flex-wrap: wrap; gap: 8px 24px; padding: 10px 16px; background: #fff; border-bottom: 1px solid #dde; }
.stats b { font-variant-numeric: tabular-nums; display: inline-block; min-width: 4em; }
.bar { width: 220px; height: 10px; background: #e3e6ea; border-radius: 5px; overflow: hidden; display: inline-block; vertical-align: middle; }
#progress-bar { height: 100%; width: 0; background: #2f80ed; transition: width .3s; }
#charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px; padding: 8px 16px; }
.chart { contain: content; background: #fff; border: 1px solid #dde; border-radius: 4px; padding: 4px; min-width: 0; overflow: hidden; }
.chart[hidden] { display: none; }
/* A fixed layout: a changed number re-lays out its cell, not the whole table (64 rows x 13 columns). */
.table-box { contain: content; margin: 8px 16px 16px; overflow-x: auto; }
table { border-collapse: collapse; table-layout: fixed; width: 1350px; background: #fff; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eef; text-align: right; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
th { background: #eef0f3; position: sticky; top: 0; }
td.col-host, td.col-note, td.col-health { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
tr.health-alive td.col-health { color: #1e7e34; font-weight: 600; }
tr.health-slow td.col-health { color: #b36b00; font-weight: 600; }
tr.health-slow { background: #fff8e6; }
tr.health-dead td.col-health { color: #fff; background: #c0392b; font-weight: 600; }
tr.health-dead { background: #fdecea; color: #7a2a22; }
tr.health-done td.col-health { color: #555; }
tr.health-starting td.col-health { color: #888; }
tr.health-stopped td.col-health { color: #555; font-style: italic; }
#summary { margin: 0 16px 16px; padding: 8px; background: #fff; border: 1px solid #dde; white-space: pre-wrap; }
`;

const BODY = `
<header><h1>pgas-run</h1><span class="meta" id="meta">connecting…</span><span id="status">connecting</span></header>
<div class="stats">
  <span>elapsed <b id="elapsed">—</b></span>
  <span>progress <span class="bar"><span id="progress-bar"></span></span> <b id="progress-text">—</b></span>
  <span>ETA <b id="eta">—</b></span>
  <span>throughput <b id="rate">—</b></span>
  <span>ranks <b id="counts">—</b></span>
</div>
<div id="charts"></div>
<div class="table-box"><table>
  <colgroup><col style="width:60px"><col style="width:100px"><col style="width:70px"><col style="width:80px"><col style="width:100px"><col style="width:90px"><col style="width:95px"><col style="width:95px"><col style="width:80px"><col style="width:90px"><col style="width:110px"><col style="width:90px"><col style="width:300px"></colgroup>
  <thead><tr><th>rank</th><th>host</th><th>pid</th><th>health</th><th>samples/s</th><th>samples</th><th>loss</th><th>error</th><th title="states sent to other ranks">sent</th><th title="states received from other ranks">received</th><th title="received states the Parzen window accepted">accepted</th><th>progress</th><th>note</th></tr></thead>
  <tbody id="rank-rows"></tbody>
</table></div>
<pre id="summary" hidden></pre>
`;

/** The page; with `data` it is the static report (no connection, the data inside). */
export function dashboardHtml(data?: StaticReportData): string {
  const a = assets();
  const boot = data === undefined ? { mode: 'live' } : { mode: 'static', data };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>pgas-run dashboard</title>
<style>${a.uplotCss}</style><style>${STYLE}</style>
</head><body>${BODY}
<script>window.__DASHBOARD_BOOT__ = ${embeddedJson(boot)};</script>
<script>${scriptText(a.uplotJs)}</script>
<script type="module">${scriptText(a.pageJs)}</script>
</body></html>
`;
}
