// The playground page: Train (a worker trains, the page draws), Draw (a digit through the
// current model, every layer shown) and Inspect (a model file: spec, filters, feature maps,
// mistakes, downloads). The page itself runs the library on the wasm backend for single
// forward passes (one thread: Atomics.wait is not allowed on a page's main thread); training
// runs in the trainer worker (src/worker), which has the thread pool.

import { ready } from '../src/backend/registry.js';
import { readTensorSync } from '../src/backend/storage.js';
import { fromImageData, toGray, toMnistDigit } from '../src/data/image.js';
import { idxFromBytes } from '../src/data/idx.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { exportOnnx } from '../src/io/onnx.js';
import type { Network } from '../src/models/network.js';
import { checkSpec, formatSummary, type NetworkSpec } from '../src/models/spec.js';
import { ZOO, zooRecipe, zooSpec } from '../src/models/zoo.js';
import { Tensor } from '../src/tensor.js';
import { evaluateNetwork, worstMistakes } from '../src/viz/evaluate.js';
import { featureMapGrid, featureMaps } from '../src/viz/features.js';
import { filterGrid, firstConvolution } from '../src/viz/filters.js';
import { activationsPicture, layerActivations } from '../src/viz/layers.js';
import { mistakeGrid } from '../src/viz/misclassified.js';
import { createTrainerWorker, type TrainerWorker } from '../src/worker/client.js';
import type { TrainerDataSource, TrainerEvent } from '../src/worker/protocol.js';
import { confusionTable, drawChart, drawPicture } from './charts.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];

// ---- tabs (arrow keys move between them, as the ARIA tabs pattern says) ----
const tabs = ['train', 'draw', 'inspect'];
function showTab(name: string, focus = false): void {
  for (const t of tabs) {
    const tab = $(`tab-${t}`);
    tab.setAttribute('aria-selected', String(t === name));
    tab.tabIndex = t === name ? 0 : -1;
    $(`view-${t}`).hidden = t !== name;
  }
  if (focus) $(`tab-${name}`).focus();
  if (name === 'draw') predictDrawing();
}
tabs.forEach((t, i) => {
  const tab = $(`tab-${t}`);
  tab.addEventListener('click', () => showTab(t));
  tab.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step) showTab(tabs[(i + step + tabs.length) % tabs.length], true);
  });
});

// ---- the current model: trained here or opened in Inspect; Draw and Inspect use it ----
let current: { network: Network; bytes: Uint8Array; name: string } | null = null;

function setModel(bytes: Uint8Array, name: string): void {
  const { network } = decodeModel(bytes, name);
  current?.network.dispose();
  current = { network, bytes, name };
  $('draw-model').textContent = `Model: ${name} (${network.parameterCount.toLocaleString('en-US')} parameters)`;
  $('summary').textContent = formatSummary(checkSpec(network.spec()), name);
  for (const id of ['download-model', 'download-onnx', 'mistakes-button', 'download-trained']) $<HTMLButtonElement>(id).disabled = false;
  try {
    const { layer } = firstConvolution(network);
    drawPicture($<HTMLCanvasElement>('inspect-filters'), filterGrid(new Tensor(Float32Array.from(readTensorSync(layer.W)), [...layer.W.shape]), { scale: 6 }).picture);
  } catch {
    $<HTMLCanvasElement>('inspect-filters').width = 1; // no convolution: no filters
  }
  $('inspect-message').textContent = `Opened ${name}.`;
  predictDrawing();
  if (lastImage) showFeatures(lastImage);
}

function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- Train ----
const modelSelect = $<HTMLSelectElement>('model');
const specArea = $<HTMLTextAreaElement>('spec');
for (const [name, entry] of Object.entries(ZOO)) {
  if (name === 'alexnet-227') continue; // ImageNet-sized: 62M parameters, not for 28x28 digits
  const o = document.createElement('option');
  o.value = name;
  o.textContent = `${name}: ${entry.description}`;
  modelSelect.appendChild(o);
}
let specText = '';
function pickModel(): void {
  const name = modelSelect.value;
  specText = JSON.stringify(zooSpec(name), null, 2);
  specArea.value = specText;
  const r = zooRecipe(name);
  $<HTMLSelectElement>('optimizer').value = r.optimizer;
  input('lr').value = String(r.lr);
  input('batch').value = String(r.batchSize);
  checkSpecText();
}
/** The spec as typed: parsed and checked on every keystroke, the first problem shown inline. */
function checkSpecText(): NetworkSpec | null {
  const error = $('spec-error');
  try {
    const spec = JSON.parse(specArea.value) as NetworkSpec;
    const checked = checkSpec(spec, 10);
    error.textContent = '';
    error.className = 'muted';
    error.textContent = `valid: ${checked.layers.length} layers, ${checked.paramCount.toLocaleString('en-US')} parameters`;
    specArea.removeAttribute('aria-invalid');
    return spec;
  } catch (e) {
    error.className = 'error';
    error.textContent = firstLine(e);
    specArea.setAttribute('aria-invalid', 'true');
    return null;
  }
}
modelSelect.addEventListener('change', pickModel);
specArea.addEventListener('input', checkSpecText);

let idxFiles: Record<string, ArrayBuffer> = {};
async function takeIdxFiles(files: FileList | File[]): Promise<void> {
  const keys: [RegExp, string][] = [[/train-images/, 'trainImages'], [/train-labels/, 'trainLabels'], [/t10k-images|test-images/, 'testImages'], [/t10k-labels|test-labels/, 'testLabels']];
  for (const f of Array.from(files)) {
    const key = keys.find(([re]) => re.test(f.name))?.[1];
    if (key) idxFiles[key] = await f.arrayBuffer();
  }
  const have = Object.keys(idxFiles);
  $('idx-status').textContent = have.length === 4 ? 'All four IDX files loaded.' : `Have ${have.join(', ') || 'none'}; need train-images, train-labels, t10k-images, t10k-labels.`;
  if (have.length === 4) (document.querySelector('input[name="data"][value="files"]') as HTMLInputElement).checked = true;
}
input('idx-files').addEventListener('change', () => void takeIdxFiles(input('idx-files').files!));
dropZone($('idx-drop'), (files) => void takeIdxFiles(files), () => input('idx-files').click());

let worker: TrainerWorker | null = null;
let workerInfo: Promise<{ backend: string; threads: number }> | null = null;
function getWorker(): TrainerWorker {
  if (!worker) {
    // the worker finds the kernels under /wasm/ (served by scratchnet serve)
    worker = createTrainerWorker(new Worker(new URL('worker.js?wasm=wasm/', location.href), { type: 'module' }));
    workerInfo = worker.ready;
    worker.on(onTrainerEvent);
  }
  return worker;
}

const run = { losses: [] as number[], evalSteps: [] as number[], trainAcc: [] as number[], testAcc: [] as number[], totalSteps: 1, running: false };
function setButtons(state: 'idle' | 'training' | 'paused' | 'loading'): void {
  $('state').textContent = state;
  $<HTMLButtonElement>('start').disabled = state !== 'idle';
  $<HTMLButtonElement>('pause').disabled = state !== 'training';
  $<HTMLButtonElement>('resume').disabled = state !== 'paused';
  $<HTMLButtonElement>('stop').disabled = state === 'idle';
}
const fmtTime = (s: number) => (!Number.isFinite(s) ? '-' : s < 90 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

let chartQueued = false;
function redrawCharts(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawChart($<HTMLCanvasElement>('loss-chart'), [{ values: run.losses, color: '#d66028', label: 'loss' }], { yMin: 0, xMax: run.totalSteps });
    drawChart($<HTMLCanvasElement>('acc-chart'), [
      { values: run.trainAcc, xs: run.evalSteps, color: '#4678b4', label: 'train' },
      { values: run.testAcc, xs: run.evalSteps, color: '#d66028', label: 'test' },
    ], { yMin: 0, yMax: 1, xMax: run.totalSteps, format: (v) => `${Math.round(v * 100)}%` });
  });
}

function onTrainerEvent(e: TrainerEvent): void {
  switch (e.type) {
    case 'status':
      setButtons(e.state);
      if (e.state === 'loading') $('train-message').textContent = 'Loading the data set…';
      break;
    case 'started':
      run.totalSteps = e.totalSteps;
      $('train-message').textContent = `Training ${e.model}: ${e.parameters.toLocaleString('en-US')} parameters, ${e.trainSize} training images, ${e.settings.optimizer} lr ${e.settings.lr}, batch ${e.settings.batchSize}, ${e.settings.epochs} epoch(s), ${e.totalSteps} steps.`;
      break;
    case 'progress':
      run.losses.push(...e.losses);
      run.totalSteps = e.totalSteps;
      $('step').textContent = `${e.step} / ${e.totalSteps}`;
      $('epoch').textContent = String(e.epoch);
      $('loss').textContent = e.loss.toFixed(4);
      $('speed').textContent = e.stepsPerSecond ? e.stepsPerSecond.toFixed(1) : '-';
      $('eta').textContent = fmtTime(e.eta);
      redrawCharts();
      break;
    case 'eval':
      run.evalSteps.push(e.step);
      run.trainAcc.push(e.trainAcc);
      run.testAcc.push(e.testAcc);
      $('acc').textContent = `${(100 * e.testAcc).toFixed(1)}%`;
      $('confusion-step').textContent = `(step ${e.step})`;
      confusionTable($('confusion'), e.confusion);
      redrawCharts();
      break;
    case 'weights':
      drawPicture($<HTMLCanvasElement>('filters'), filterGrid(new Tensor(e.data, e.shape), { scale: 6 }).picture);
      $('filters-step').textContent = `(${e.layer}, step ${e.step})`;
      $('filters').dataset.step = String(e.step);
      break;
    case 'done':
      run.running = false;
      setButtons('idle');
      $('train-message').textContent = e.completed
        ? `Done: ${e.steps} steps in ${fmtTime(e.seconds)}; accuracy on all test images ${(100 * e.finalTestAcc).toFixed(2)}%. The model is ready in Draw and Inspect.`
        : `Stopped after ${e.steps} steps (${fmtTime(e.seconds)}). The model so far is ready in Draw and Inspect.`;
      try {
        setModel(e.bytes, `trained-${e.steps}-steps.safetensors`);
      } catch (err) {
        $('train-message').textContent = firstLine(err);
      }
      break;
    case 'error':
      run.running = false;
      setButtons('idle');
      $('train-message').textContent = `Error: ${e.message}`;
      break;
    default:
      break;
  }
}

$('train-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const spec = checkSpecText();
  if (!spec) {
    specArea.focus();
    return;
  }
  const useFiles = (document.querySelector('input[name="data"]:checked') as HTMLInputElement).value === 'files';
  if (useFiles && Object.keys(idxFiles).length < 4) {
    $('idx-status').textContent = 'Drop all four IDX files first (or pick MNIST).';
    return;
  }
  const data: TrainerDataSource = useFiles ? ({ ...idxFiles } as unknown as TrainerDataSource) : { base: new URL('data/', location.href).href };
  if (useFiles) idxFiles = {}; // their buffers move to the worker
  Object.assign(run, { losses: [], evalSteps: [], trainAcc: [], testAcc: [], running: true });
  const num = (id: string) => Number(input(id).value);
  // an unedited built-in keeps its name, so its recipe's init applies as in `scratchnet train`
  const model = specArea.value === specText ? modelSelect.value : spec;
  setButtons('loading');
  getWorker().start(model, data, {
    optimizer: $<HTMLSelectElement>('optimizer').value as 'adam', lr: num('lr'), batchSize: num('batch'), epochs: num('epochs'),
    trainSamples: num('samples'), evalEvery: num('eval-every'), evalSamples: 500, snapshotEvery: 10, seed: 1,
  });
});
$('pause').addEventListener('click', () => worker?.pause());
$('resume').addEventListener('click', () => worker?.resume());
$('stop').addEventListener('click', () => worker?.stop());
// learning rate and batch size apply between steps while a run goes on
input('lr').addEventListener('change', () => run.running && Number(input('lr').value) > 0 && worker?.set({ lr: Number(input('lr').value) }));
input('batch').addEventListener('change', () => run.running && Number(input('batch').value) >= 1 && worker?.set({ batchSize: Number(input('batch').value) }));
$('download-trained').addEventListener('click', () => current && download(current.bytes, 'model.safetensors', 'application/octet-stream'));

// ---- Draw ----
const pad = $<HTMLCanvasElement>('pad');
const padCtx = pad.getContext('2d', { willReadFrequently: true })!;
function clearPad(): void {
  padCtx.fillStyle = '#fff';
  padCtx.fillRect(0, 0, pad.width, pad.height);
  $('top3').replaceChildren();
  $<HTMLCanvasElement>('digit').getContext('2d')!.clearRect(0, 0, 112, 112);
  $<HTMLCanvasElement>('layers').width = 1;
  drawn = false;
}
let drawn = false;
let last: { x: number; y: number } | null = null;
const at = (e: PointerEvent) => {
  const r = pad.getBoundingClientRect();
  return { x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height };
};
pad.addEventListener('pointerdown', (e) => {
  pad.setPointerCapture(e.pointerId);
  last = at(e);
  stroke(last, last);
});
pad.addEventListener('pointermove', (e) => {
  if (!last) return;
  const p = at(e);
  stroke(last, p);
  last = p;
});
const endStroke = () => {
  last = null;
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
function stroke(a: { x: number; y: number }, b: { x: number; y: number }): void {
  padCtx.strokeStyle = '#000';
  padCtx.lineWidth = 20;
  padCtx.lineCap = 'round';
  padCtx.lineJoin = 'round';
  padCtx.beginPath();
  padCtx.moveTo(a.x, a.y);
  padCtx.lineTo(b.x, b.y);
  padCtx.stroke();
  drawn = true;
  predictDrawing();
}
$('clear').addEventListener('click', clearPad);

let predictQueued = false;
/** The drawing -> MNIST-style 28x28 -> every layer of the current model (once per frame). */
function predictDrawing(): void {
  if (predictQueued) return;
  predictQueued = true;
  requestAnimationFrame(() => {
    predictQueued = false;
    if (!drawn || $('view-draw').hidden) return;
    const digit = toMnistDigit(toGray(fromImageData(padCtx.getImageData(0, 0, pad.width, pad.height))));
    const levels = new Uint8Array(28 * 28 * 4);
    for (let i = 0; i < 784; i++) levels.set([digit[i] * 255, digit[i] * 255, digit[i] * 255, 255], 4 * i);
    const small = document.createElement('canvas');
    drawPicture(small, { width: 28, height: 28, data: levels });
    const view = $<HTMLCanvasElement>('digit').getContext('2d')!;
    view.imageSmoothingEnabled = false;
    view.drawImage(small, 0, 0, 112, 112);
    if (!current) return;
    const shape = current.network.inputShape;
    if (shape.join('x') !== '1x28x28') {
      $('top3').textContent = `this model takes ${shape.join('x')} inputs, not 28x28 digits`;
      return;
    }
    const acts = layerActivations(current.network, new Tensor(digit, [1, 1, 28, 28]));
    const probs = acts[acts.length - 1].values;
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 3);
    $('top3').replaceChildren(...order.map((k) => {
      const li = document.createElement('li');
      li.textContent = `${k}: ${(100 * probs[k]).toFixed(1)}%`;
      li.dataset.class = String(k);
      return li;
    }));
    drawPicture($<HTMLCanvasElement>('layers'), activationsPicture(acts, { columns: 10 }).picture);
  });
}
clearPad();

// ---- Inspect ----
function dropZone(zone: HTMLElement, take: (files: File[]) => void, open: () => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    take(Array.from(e.dataTransfer?.files ?? []));
  });
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open();
    }
  });
}
async function openModelFile(file: File): Promise<void> {
  try {
    setModel(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (e) {
    $('inspect-message').textContent = `Cannot open ${file.name}: ${firstLine(e)}`;
  }
}
input('model-file').addEventListener('change', () => {
  const f = input('model-file').files?.[0];
  if (f) void openModelFile(f);
});
dropZone($('model-drop'), (files) => files[0] && void openModelFile(files[0]), () => input('model-file').click());
$('download-model').addEventListener('click', () => current && download(current.bytes, current.name.endsWith('.safetensors') ? current.name : `${current.name}.safetensors`, 'application/octet-stream'));
$('download-onnx').addEventListener('click', () => {
  if (!current) return;
  try {
    download(exportOnnx(current.network), current.name.replace(/\.safetensors$/, '') + '.onnx', 'application/octet-stream');
  } catch (e) {
    $('inspect-message').textContent = `ONNX export failed: ${firstLine(e)}`;
  }
});

let lastImage: Float32Array | null = null;
/** The image as an MNIST-style digit through the first layer's filters. */
function showFeatures(digit: Float32Array): void {
  if (!current) return;
  try {
    const { layer } = firstConvolution(current.network);
    const W = new Tensor(Float32Array.from(readTensorSync(layer.W)), [...layer.W.shape]);
    if (W.shape[1] !== 1) throw new Error('the first layer takes colour images; feature maps are shown for grey digits');
    drawPicture($<HTMLCanvasElement>('features'), featureMapGrid(featureMaps(W, new Tensor(digit, [1, 1, 28, 28])), { columns: 10 }).picture);
  } catch (e) {
    $('inspect-message').textContent = firstLine(e);
  }
}
input('image-file').addEventListener('change', async () => {
  const f = input('image-file').files?.[0];
  if (!f) return;
  try {
    // the browser's own decoder (any format it shows), then the library's MNIST-style preparation
    const bitmap = await createImageBitmap(f);
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    lastImage = toMnistDigit(toGray(fromImageData(ctx.getImageData(0, 0, bitmap.width, bitmap.height))));
    showFeatures(lastImage);
  } catch (e) {
    $('inspect-message').textContent = `Cannot read ${f.name}: ${firstLine(e)}`;
  }
});

let testSet: { x: Tensor; t: Int32Array } | null = null;
$('mistakes-button').addEventListener('click', async () => {
  if (!current) return;
  const message = $('mistakes-message');
  try {
    if (!testSet) {
      message.textContent = 'Fetching the test images…';
      const get = async (name: string) => idxFromBytes(new Uint8Array(await (await fetch(`data/${name}`)).arrayBuffer()), name);
      const [images, labels] = await Promise.all([get('t10k-images-idx3-ubyte'), get('t10k-labels-idx1-ubyte')]);
      const n = Math.min(2000, images.dims[0]);
      const x = new Float32Array(n * 784);
      for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
      testSet = { x: new Tensor(x, [n, 1, 28, 28]), t: Int32Array.from(labels.data.subarray(0, n)) };
    }
    const ev = evaluateNetwork(current.network, testSet.x, testSet.t);
    const worst = worstMistakes(ev, testSet.t, 30);
    message.textContent = `${ev.total - ev.correct} of ${ev.total} wrong (${(100 * ev.accuracy).toFixed(2)}% right); the ${worst.length} worst, labelled true>predicted:`;
    drawPicture($<HTMLCanvasElement>('mistakes'), mistakeGrid(testSet.x, worst, { columns: 10, scale: 2 }).picture);
  } catch (e) {
    message.textContent = firstLine(e);
  }
});

// ---- start ----
pickModel();
setButtons('idle');
redrawCharts();
ready({ wasmPaths: new URL('wasm/', location.href) }).then(
  async (backend) => {
    getWorker(); // started now, so its data and kernels are ready when Start is pressed
    const info = await workerInfo!;
    $('backend').textContent = `page: ${backend.name}; trainer worker: ${info.backend}, ${info.threads} thread(s)${crossOriginIsolated ? '' : ' (not cross-origin isolated: one thread)'}`;
    document.body.dataset.ready = 'true';
  },
  (e) => {
    $('backend').textContent = `engine failed to load: ${firstLine(e)}`;
  },
);
// for the tests and the console: the current model's bytes
(globalThis as { scratchnetPlayground?: unknown }).scratchnetPlayground = { current: () => current, run, encodeModel };
