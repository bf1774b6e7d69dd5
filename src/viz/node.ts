// Node-only writers for the pictures: PNG encoding (pngjs), chart rendering (vega -> SVG, then
// resvg -> PNG), and the vega/vega-lite browser builds for the HTML report. The libraries are
// loaded with dynamic imports, so importing scratchnet does not load them.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RgbaImage } from '../data/image.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ChartSpec } from './charts.js';

/** RGBA pixels -> PNG file bytes. */
export async function encodePng(picture: RgbaImage): Promise<Uint8Array> {
  const { PNG } = (await import('pngjs')).default;
  const png = new PNG({ width: picture.width, height: picture.height });
  png.data = Buffer.from(picture.data.buffer, picture.data.byteOffset, picture.data.length);
  return PNG.sync.write(png, { colorType: 6 });
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
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
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
  const { Resvg } = await import('@resvg/resvg-js');
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
  const vegaBuild = dirname(require.resolve('vega'));
  const vegaLiteBuild = dirname(require.resolve('vega-lite'));
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
