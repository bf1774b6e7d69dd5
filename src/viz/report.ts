// The training report as one self-contained HTML page: settings, learning curves, final
// accuracy, confusion matrix, filters, misclassified digits, timing. Pure string building (no
// Node APIs): the caller passes the pictures as data: URLs and the vega / vega-lite browser
// builds as script text, which the page inlines, so it opens offline and makes no requests.
// A Content-Security-Policy forbids any fetch, so this is guaranteed, not just intended.

import type { ModelSpec } from '../models/network.js';
import type { ChartSpec } from './charts.js';

export interface ReportImage {
  id: string;
  title: string;
  caption: string;
  /** A data: URL (PNG). */
  src: string;
  width: number;
  height: number;
}

export interface ReportChart {
  id: string;
  title: string;
  caption: string;
  spec: ChartSpec;
}

export interface ReportInput {
  title: string;
  modelFile?: string;
  spec: ModelSpec;
  parameterCount: number;
  /** The model file's training facts (any JSON values); lists are left out of the settings table. */
  training: Record<string, unknown> | null;
  evaluation: { correct: number; total: number; accuracy: number; seconds: number; data: string };
  charts: ReportChart[];
  images: ReportImage[];
  /** Extra timing rows (label, value). */
  timing?: [string, string][];
  /** Browser builds to inline, in order (vega, then vega-lite). */
  scripts: { name: string; source: string }[];
  generated: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside <script>: no '</script', no '<!--', no U+2028/9 surprises. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Settings values come from a model file's metadata (untrusted JSON): shown bounded, and a
 *  value nested too deeply to print is named rather than crashing the report. */
const MAX_VALUE_CHARS = 300;

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 1e6) / 1e6);
  let text: string;
  if (typeof v === 'string') text = v;
  else {
    try {
      text = JSON.stringify(v) ?? String(v);
    } catch {
      text = '(nested too deeply to show)';
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}... (${text.length.toLocaleString('en-US')} characters)` : text;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** Timing rows derived from the training facts (total, per epoch, per step). */
export function trainingTiming(training: Record<string, unknown> | null): [string, string][] {
  if (!training) return [];
  const rows: [string, string][] = [];
  const seconds = typeof training.seconds === 'number' ? training.seconds : undefined;
  const steps = typeof training.steps === 'number' ? training.steps : undefined;
  const epochs = typeof training.epochs === 'number' ? training.epochs : undefined;
  if (seconds !== undefined) rows.push(['training time', formatSeconds(seconds)]);
  if (seconds !== undefined && epochs) rows.push(['per epoch (mean)', formatSeconds(seconds / epochs)]);
  if (seconds !== undefined && steps) {
    rows.push(['steps per second', (steps / seconds).toFixed(2)]);
    rows.push(['per step (mean)', `${((1000 * seconds) / steps).toFixed(1)} ms`]);
  }
  if (typeof training.backend === 'string') rows.push(['backend', training.backend]);
  return rows;
}

const STYLE = `
body { font: 15px/1.45 'DejaVu Sans', 'Liberation Sans', Helvetica, Arial, sans-serif; color: #1c2848; background: #f6f2e8; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #d8d0bc; padding-bottom: 4px; }
.sub { color: #5a6480; margin: 0 0 16px; }
.big { font-size: 40px; font-weight: bold; color: #d6602a; }
table { border-collapse: collapse; margin: 8px 0; } th, td { text-align: left; padding: 3px 14px 3px 0; vertical-align: top; }
th { font-weight: normal; color: #5a6480; } td { font-family: 'DejaVu Sans Mono', monospace; font-size: 13px; }
.card { background: white; border: 1px solid #e2dccb; border-radius: 6px; padding: 12px; margin: 8px 0; overflow-x: auto; }
.card img { image-rendering: pixelated; max-width: 100%; height: auto; }
.caption { color: #5a6480; font-size: 13px; margin: 6px 0 0; }
pre { white-space: pre-wrap; background: white; border: 1px solid #e2dccb; padding: 8px; font-size: 12px; overflow-x: auto; }
.grid2 { display: flex; flex-wrap: wrap; gap: 24px; }
`;

// Renders every [data-spec] element with vega (compiled from Vega-Lite in the page).
const BOOT = `
(function () {
  var nodes = document.querySelectorAll('[data-spec]');
  var pending = nodes.length;
  document.body.setAttribute('data-charts-pending', String(pending));
  nodes.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute('data-spec')).textContent);
    var compiled = vegaLite.compile(spec).spec;
    var view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: el, hover: true });
    view.runAsync().then(function () {
      el.setAttribute('data-rendered', 'true');
      pending -= 1;
      document.body.setAttribute('data-charts-pending', String(pending));
    }, function (e) { console.error('chart ' + el.id + ': ' + e); });
  });
})();
`;

/** The whole page. */
export function renderReportHtml(input: ReportInput): string {
  const t = typeof input.training === 'object' && input.training !== null && !Array.isArray(input.training) ? input.training : {};
  const settings: [string, string][] = Object.entries(t)
    .filter(([, v]) => !Array.isArray(v))
    .map(([k, v]) => [k, formatValue(v)]);
  const acc = input.evaluation;
  const timing = [...trainingTiming(input.training), [`evaluation (${acc.total.toLocaleString('en-US')} images)`, formatSeconds(acc.seconds)] as [string, string], ...(input.timing ?? [])];
  const chartBlocks = input.charts.map((c) => `
<h2 id="${escapeHtml(c.id)}">${escapeHtml(c.title)}</h2>
<div class="card"><div class="chart" id="chart-${escapeHtml(c.id)}" data-spec="spec-${escapeHtml(c.id)}"></div>
<p class="caption">${escapeHtml(c.caption)}</p></div>
<script type="application/json" id="spec-${escapeHtml(c.id)}">${scriptJson(c.spec)}</script>`);
  const imageBlocks = input.images.map((im) => `
<h2 id="${escapeHtml(im.id)}">${escapeHtml(im.title)}</h2>
<div class="card"><img id="img-${escapeHtml(im.id)}" alt="${escapeHtml(im.title)}" width="${im.width}" height="${im.height}" src="${im.src}">
<p class="caption">${escapeHtml(im.caption)}</p></div>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(input.title)}</h1>
<p class="sub">${escapeHtml(input.modelFile ?? '')} · ${escapeHtml(input.spec.model)} · ${input.parameterCount.toLocaleString('en-US')} parameters · generated ${escapeHtml(input.generated)}</p>
<h2 id="accuracy">Final accuracy</h2>
<div class="big" id="final-accuracy">${(100 * acc.accuracy).toFixed(2)}%</div>
<p class="sub">${acc.correct.toLocaleString('en-US')} of ${acc.total.toLocaleString('en-US')} test images (${escapeHtml(acc.data)}) classified correctly.</p>
<div class="grid2">
<div><h2 id="settings">Settings</h2>${settings.length ? table(settings) : '<p>No training facts in the model file.</p>'}</div>
<div><h2 id="timing">Timing</h2>${table(timing)}</div>
</div>
<h2 id="model">Model spec</h2>
<pre>${escapeHtml(JSON.stringify(input.spec))}</pre>
${chartBlocks.join('\n')}
${imageBlocks.join('\n')}
</main>
${input.scripts.map((s) => `<script data-library="${escapeHtml(s.name)}">${s.source}</script>`).join('\n')}
<script>${BOOT}</script>
</body>
</html>
`;
}
