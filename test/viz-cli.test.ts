// `scratchnet viz ...`, `scratchnet report` and `scratchnet train --report` end to end, on a
// model trained here on a small slice of MNIST. Each command must write a valid PNG (or SVG) of
// the expected layout whose pixels come from the model file; the HTML report must open in
// headless Chromium with no console errors, no network requests, and its charts drawn.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import pngjs from 'pngjs';
import { SAMPLE_IMAGE } from '../src/cli/viz.js';
import { parseIdx } from '../src/data/idx.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import { readModelFile, saveModel } from '../src/io/model-file.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';
import { assertOneLineError, cli } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-viz-'));
const data = join(dir, 'mnist-small');
const model = join(dir, 'model.safetensors');
const CHROMIUM = await chromiumPath();


/** An IDX file: big-endian magic and dims, then the bytes. */
function idx(magic: number, dims: number[], bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(bytes)]);
}

/** The first n images and labels of one MNIST split, written under MNIST's file names. */
async function slice(imagesName: string, labelsName: string, n: number): Promise<void> {
  const images = parseIdx(await readFile(join(defaultMnistDir(), imagesName)), imagesName);
  const labels = parseIdx(await readFile(join(defaultMnistDir(), labelsName)), labelsName);
  await writeFile(join(data, imagesName), idx(0x803, [n, 28, 28], (images.data as Uint8Array).subarray(0, n * 784)));
  await writeFile(join(data, labelsName), idx(0x801, [n], (labels.data as Uint8Array).subarray(0, n)));
}

function readPng(bytes: Buffer): { width: number; height: number; data: Buffer } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return pngjs.PNG.sync.read(bytes);
}

interface Box { x: number; y: number; width: number; height: number }

/**
 * Tiles are the grey regions of a picture: background and text are never grey (r, g, b differ),
 * tiles always are (r = g = b). Connected grey regions, in reading order (rows, then columns).
 */
function greyRegions(png: { width: number; height: number; data: Buffer }): Box[] {
  const { width, height, data } = png;
  const label = new Int32Array(width * height).fill(-1);
  const isGrey = (i: number) => data[4 * i] === data[4 * i + 1] && data[4 * i + 1] === data[4 * i + 2];
  const boxes: Box[] = [];
  const stack: number[] = [];
  for (let start = 0; start < width * height; start++) {
    if (label[start] !== -1 || !isGrey(start)) continue;
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    label[start] = boxes.length;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width, y = (i - x) / width;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      for (const j of [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, y > 0 ? i - width : -1, y < height - 1 ? i + width : -1]) {
        if (j >= 0 && label[j] === -1 && isGrey(j)) {
          label[j] = boxes.length;
          stack.push(j);
        }
      }
    }
    boxes.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
  }
  return boxes.sort((a, b) => a.y - b.y || a.x - b.x);
}

function grey(values: ArrayLike<number>, i: number): number {
  let min = Infinity, max = -Infinity;
  for (let k = 0; k < values.length; k++) {
    min = Math.min(min, values[k]);
    max = Math.max(max, values[k]);
  }
  return Math.round(255 * (1 - (values[i] - min) / (max - min)));
}

before(async () => {
  await (await import('node:fs/promises')).mkdir(data);
  await slice('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 300);
  await slice('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 200);
  const r = await cli('train', '--epochs', '2', '--batch-size', '50', '--eval-samples', '100', '--seed', '3', '--data', data, '--out', model, '--quiet', '--report', join(dir, 'train-report.html'));
  assert.equal(r.code, 0, `training the test model failed: ${r.stderr}`);
  assert.match(r.stdout, /wrote report .*train-report\.html/, 'train --report says where the report is');
});

describe('scratchnet viz', () => {
  it('filters: two panels of 30 tiles; the trained tiles are the model\'s W1, the others the seed-3 initial weights', async () => {
    const out = join(dir, 'filters.png');
    const r = await cli('viz', 'filters', '--model', model, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /30 filters of Conv1/, 'summary line');
    const png = readPng(await readFile(out));
    const tiles = greyRegions(png);
    assert.equal(tiles.length, 60, `30 random + 30 trained tiles, found ${tiles.length}`);
    const { network } = await readModelFile(model);
    const initial = new SimpleConvNet({ seed: 3, weightInitStd: 'he' }).params.W1.data;
    const trained = network.params.W1.data;
    assert.notDeepEqual([...initial], [...trained], 'training changed the filters');
    for (const [panel, weights] of [[0, initial], [1, trained]] as const) {
      for (let f = 0; f < 30; f++) {
        const t = tiles[panel * 30 + f];
        assert.equal(t.width, 50, `tile ${f} is 5 weights x 10 px wide`);
        const w = weights.subarray(f * 25, f * 25 + 25);
        for (let k = 0; k < 25; k++) {
          const x = t.x + 10 * (k % 5) + 5, y = t.y + 10 * Math.floor(k / 5) + 5;
          const got = png.data[4 * (y * png.width + x)];
          assert.equal(got, grey(w, k), `panel ${panel} filter ${f} weight ${k}`);
        }
      }
    }
  });

  it('features: 30 maps of the sample image, each equal to the convolution of its red channel with a filter', async () => {
    const out = join(dir, 'features.png');
    const r = await cli('viz', 'features', '--model', model, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const png = readPng(await readFile(out));
    const tiles = greyRegions(png);
    assert.equal(tiles.length, 30, `one tile per filter, found ${tiles.length}`);
    const sample = readPng(await readFile(SAMPLE_IMAGE));
    const H = sample.height, W = sample.width;
    assert.equal(tiles[0].width, W - 4, 'a 5x5 filter shrinks the image by 4');
    const { network } = await readModelFile(model);
    const weights = network.params.W1.data;
    for (const f of [0, 7, 29]) {
      const map = new Float64Array((H - 4) * (W - 4));
      for (let y = 0; y < H - 4; y++) {
        for (let x = 0; x < W - 4; x++) {
          let s = 0;
          for (let ky = 0; ky < 5; ky++) for (let kx = 0; kx < 5; kx++) s += sample.data[4 * ((y + ky) * W + x + kx)] * weights[f * 25 + ky * 5 + kx];
          map[y * (W - 4) + x] = s;
        }
      }
      let worst = 0;
      for (let i = 0; i < map.length; i += 7) {
        const x = i % (W - 4), y = Math.floor(i / (W - 4));
        const got = png.data[4 * ((tiles[f].y + y) * png.width + tiles[f].x + x)];
        worst = Math.max(worst, Math.abs(got - grey(map, i)));
      }
      assert.ok(worst <= 1, `feature map ${f} differs from the independent convolution by ${worst} grey levels`);
    }
  });

  it('features: any image size (large ones shrunk), colour reduced to one channel', async () => {
    const big = new pngjs.PNG({ width: 600, height: 300 });
    for (let i = 0; i < 600 * 300; i++) big.data.set([(i * 13) % 256, 40, 90, 255], 4 * i);
    const file = join(dir, 'big.png');
    await writeFile(file, pngjs.PNG.sync.write(big));
    const r = await cli('viz', 'features', '--model', model, '--image', file, '--out', join(dir, 'big-features.png'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /600x300, shrunk to 256x128/, 'says the image was shrunk');
    assert.equal(greyRegions(readPng(await readFile(join(dir, 'big-features.png')))).length, 30, '30 maps');
  });

  it('layers: input, 3 grids of 30 channels, bar strips and the probabilities', async () => {
    const out = join(dir, 'layers.png');
    const r = await cli('viz', 'layers', '--model', model, '--data', data, '--index', '3', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /8 sections for test image 3 \(label \d\); predicted \d/, 'summary line');
    const tiles = greyRegions(readPng(await readFile(out)));
    assert.equal(tiles.length, 1 + 30 + 30 + 30, `input + Conv1 + Relu1 + Pool1 channel tiles, found ${tiles.length}`);
    assert.equal(tiles[1].width, 48, 'Conv1 channels: 24 px x 2');
  });

  it('layers: a digit image given with --image', async () => {
    const img = new pngjs.PNG({ width: 40, height: 40 });
    for (let i = 0; i < 1600; i++) {
      const x = i % 40, y = Math.floor(i / 40);
      const ink = x > 17 && x < 23 && y > 5 && y < 35 ? 0 : 255;
      img.data.set([ink, ink, ink, 255], 4 * i);
    }
    const file = join(dir, 'one.png');
    await writeFile(file, pngjs.PNG.sync.write(img));
    const r = await cli('viz', 'layers', '--model', model, '--image', file, '--out', join(dir, 'layers-one.png'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /one\.png; predicted \d/, 'names the image');
  });

  it('curves: PNG by default, SVG for .svg, with axes and legend', async () => {
    const r = await cli('viz', 'curves', '--model', model, '--out', join(dir, 'curves.png'));
    assert.equal(r.code, 0, r.stderr);
    const png = readPng(await readFile(join(dir, 'curves.png')));
    assert.ok(png.width > 600 && png.height > 600, `chart size ${png.width}x${png.height}`);
    const r2 = await cli('viz', 'curves', '--model', model, '--out', join(dir, 'curves.svg'));
    assert.equal(r2.code, 0, r2.stderr);
    const svg = await readFile(join(dir, 'curves.svg'), 'utf8');
    assert.match(svg, /^<svg/, 'an SVG document');
    for (const t of ['epoch', 'accuracy (%)', 'train', 'test', 'cross-entropy loss', 'smoothed']) assert.ok(svg.includes(t), `SVG shows '${t}'`);
  });

  it('confusion: chart of the test set, PNG and SVG', async () => {
    const r = await cli('viz', 'confusion', '--model', model, '--data', data, '--out', join(dir, 'confusion.svg'));
    assert.equal(r.code, 0, r.stderr);
    const svg = await readFile(join(dir, 'confusion.svg'), 'utf8');
    assert.match(svg, /Confusion matrix \(200 test images/, 'title with the count');
    const r2 = await cli('viz', 'confusion', '--model', model, '--data', data, '--out', join(dir, 'confusion.png'));
    assert.equal(r2.code, 0, r2.stderr);
    readPng(await readFile(join(dir, 'confusion.png')));
  });

  it('misclassified: --count digits, each a 28x28 tile at scale 3', async () => {
    const out = join(dir, 'mistakes.png');
    const r = await cli('viz', 'misclassified', '--model', model, '--data', data, '--count', '12', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const m = /PNG: (\d+) of (\d+) misclassified/.exec(r.stdout);
    assert.ok(m, `summary line: ${r.stdout}`);
    const tiles = greyRegions(readPng(await readFile(out)));
    assert.equal(tiles.length, Number(m[1]), `one tile per mistake (${m[1]}), found ${tiles.length}`);
    assert.ok(tiles.every((t) => t.width === 84 && t.height === 84), 'each tile is 28 px x 3');
  });

  it('bad requests: one line, exit 2 for usage, 1 for bad input', async () => {
    assertOneLineError(await cli('viz', 'nonsense', '--model', model), 2, /unknown picture 'nonsense'/);
    assertOneLineError(await cli('viz', '--model', model), 2, /missing what to draw/);
    assertOneLineError(await cli('viz', 'filters', '--model', model, '--image', SAMPLE_IMAGE), 2, /--image does not apply to viz filters/);
    assertOneLineError(await cli('viz', 'filters', '--model', model, '--out', join(dir, 'f.svg')), 2, /PNG only/);
    assertOneLineError(await cli('viz', 'filters'), 2, /--model is required/);
    assertOneLineError(await cli('viz', 'filters', '--model', join(dir, 'none.safetensors')), 1, /no such file/);
    assertOneLineError(await cli('viz', 'filters', '--model', model, '--out', join(dir, 'no', 'f.png')), 1, /cannot write the picture there: folder .*no does not exist/);
    const bare = join(dir, 'bare.safetensors');
    await saveModel(new SimpleConvNet(), bare);
    assertOneLineError(await cli('viz', 'curves', '--model', bare), 1, /no training history/);
    assertOneLineError(await cli('viz', 'features', '--model', model, '--image', model), 1, /not a PNG or JPEG/);
    const help = await cli('viz', '--help');
    assert.equal(help.code, 0, 'help exits 0');
    assert.match(help.stdout, /filters[\s\S]*features[\s\S]*layers[\s\S]*curves[\s\S]*confusion[\s\S]*misclassified/, 'help lists every picture');
  });
});

describe('the HTML report', () => {
  it('scratchnet report writes one self-contained file', async () => {
    const out = join(dir, 'report.html');
    const r = await cli('report', '--model', model, '--data', data, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const html = await readFile(out, 'utf8');
    for (const id of ['accuracy', 'settings', 'timing', 'curves', 'confusion', 'filters', 'misclassified', 'features', 'layers']) {
      assert.ok(html.includes(`id="${id}"`), `section ${id}`);
    }
    assert.ok(!/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//.test(html), 'nothing loaded from elsewhere');
  });

  it('opens in headless Chromium: no console errors, no network requests, charts and pictures rendered', async () => {
    assert.ok(CHROMIUM, 'no Chromium: @sparticuz/chromium (a devDependency) should provide one');
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      const file = `file://${join(dir, 'train-report.html')}`;
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url === file || url.startsWith('data:') || url.startsWith('about:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      page.on('request', (req) => {
        const url = req.url();
        if (url !== file && !url.startsWith('data:') && !url.startsWith('about:')) requests.push(url);
      });
      await page.goto(file);
      await page.waitForFunction(() => document.body.getAttribute('data-charts-pending') === '0', null, { timeout: 30000 });
      const state = await page.evaluate(() => ({
        charts: [...document.querySelectorAll('.chart')].map((c) => ({
          id: c.id,
          rendered: c.getAttribute('data-rendered'),
          svg: c.querySelectorAll('svg').length,
          lines: c.querySelectorAll('.mark-line.role-mark path').length,
          rects: c.querySelectorAll('.mark-rect.role-mark path').length,
          texts: [...c.querySelectorAll('text')].map((t) => t.textContent ?? ''),
        })),
        images: [...document.querySelectorAll('img')].map((i) => ({ id: i.id, width: (i as HTMLImageElement).naturalWidth, complete: (i as HTMLImageElement).complete })),
        accuracy: document.getElementById('final-accuracy')?.textContent ?? '',
      }));
      assert.deepEqual(problems, [], 'no console errors or warnings');
      assert.deepEqual(requests, [], 'no network requests');
      const curves = state.charts.find((c) => c.id === 'chart-curves');
      const confusion = state.charts.find((c) => c.id === 'chart-confusion');
      assert.ok(curves && curves.rendered === 'true' && curves.svg === 1, `curves chart rendered: ${JSON.stringify(curves)}`);
      assert.ok(curves.lines >= 3, `accuracy and loss lines drawn (${curves.lines})`);
      assert.ok(curves.texts.includes('epoch') && curves.texts.some((t) => t.startsWith('accuracy')), 'curves have axis titles');
      assert.ok(confusion && confusion.rendered === 'true', 'confusion chart rendered');
      assert.equal(confusion.rects, 100, `10 x 10 confusion cells (${confusion.rects})`);
      for (const id of ['img-filters', 'img-misclassified', 'img-features', 'img-layers']) {
        const img = state.images.find((i) => i.id === id);
        assert.ok(img && img.complete && img.width > 0, `${id} decoded: ${JSON.stringify(img)}`);
      }
      assert.match(state.accuracy, /^\d+\.\d\d%$/, 'final accuracy shown');
    } finally {
      await browser.close();
    }
  });
});
