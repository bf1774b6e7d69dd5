// The picture functions (src/viz): pixels come from the model, computed independently here.
//  - a filter tile's pixels are the filter's weights normalised to 0..255 with gray_r;
//  - a feature map is the convolution of the image with the filter (naive loops below);
//  - layer-by-layer activations are the network's own forward pass;
//  - charts are Vega-Lite specs that vega renders to SVG with the expected marks and labels.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../src/random.js';
import { randn, Tensor } from '../src/tensor.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { softmax } from '../src/layers/functions.js';
import { filterGrid, compareFilters, initialNetwork, firstConvolution } from '../src/viz/filters.js';
import { featureMaps, featureMapGrid, imageToTensor } from '../src/viz/features.js';
import { layerActivations, activationsPicture } from '../src/viz/layers.js';
import { confusionMatrix, evaluateNetwork, worstMistakes } from '../src/viz/evaluate.js';
import { mistakeGrid } from '../src/viz/misclassified.js';
import { greyLevels, PAPER } from '../src/viz/picture.js';
import { drawText, textWidth } from '../src/viz/font.js';
import { accuracyChartSpec, confusionChartSpec, learningCurvesSpec, lossChartSpec, probabilitiesChartSpec, smooth } from '../src/viz/charts.js';
import { chartToSvg, encodePng, svgToPng } from '../src/viz/node.js';
import { escapeHtml, renderReportHtml, scriptJson } from '../src/viz/report.js';
import type { RgbaImage } from '../src/data/image.js';
import pngjs from 'pngjs';

/** The grey value a tile pixel must have: the filter normalised on its own, gray_r. */
function expectedGrey(values: ArrayLike<number>, i: number): number {
  let min = Infinity, max = -Infinity;
  for (let k = 0; k < values.length; k++) {
    min = Math.min(min, values[k]);
    max = Math.max(max, values[k]);
  }
  return Math.round(255 * (1 - (values[i] - min) / (max - min)));
}

function pixel(p: RgbaImage, x: number, y: number): [number, number, number, number] {
  const o = 4 * (y * p.width + x);
  return [p.data[o], p.data[o + 1], p.data[o + 2], p.data[o + 3]];
}

/** Naive convolution of one (C, H, W) image with one (C, FH, FW) filter, no bias. */
function naiveConv(img: Float32Array, C: number, H: number, W: number, f: Float32Array, FH: number, FW: number, stride: number, pad: number): { out: Float64Array; OH: number; OW: number } {
  const OH = Math.floor((H + 2 * pad - FH) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - FW) / stride) + 1;
  const out = new Float64Array(OH * OW);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      let s = 0;
      for (let c = 0; c < C; c++) {
        for (let ky = 0; ky < FH; ky++) {
          for (let kx = 0; kx < FW; kx++) {
            const y = oy * stride + ky - pad, x = ox * stride + kx - pad;
            if (y < 0 || y >= H || x < 0 || x >= W) continue;
            s += img[(c * H + y) * W + x] * f[(c * FH + ky) * FW + kx];
          }
        }
      }
      out[oy * OW + ox] = s;
    }
  }
  return { out, OH, OW };
}

describe('filter grid (the book\'s filter_show)', () => {
  const W = randn(new Random(5), [30, 1, 5, 5], 0.3);

  it('30 filters -> 30 tiles, 15 per row, each tile the normalised filter (gray_r), nearest-upscaled', () => {
    const { picture, tiles } = filterGrid(W);
    assert.equal(tiles.length, 30, 'one tile per filter');
    assert.equal(new Set(tiles.map((t) => t.y)).size, 2, 'two rows of 15');
    assert.equal(new Set(tiles.map((t) => t.x)).size, 15, '15 columns');
    for (let f = 0; f < 30; f++) {
      const t = tiles[f];
      assert.equal(t.width, 50, 'tile width = 5 weights x scale 10');
      const weights = W.data.subarray(f * 25, f * 25 + 25);
      for (let y = 0; y < t.height; y++) {
        for (let x = 0; x < t.width; x++) {
          const [r, g, b] = pixel(picture, t.x + x, t.y + y);
          const want = expectedGrey(weights, Math.floor(y / 10) * 5 + Math.floor(x / 10));
          assert.ok(r === want && g === want && b === want, `filter ${f} pixel (${x}, ${y}): got ${r},${g},${b}, want grey ${want}`);
        }
      }
    }
    // Between tiles: the paper colour, never a grey.
    assert.deepEqual(pixel(picture, tiles[0].x + 51, tiles[0].y + 5).slice(0, 3), [...PAPER], 'margin is background');
  });

  it('the largest weight is black and the smallest white; a constant filter is mid grey', () => {
    assert.deepEqual([...greyLevels([-1, 0, 3])], [255, 191, 0], 'gray_r levels');
    assert.deepEqual([...greyLevels([-1, 0, 3], false)], [0, 64, 255], 'gray levels');
    assert.deepEqual([...greyLevels([2, 2])], [128, 128], 'constant -> mid grey');
  });

  it('options: columns, scale, channel', () => {
    const rgb = randn(new Random(1), [4, 3, 3, 3]);
    const { tiles, picture } = filterGrid(rgb, { columns: 2, scale: 4, channel: 2, margin: 1 });
    assert.equal(tiles.length, 4, 'four tiles');
    assert.equal(tiles[1].y, tiles[0].y, 'two per row');
    assert.notEqual(tiles[2].y, tiles[0].y, 'third on the next row');
    const ch2 = rgb.data.subarray(2 * 9, 3 * 9); // filter 0, channel 2
    assert.equal(pixel(picture, tiles[0].x + 5, tiles[0].y + 1)[0], expectedGrey(ch2, 1), 'channel 2 of filter 0');
    assert.throws(() => filterGrid(rgb, { channel: 3 }), /channel 3/, 'channel out of range');
  });

  it('random init (the training seed) beside trained: the initial network is rebuilt exactly', () => {
    const trained = new SimpleConvNet({ seed: 9, weightInitStd: 'he' });
    const before = new SimpleConvNet({ seed: 9, weightInitStd: 'he' }).params.W1.data.slice();
    trained.params.W1.data[0] += 1; // "training"
    const fresh = initialNetwork(trained, 9);
    assert.deepEqual([...fresh.params.W1.data], [...before], 'same seed, same spec: the weights training started from');
    const { panels } = compareFilters([{ title: 'random', filters: fresh.params.W1 }, { title: 'trained', filters: firstConvolution(trained).layer.W }]);
    assert.equal(panels.length, 2, 'two panels');
    assert.equal(panels[1].tiles.length, 30, 'trained panel has 30 tiles');
    assert.ok(panels[1].tiles[0].y > panels[0].tiles[29].y, 'trained panel below the random one');
  });
});

describe('feature maps', () => {
  it('each map is the convolution of the image with one filter (bias 0), computed independently', () => {
    const filters = randn(new Random(2), [6, 1, 5, 5]);
    const H = 17, Wd = 13;
    const img = new Float32Array(H * Wd).map((_, i) => (i * 37) % 256);
    for (const [stride, pad] of [[1, 0], [2, 1]]) {
      const maps = featureMaps(filters, new Tensor(img, [1, H, Wd]), { stride, pad });
      for (let f = 0; f < 6; f++) {
        const { out, OH, OW } = naiveConv(img, 1, H, Wd, filters.data.subarray(f * 25, f * 25 + 25) as Float32Array, 5, 5, stride, pad);
        assert.deepEqual(maps.shape, [6, OH, OW], `shape for stride ${stride} pad ${pad}`);
        for (let i = 0; i < OH * OW; i++) {
          const got = maps.data[f * OH * OW + i];
          assert.ok(Math.abs(got - out[i]) <= 1e-3 * Math.max(1, Math.abs(out[i])), `filter ${f} stride ${stride} pad ${pad} at ${i}: ${got} vs ${out[i]}`);
        }
      }
    }
  });

  it('colour images are reduced to their first (red) channel, 0..255, as in the reference', () => {
    const image: RgbaImage = { width: 2, height: 1, data: new Uint8Array([10, 20, 30, 255, 200, 100, 50, 255]) };
    assert.deepEqual([...imageToTensor(image).data], [10, 200], 'red channel');
    assert.deepEqual([...imageToTensor(image, 3).data], [10, 200, 20, 100, 30, 50], 'RGB planes');
  });

  it('the grid shows each map normalised on its own', () => {
    const maps = new Tensor(new Float32Array(3 * 4 * 4).map((_, i) => Math.sin(i)), [3, 4, 4]);
    const { picture, tiles } = featureMapGrid(maps, { scale: 2 });
    assert.equal(tiles.length, 3, 'three tiles');
    const m1 = maps.data.subarray(16, 32);
    for (let i = 0; i < 16; i++) {
      const x = tiles[1].x + 2 * (i % 4), y = tiles[1].y + 2 * Math.floor(i / 4);
      assert.equal(pixel(picture, x, y)[0], expectedGrey(m1, i), `map 1 value ${i}`);
    }
  });
});

describe('layer by layer', () => {
  const network = new SimpleConvNet({ seed: 4, weightInitStd: 'he' });
  const x = randn(new Random(8), [1, 1, 28, 28]);

  it('one entry per layer with the layer\'s output, then softmax probabilities equal to predict', () => {
    const acts = layerActivations(network, x);
    assert.deepEqual(acts.map((a) => a.name), ['input', 'Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2', 'probabilities'], 'names in order');
    assert.deepEqual(acts.map((a) => a.shape), [[1, 28, 28], [30, 24, 24], [30, 24, 24], [30, 12, 12], [100], [100], [10], [10]], 'shapes');
    const probs = softmax(network.predict(x)).data;
    const last = acts[acts.length - 1].values;
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(last[i] - probs[i]) < 1e-6, `probability ${i}: ${last[i]} vs ${probs[i]}`);
    assert.ok(acts[2].values.every((v) => v >= 0), 'ReLU output is non-negative');
  });

  it('channel grids for (C, H, W) outputs, bars for vectors, a labelled chart last', () => {
    const { picture, sections } = activationsPicture(layerActivations(network, x));
    assert.deepEqual(sections.map((s) => s.kind), ['channels', 'channels', 'channels', 'channels', 'bars', 'bars', 'bars', 'probabilities'], 'section kinds');
    assert.equal(sections[1].tiles.length, 30, 'Conv1: 30 channel tiles');
    assert.equal(sections[3].tiles.length, 30, 'Pool1: 30 channel tiles');
    assert.match(sections[1].title, /CONV1 CONVOLUTION \(30x24x24\)/, 'title names layer, kind and shape');
    assert.ok(picture.width > 0 && picture.height > sections[7].origin.y, 'picture holds every section');
  });

  it('refuses an input of the wrong size', () => {
    assert.throws(() => layerActivations(network, randn(new Random(1), [1, 1, 20, 20])), /does not fit/, 'wrong size');
  });
});

describe('evaluation, confusion matrix, mistakes', () => {
  it('confusion counts, accuracy and the worst mistakes (lowest true-class probability first)', () => {
    const network = new SimpleConvNet({ seed: 4, weightInitStd: 'he' });
    const x = randn(new Random(3), [30, 1, 28, 28]);
    const t = new Int32Array(30).map((_, i) => i % 10);
    const ev = evaluateNetwork(network, x, t, 7);
    assert.deepEqual([...ev.predicted], [...network.classify(x)], 'same classes as classify');
    assert.equal(ev.confusion.flat().reduce((a, b) => a + b, 0), 30, 'every sample counted once');
    assert.equal(ev.correct, ev.confusion.reduce((s, row, i) => s + row[i], 0), 'diagonal = correct');
    const worst = worstMistakes(ev, t, 5);
    for (const m of worst) assert.notEqual(m.label, m.predicted, 'only mistakes');
    for (let i = 1; i < worst.length; i++) assert.ok(worst[i - 1].trueProbability <= worst[i].trueProbability, 'sorted worst first');
    const grid = mistakeGrid(x, worst);
    assert.equal(grid.tiles.length, worst.length, 'one tile per mistake');
    assert.deepEqual(confusionMatrix([0, 1, 1], [0, 0, 1], 2), [[1, 0], [1, 1]], 'confusion[true][pred]');
  });
});

describe('bitmap font', () => {
  it('draws ink inside the text box only', () => {
    const p: RgbaImage = { width: 40, height: 10, data: new Uint8Array(40 * 10 * 4) };
    drawText(p, 'A7', 1, 1, [255, 0, 0]);
    let ink = 0, outside = 0;
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 40; x++) {
        if (p.data[4 * (y * 40 + x)] === 255) {
          ink++;
          if (x < 1 || x >= 1 + textWidth('A7') || y < 1 || y >= 8) outside++;
        }
      }
    }
    assert.ok(ink > 20, `some ink drawn (${ink})`);
    assert.equal(outside, 0, 'no ink outside the text box');
  });
});

describe('charts (Vega-Lite specs rendered by vega)', () => {
  const history = {
    trainAccList: [0.9, 0.95, 0.97], testAccList: [0.89, 0.94, 0.96],
    trainLossList: Array.from({ length: 60 }, (_, i) => 2 * Math.exp(-i / 10) + 0.01), evaluateSampleNumPerEpoch: 1000, batchSize: 100,
  };

  it('smoothing: bias-corrected EMA keeps a constant series constant', () => {
    assert.deepEqual(smooth([3, 3, 3], 0.9).map((v) => Math.round(v * 1e9) / 1e9), [3, 3, 3], 'no pull towards 0');
    assert.deepEqual(smooth([1, 2], 0), [1, 2], 'weight 0 = raw');
  });

  it('accuracy per epoch and loss per step (raw + smoothed) with axes, units and legend', async () => {
    const acc = accuracyChartSpec(history) as { data: { values: { epoch: number; data: string }[] } };
    assert.equal(acc.data.values.length, 6, '3 epochs x train/test');
    const loss = lossChartSpec(history) as { data: { values: { series: string }[] } };
    assert.equal(loss.data.values.length, 120, '60 steps x raw/smoothed');
    const svg = await chartToSvg(learningCurvesSpec(history));
    for (const text of ['Accuracy per epoch', 'epoch', 'accuracy (%)', 'train', 'test', 'step (mini-batch of 100)', 'cross-entropy loss (log scale)', 'per step', 'smoothed (EMA 0.98)']) {
      assert.ok(svg.includes(text), `SVG shows '${text}'`);
    }
    assert.ok((svg.match(/class="mark-line/g) ?? []).length >= 2, 'line marks drawn');
    const png = await svgToPng(svg, 1);
    const decoded = pngjs.PNG.sync.read(Buffer.from(png));
    assert.ok(decoded.width > 400 && decoded.height > 400, `PNG of the chart (${decoded.width}x${decoded.height})`);
  });

  it('no history -> a clear error', () => {
    assert.throws(() => learningCurvesSpec({}), /no training history/, 'empty history');
  });

  it('confusion matrix: one cell per (true, predicted) pair with its count', async () => {
    const m = [[5, 1], [0, 7]];
    const spec = confusionChartSpec(m) as { data: { values: { true: string; predicted: string; count: number }[] } };
    assert.deepEqual(spec.data.values.map((v) => v.count), [5, 1, 0, 7], 'counts row-major');
    const svg = await chartToSvg(confusionChartSpec(m));
    assert.equal((svg.match(/<path[^>]*aria-roledescription="rect"/g) ?? svg.match(/class="mark-rect/g) ?? []).length > 0, true, 'rect marks');
    for (const t of ['predicted class', 'true class', '>7<', '>5<']) assert.ok(svg.includes(t), `SVG shows ${t}`);
  });

  it('probabilities chart spec', () => {
    const spec = probabilitiesChartSpec([0.1, 0.7, 0.2]) as { data: { values: { class: string }[] } };
    assert.deepEqual(spec.data.values.map((v) => v.class), ['0', '1', '2'], 'labels');
  });
});

describe('PNG encoding and the report page', () => {
  it('encodes RGBA pixels losslessly', async () => {
    const { picture } = filterGrid(randn(new Random(1), [3, 1, 5, 5]));
    const back = pngjs.PNG.sync.read(Buffer.from(await encodePng(picture)));
    assert.equal(back.width, picture.width, 'width');
    assert.ok(Buffer.from(back.data).equals(Buffer.from(picture.data)), 'same pixels');
  });

  it('escapes text, keeps JSON safe inside <script>, forbids network access by CSP', () => {
    assert.equal(escapeHtml('<a href="x">&'), '&lt;a href=&quot;x&quot;&gt;&amp;', 'escaped');
    assert.ok(!scriptJson({ s: '</script><!--' }).includes('<'), 'no < inside script JSON');
    const html = renderReportHtml({
      title: 'T <b>', spec: { model: 'SimpleConvNet' }, parameterCount: 10, training: { epochs: 2, trainLossList: [1, 2] },
      evaluation: { correct: 9, total: 10, accuracy: 0.9, seconds: 1, data: 'test' }, charts: [], images: [], scripts: [], generated: 'now',
    });
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/, 'CSP forbids fetches');
    assert.ok(html.includes('T &lt;b&gt;'), 'title escaped');
    assert.ok(html.includes('90.00%'), 'final accuracy');
    assert.ok(!html.includes('trainLossList'), 'lists are not settings');
  });
});

describe('browser-ready', () => {
  it('the picture and chart modules import nothing but relative modules (no node:, no npm packages) at load time', async () => {
    const { readFile } = await import('node:fs/promises');
    const { dirname, resolve } = await import('node:path');
    const seen = new Set<string>();
    const bare: string[] = [];
    const walk = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      for (const m of source.matchAll(/^\s*(import|export)\s([^;]*?)from\s+'([^']+)'/gms)) {
        const typeOnly = /^\s*type\s/.test(m[2]);
        if (m[3].startsWith('.')) await walk(resolve(dirname(file), m[3].replace(/\.js$/, '.ts')));
        else if (!typeOnly) bare.push(`${file} imports ${m[3]}`);
      }
    };
    const root = new URL('../src/viz/', import.meta.url).pathname;
    for (const f of ['picture', 'font', 'filters', 'features', 'layers', 'evaluate', 'misclassified', 'charts', 'report']) await walk(`${root}${f}.ts`);
    assert.ok(seen.size > 10, `followed the imports (${seen.size} files)`);
    assert.deepEqual(bare, [], 'static imports of Node or npm modules');
  });

  it('long vectors wrap onto several rows of bars', async () => {
    const { barStrip } = await import('../src/viz/layers.js');
    const strip = barStrip(new Float32Array(4320).map((_, i) => Math.sin(i)));
    assert.ok(strip.width <= 766, `width stays bounded (${strip.width})`);
    assert.ok(strip.height > 100, `several rows (${strip.height} px high)`);
  });
});
