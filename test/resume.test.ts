// Checkpoints and resume: a resumed run ends bit-identical to an uninterrupted one (every
// optimizer, in-process); the real command stopped with SIGINT resumes bit-identically; a run
// killed with SIGKILL in the middle of writing a checkpoint leaves the previous one intact;
// a NaN stops training with the step and the layer and keeps the last good checkpoint.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { run } from '../src/cli/cli.js';
import type { Io } from '../src/cli/io.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint, restoreTrainer } from '../src/io/checkpoint.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { buildFromSpec } from '../src/models/sequential.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { OPTIMIZER_NAMES } from '../src/optimizers/index.js';
import { Tensor } from '../src/tensor.js';
import { NonFiniteError, Trainer, type TrainData } from '../src/train/trainer.js';
import { lcg } from './helpers.js';
import { type Result, cli } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-resume-'));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const SLOW_WRITES = fileURLToPath(new URL('./fixtures/slow-writes.ts', import.meta.url));

/** A small IDX data set (the first train/test images of MNIST), so runs take seconds. */
function smallMnist(trainN: number, testN: number): string {
  const out = join(dir, `data-${trainN}-${testN}`);
  mkdirSync(out, { recursive: true });
  const src = defaultMnistDir();
  const copy = (name: string, n: number, per: number, headerLength: number) => {
    const bytes = readFileSync(join(src, name));
    const head = Buffer.from(bytes.subarray(0, headerLength));
    head.writeUInt32BE(n, 4);
    writeFileSync(join(out, name), Buffer.concat([head, bytes.subarray(headerLength, headerLength + n * per)]));
  };
  copy('train-images-idx3-ubyte', trainN, 784, 16);
  copy('train-labels-idx1-ubyte', trainN, 1, 8);
  copy('t10k-images-idx3-ubyte', testN, 784, 16);
  copy('t10k-labels-idx1-ubyte', testN, 1, 8);
  return out;
}

const data = smallMnist(600, 100);
const RUN = ['--data', data, '--epochs', '2', '--batch-size', '50', '--eval-samples', '50', '--seed', '3', '--quiet'];
const TOTAL = 24; // steps: 2 epochs x 600 / 50


/** Start the real command (through tsx) as a child process. */
/** Start the real command; `slowWrites`: checkpoint writes take SLOW_WRITE_MS (test/fixtures/slow-writes.ts). */
function child(argv: string[], env: Record<string, string> = {}, slowWrites = false) {
  const preload = slowWrites ? ['--import', SLOW_WRITES] : [];
  const proc = spawn(process.execPath, ['--import', TSX, ...preload, MAIN, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Result & { signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { proc, done };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function paramBytes(file: string): Record<string, Buffer> {
  const { tensors } = decodeSafetensors(readFileSync(file), file);
  const out: Record<string, Buffer> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return out;
}

function assertSameParams(a: string, b: string): void {
  const pa = paramBytes(a);
  const pb = paramBytes(b);
  assert.deepEqual(Object.keys(pb).sort(), Object.keys(pa).sort(), 'same tensors');
  for (const k of Object.keys(pa)) assert.ok(pa[k].equals(pb[k]), `parameter ${k} differs between ${a} and ${b}`);
}

const reference = join(dir, 'reference.safetensors');
let referenceRun: Promise<Result> | null = null;
/** The uninterrupted run every resumed run must reproduce. */
function uninterrupted(): Promise<Result> {
  referenceRun ??= cli('train', ...RUN, '--out', reference);
  return referenceRun;
}

/** The bytes of a typed array (its own range only: the buffer may be a shared memory). */
function bytesOf(a: Float32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function tinyData(seed: number): TrainData {
  const rand = lcg(seed);
  const x = (n: number) => new Tensor(Float32Array.from({ length: n * 64 }, () => rand()), [n, 1, 8, 8]);
  const t = (n: number) => Int32Array.from({ length: n }, () => Math.floor(rand() * 3));
  return { train: { x: x(30), t: t(30) }, test: { x: x(10), t: t(10) } };
}

describe('checkpoint round trip (library)', () => {
  for (const optimizer of OPTIMIZER_NAMES) {
    it(`${optimizer}: stop mid-epoch, checkpoint, restore -> bit-identical parameters and history`, () => {
      const data = tinyData(7);
      const make = () => new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 3, filterSize: 3 }, hiddenSize: 6, outputSize: 3, seed: 5, weightInitStd: 'he' });
      const options = { epochs: 3, batchSize: 7, optimizer, optimizerParam: { lr: 0.01 }, seed: 11, evaluateSampleNumPerEpoch: 10 } as const;
      const a = new Trainer(make(), data, options);
      a.train();

      const b = new Trainer(make(), data, options);
      for (let i = 0; i < 7; i++) b.trainStep(); // 5 steps per epoch: stop in the middle of epoch 2
      const bytes = encodeCheckpoint(b, { note: 'test' });
      const ckpt = decodeCheckpoint(bytes, 'mem.ckpt');
      assert.deepEqual(ckpt.config, { note: 'test' }, 'config round trip');
      assert.equal(ckpt.trainer.step, 7, 'step count');
      const c = new Trainer(ckpt.network, data, options);
      restoreTrainer(c, ckpt, 'mem.ckpt');
      c.train();
      for (const [name, p] of Object.entries(a.network.params)) {
        assert.deepEqual(bytesOf(c.network.params[name].data), bytesOf(p.data), `${optimizer}: ${name} not bit-identical after resume`);
      }
      assert.deepEqual(c.trainLossList, a.trainLossList, 'loss history');
      assert.deepEqual(c.testAccList, a.testAccList, 'accuracy history');
    });
  }

  it('dropout masks and batch-norm running statistics resume exactly too', () => {
    const data = tinyData(8);
    const spec = {
      input: [1, 8, 8],
      layers: [
        { type: 'conv', filters: 3, size: 3 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
        { type: 'dense', units: 8 }, { type: 'dropout', ratio: 0.4 }, { type: 'relu' }, { type: 'dense', units: 3 },
      ],
    };
    const options = { epochs: 3, batchSize: 7, optimizer: 'adam', seed: 2 } as const;
    const a = new Trainer(buildFromSpec(spec, { seed: 6 }), data, options);
    a.train();
    const b = new Trainer(buildFromSpec(spec, { seed: 6 }), data, options);
    for (let i = 0; i < 8; i++) b.trainStep();
    const ckpt = decodeCheckpoint(encodeCheckpoint(b, {}), 'mem.ckpt');
    const c = new Trainer(ckpt.network, data, options);
    restoreTrainer(c, ckpt, 'mem.ckpt');
    c.train();
    const all = (t: Trainer) => ({ ...t.network.params, ...t.network.buffers });
    for (const [name, p] of Object.entries(all(a))) {
      assert.deepEqual(bytesOf(all(c)[name].data), bytesOf(p.data), `${name} not bit-identical after resume`);
    }
  });

  it('an update that overflows the parameters stops the trainer too', () => {
    const data = tinyData(4);
    const net = new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3, seed: 2 });
    const t = new Trainer(net, data, { epochs: 1, batchSize: 5, optimizer: 'sgd', optimizerParam: { lr: 1e300 }, seed: 1 });
    // float32 parameters: lr 1e300 times any non-zero gradient is an infinity.
    assert.throws(() => t.trainStep(), /training stopped at step 1: the sgd update made parameter \w+ -?Infinity .*after the update \(is the learning rate too high\?\)/, 'refused');
  });

  it('refuses damaged or mismatched checkpoints with one-line errors', () => {
    const data = tinyData(1);
    const make = () => new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3, seed: 1 });
    const t = new Trainer(make(), data, { epochs: 2, batchSize: 4, optimizer: 'adam', seed: 1 });
    t.trainStep();
    const bytes = encodeCheckpoint(t, {});
    const ckpt = decodeCheckpoint(bytes, 'x.ckpt');
    const sgd = new Trainer(ckpt.network, data, { epochs: 2, batchSize: 4, optimizer: 'sgd', seed: 1 });
    assert.throws(() => restoreTrainer(sgd, ckpt, 'x.ckpt'), /x\.ckpt: the checkpoint was trained with adam, not sgd/, 'optimizer mismatch');
    const other = new Trainer(ckpt.network, { ...data, train: { x: data.train.x.sliceRows(0, 20), t: (data.train.t as Int32Array).subarray(0, 20) } }, { epochs: 2, batchSize: 4, optimizer: 'adam', seed: 1 });
    assert.throws(() => restoreTrainer(other, ckpt, 'x.ckpt'), /x\.ckpt: trainer state: .*permutation of 20 samples/, 'different data set size');
    const text = Buffer.from(bytes).toString('latin1').replace('"scratchnet-checkpoint"', '"scratchnet"           ');
    assert.throws(() => decodeCheckpoint(Buffer.from(text, 'latin1'), 'm.safetensors'), /m\.safetensors: this is a model file, not a training checkpoint/, 'model file given as checkpoint');
  });

  it('a NaN stops the trainer before the update, naming the step and the layer', () => {
    const data = tinyData(3);
    const net = new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 4, outputSize: 3, seed: 2 });
    const t = new Trainer(net, data, { epochs: 1, batchSize: 5, optimizer: 'sgd', seed: 1 });
    t.trainStep();
    net.params.W2.data[3] = Infinity;
    const before = net.params.W1.data.slice();
    assert.throws(() => t.trainStep(), (e: unknown) => {
      assert.ok(e instanceof NonFiniteError, `NonFiniteError expected, got ${String(e)}`);
      assert.equal(e.step, 2, 'step');
      assert.match(e.message, /step 2: .*in parameter W2 \(value Infinity at index 3\)/, 'message');
      return true;
    });
    assert.deepEqual(net.params.W1.data, before, 'no update after a non-finite step');
  });
});

describe('train --checkpoint-every / --resume (the real command)', () => {
  it('SIGINT: finishes the step, writes a checkpoint, says how to resume; the resumed run is bit-identical', async () => {
    const out = join(dir, 'sigint.safetensors');
    const ckpt = join(dir, 'sigint.ckpt.safetensors');
    const ref = uninterrupted();
    const { proc, done } = child(['train', ...RUN, '--out', out, '--checkpoint-every', '2']);
    await waitFor('the first checkpoint', () => existsSync(ckpt));
    proc.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, `exit code 130 after SIGINT (stderr: ${r.stderr})`);
    assert.match(r.stderr, new RegExp(`interrupted at step \\d+/${TOTAL}; checkpoint saved to .*sigint\\.ckpt\\.safetensors`), 'interruption message');
    assert.match(r.stderr, /resume with: scratchnet train --resume .*sigint\.ckpt\.safetensors/, 'how to resume');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(out), 'no model written by an interrupted run');
    const step = (await readCheckpoint(ckpt)).trainer.step;
    assert.ok(step >= 2 && step < TOTAL, `stopped mid-run (step ${step})`);

    const resumed = await cli('train', '--resume', ckpt, '--out', out);
    assert.equal(resumed.code, 0, `resume exit code (stderr: ${resumed.stderr})`);
    assert.equal((await ref).code, 0, 'reference run');
    assert.ok(!existsSync(join(dir, 'reference.ckpt.safetensors')), 'a completed run removes its default checkpoint');
    assertSameParams(reference, out);
    const history = (f: string) => JSON.parse(decodeSafetensors(readFileSync(f), f).metadata.training).trainLossList;
    assert.deepEqual(history(out), history(reference), 'the whole loss history survives the interruption');
  });

  it('SIGKILL in the middle of a checkpoint write leaves the previous checkpoint intact and loadable', async () => {
    const sub = join(dir, 'kill');
    mkdirSync(sub);
    const out = join(sub, 'kill.safetensors');
    const ckpt = join(sub, 'kill.ckpt.safetensors');
    // Each checkpoint write pauses 700 ms halfway through its temp file.
    const { proc, done } = child(['train', ...RUN, '--out', out, '--checkpoint-every', '5'], { SLOW_WRITE_MS: '700' }, true);
    const temps = () => readdirSync(sub).filter((f) => f.endsWith('.tmp'));
    await waitFor('a checkpoint, then the next one half written', () => existsSync(ckpt) && temps().length > 0);
    proc.kill('SIGKILL');
    const r = await done;
    assert.equal(r.signal, 'SIGKILL', 'killed');
    const partial = temps();
    assert.equal(partial.length, 1, 'the interrupted write left its temp file');
    assert.ok(statSync(join(sub, partial[0])).size < statSync(ckpt).size, 'the temp file is partial: the kill came mid-write');
    const saved = await readCheckpoint(ckpt);
    assert.equal(saved.trainer.step, 5, 'the previous checkpoint (step 5) is intact');

    const resumed = await cli('train', '--resume', ckpt, '--out', out);
    assert.equal(resumed.code, 0, `resume after SIGKILL (stderr: ${resumed.stderr})`);
    assert.deepEqual(temps(), [], 'the resumed run removed the dead writer\'s temp file');
    assert.equal((await uninterrupted()).code, 0, 'reference run');
    assertSameParams(reference, out);
  });

  it('SIGTERM: exit code 143 and a checkpoint at the step it stopped', async () => {
    const out = join(dir, 'term.safetensors');
    let stdout = '', stderr = '', sent = false;
    const io: Io = {
      out: (l) => (stdout += l + '\n'),
      err: (l) => (stderr += l + '\n'),
      // The first progress line (10%) sends SIGTERM to this process's handlers.
      progress: { write: (s: string) => ((sent ||= (s.includes('%') && process.emit('SIGTERM', 'SIGTERM'))), true), isTTY: false },
    };
    const code = await run(['train', ...RUN.filter((a) => a !== '--quiet'), '--out', out], io);
    assert.ok(sent, 'the signal was sent');
    assert.equal(code, 143, `exit code (stderr: ${stderr}, stdout: ${stdout})`);
    const saved = await readCheckpoint(join(dir, 'term.ckpt.safetensors'));
    assert.match(stderr, new RegExp(`interrupted at step ${saved.trainer.step}/${TOTAL}`), 'message names the step');
    assert.equal(process.listenerCount('SIGTERM'), 0, 'signal handlers removed after the run');
  });

  it('a diverging run stops with the step and layer and keeps the last good checkpoint', async () => {
    const out = join(dir, 'nan.safetensors');
    const ckpt = join(dir, 'nan.ckpt.safetensors');
    const r = await cli('train', '--data', data, '--epochs', '1', '--batch-size', '50', '--optimizer', 'sgd', '--lr', '1e30', '--checkpoint-every', '1', '--quiet', '--out', out);
    assert.equal(r.code, 1, `exit code 1 (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0], /training stopped at step (\d+): .*first non-finite values appear in the output of layer \w+.*last good checkpoint \(step \d+\) is .*nan\.ckpt\.safetensors/, 'message');
    const failedStep = Number(/at step (\d+)/.exec(lines[0])![1]);
    const saved = await readCheckpoint(ckpt);
    assert.equal(saved.trainer.step, failedStep - 1, 'the checkpoint is the step before the failure');
    assert.ok(!existsSync(out), 'no model written');
  });

  it('usage: run settings cannot be changed when resuming; bad checkpoint files are refused', async () => {
    const r = await cli('train', '--resume', join(dir, 'x.ckpt'), '--epochs', '5');
    assert.equal(r.code, 2, 'usage error');
    assert.match(r.stderr, /--epochs cannot be combined with --resume/, 'message');
    const folder = await cli('train', '--checkpoint', join(dir, 'nowhere', 'c.ckpt'), '--out', join(dir, 'never.safetensors'));
    assert.equal(folder.code, 1, 'checkpoint folder missing');
    assert.match(folder.stderr, /cannot write checkpoints there: folder .*nowhere does not exist/, 'refused before training');
    const missing = await cli('train', '--resume', join(dir, 'missing.ckpt'));
    assert.equal(missing.code, 1, 'missing file');
    assert.match(missing.stderr, /missing\.ckpt: no such file/, 'missing message');
    await uninterrupted();
    const model = await cli('train', '--resume', reference);
    assert.equal(model.code, 1, 'model file is not a checkpoint');
    assert.match(model.stderr, /this is a model file, not a training checkpoint/, 'model file message');
  });
});
