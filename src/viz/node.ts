// Node-only writers for the pictures: PNG files (fast-png, pure), chart rendering (vega -> SVG,
// then resvg -> PNG), and the vega/vega-lite browser builds for the HTML report. vega, vega-lite
// and @resvg/resvg-js are optional peer dependencies (a browser app must not install a native
// renderer it never runs): loaded with dynamic imports, and when one is missing the error names
// the package to install. Exported by scratchnet/node only.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encode as encodePngBytes } from 'fast-png';
import { ScratchnetError } from '../errors.js';
import type { RgbaImage } from '../data/image.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ChartSpec } from './charts.js';

/** RGBA pixels -> PNG file bytes. */
export async function encodePng(picture: RgbaImage): Promise<Uint8Array> {
  return encodePngBytes({ width: picture.width, height: picture.height, data: picture.data, channels: 4, depth: 8 });
}

/** An optional peer dependency, or one line naming the package to install. */
async function peer<T>(name: string, purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ScratchnetError(`${purpose} needs the package ${name}, which is not installed: run \`npm install ${name}\``);
    }
    throw error;
  }
}

export async function writePng(path: string, picture: RgbaImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(picture));
}

/** vega-lite warns on stdout through its logger; the charts here are checked by tests instead. */
function silentLogger(vega: typeof import('vega')) {
  return vega.logger(vega.None);
}

/** A Vega-Lite spec rendered to an SVG document (vega's headless renderer, no canvas needed). */
export async function chartToSvg(spec: ChartSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([peer('vega', 'drawing charts', () => import('vega')), peer('vega-lite', 'drawing charts', () => import('vega-lite'))]);
  const compiled = vegaLite.compile(spec, { logger: silentLogger(vega) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG -> PNG with resvg (fonts from the system; DejaVu/Liberation on Debian). scale 2 = crisp on hi-dpi screens. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await peer('@resvg/resvg-js', 'writing charts as PNG', () => import('@resvg/resvg-js'));
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Writes a chart: SVG when the file name ends in .svg, PNG otherwise. */
export async function writeChart(path: string, spec: ChartSpec, options: { scale?: number } = {}): Promise<void> {
  const svg = await chartToSvg(spec);
  if (path.toLowerCase().endsWith('.svg')) await writeFileAtomic(path, svg);
  else await writeFileAtomic(path, await svgToPng(svg, options.scale));
}

/** The minified vega and vega-lite browser (UMD) builds, to inline in a self-contained page. */
export async function vegaBrowserScripts(): Promise<{ name: string; source: string }[]> {
  const require = createRequire(import.meta.url);
  // Both packages export only their ES module entry (in build/), next to the UMD builds.
  const resolve = (name: string): string => {
    try {
      return require.resolve(name);
    } catch {
      throw new ScratchnetError(`the report's charts need the package ${name}, which is not installed: run \`npm install ${name}\``);
    }
  };
  const vegaBuild = dirname(resolve('vega'));
  const vegaLiteBuild = dirname(resolve('vega-lite'));
  const [vega, vegaLite] = await Promise.all([
    readFile(join(vegaBuild, 'vega.min.js'), 'utf8'),
    readFile(join(vegaLiteBuild, 'vega-lite.min.js'), 'utf8'),
  ]);
  return [{ name: 'vega', source: vega }, { name: 'vega-lite', source: vegaLite }];
}

/** PNG bytes as a data: URL (for <img> in the report). */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
