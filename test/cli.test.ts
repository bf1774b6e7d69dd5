// The scratchnet command end to end: flags, errors (one line, exit code), and the main job:
// one epoch on the full MNIST reaches at least 97%; eval and predict use the saved model.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import pngjs from 'pngjs';
import { parseIdx } from '../src/data/idx.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { type Result, assertOneLineError, cli } from './cli-helpers.js';

const exec = promisify(execFile);
const MAIN = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), 'scratchnet-cli-'));


/** Run the built binary as a user would. */
async function bin(...argv: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...argv], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('usage errors (exit 2, one line)', () => {
  it('help everywhere', async () => {
    for (const cmd of ['train', 'eval', 'predict']) {
      const r = await cli(cmd, '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Usage: scratchnet/);
      assert.match(r.stdout, /--help/);
    }
    assert.match((await cli('--help')).stdout, /Commands:[\s\S]*train[\s\S]*eval[\s\S]*predict/);
  });
  it('unknown commands, unknown flags, bad values, missing values', async () => {
    assertOneLineError(await cli('fly'), 2, /unknown command 'fly'/);
    assertOneLineError(await cli('train', '--epoch', '3'), 2, /unknown option '--epoch'/);
    assertOneLineError(await cli('train', '--epochs', 'ten'), 2, /--epochs must be an integer, got 'ten'/);
    assertOneLineError(await cli('train', '--epochs', '0'), 2, /--epochs must be at least 1/);
    assertOneLineError(await cli('train', '--optimizer', 'rmsprop'), 2, /--optimizer must be one of sgd, momentum, adagrad, adam/);
    assertOneLineError(await cli('train', '--lr'), 2, /--lr needs a value/);
    assertOneLineError(await cli('train', '--init', 'big'), 2, /--init must be/);
    assertOneLineError(await cli('train', 'extra'), 2, /unexpected argument 'extra'/);
    assertOneLineError(await cli('eval'), 2, /--model is required/);
    assertOneLineError(await cli('predict', '--model', 'm.safetensors'), 2, /missing IMAGE/);
    assertOneLineError(await cli('train', '--backend', 'cuda'), 2, /--backend must be one of/);
  });
  it('the real binary: exit code 2 and no stack trace', async () => {
    assertOneLineError(await bin('train', '--batch-size', '-5'), 2, /--batch-size must be at least 1/);
  });
});

describe('bad files (exit 1, one line naming the file)', () => {
  it('missing or corrupt model files', async () => {
    assertOneLineError(await cli('eval', '--model', join(dir, 'none.safetensors')), 1, /none\.safetensors: no such file/);
    const junk = join(dir, 'junk.safetensors');
    await writeFile(junk, 'definitely not safetensors');
    assertOneLineError(await cli('eval', '--model', junk), 1, /junk\.safetensors: /);
  });
  it('truncated IDX data', async () => {
    const data = join(dir, 'bad-mnist');
    await mkdir(data);
    for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) await copyFile(join(defaultMnistDir(), f), join(data, f));
    const train = await readFile(join(defaultMnistDir(), 'train-images-idx3-ubyte'));
    await writeFile(join(data, 'train-images-idx3-ubyte'), train.subarray(0, 100000));
    const r = await cli('train', '--epochs', '1', '--data', data, '--out', join(dir, 'never.safetensors'));
    assertOneLineError(r, 1, /train-images-idx3-ubyte: .*truncated/);
    await assert.rejects(readFile(join(dir, 'never.safetensors')), /ENOENT/);
  });
  it('an output folder that does not exist is refused before training', async () => {
    assertOneLineError(await cli('train', '--out', join(dir, 'nope', 'm.safetensors')), 1, /folder .* does not exist/);
  });
});

describe('same seed, same command: the same parameters bit for bit', () => {
  it('two runs with seed 7 agree; seed 8 differs', async () => {
    const go = async (seed: number, name: string) => {
      const out = join(dir, name);
      const r = await cli('train', '--epochs', '1', '--train-samples', '600', '--eval-samples', '100', '--seed', String(seed), '--out', out, '--quiet');
      assert.equal(r.code, 0, r.stderr);
      return decodeSafetensors(await readFile(out), out).tensors;
    };
    const a = await go(7, 'a.safetensors'), b = await go(7, 'b.safetensors'), c = await go(8, 'c.safetensors');
    for (const k of ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']) {
      assert.deepEqual(Buffer.from(a[k].data.buffer), Buffer.from(b[k].data.buffer), `${k} differs between identical runs`);
    }
    assert.notDeepEqual(Buffer.from(a.W1.data.buffer), Buffer.from(c.W1.data.buffer));
  });
});

describe('the main job: one epoch on the full MNIST, then eval and predict', () => {
  const model = join(dir, 'one-epoch.safetensors');
  let trainOut: Result;
  before(async () => {
    trainOut = await bin('train', '--epochs', '1', '--out', model);
  });

  it('reaches at least 97% on the full 10,000 test images and saves the model', () => {
    assert.equal(trainOut.code, 0, trainOut.stderr);
    const m = /final test accuracy: ([\d.]+)% on 10000 test images/.exec(trainOut.stdout);
    assert.ok(m, trainOut.stdout);
    assert.ok(Number(m[1]) >= 97, `one epoch reached ${m[1]}%`);
    assert.match(trainOut.stderr, /epoch  1\/1 .*test acc/);
    assert.match(trainOut.stderr, /steps\/s ETA/);
  });

  it('eval reports the same accuracy and a 10x10 confusion matrix', async () => {
    const r = await bin('eval', '--model', model);
    assert.equal(r.code, 0, r.stderr);
    const trained = /final test accuracy: ([\d.]+)%/.exec(trainOut.stdout)![1];
    assert.match(r.stdout, new RegExp(`test accuracy: ${trained.replace('.', '\\.')}% \\(\\d+/10000\\)`));
    const rows = r.stdout.split('\n').filter((l) => /^\d\s/.test(l));
    assert.equal(rows.length, 10);
    const total = rows.reduce((s, l) => s + l.trim().split(/\s+/).slice(1, 11).reduce((a, v) => a + Number(v), 0), 0);
    assert.equal(total, 10000);
  });

  it('predict classifies real test digits drawn dark-on-light, enlarged and coloured', async () => {
    const images = parseIdx(await readFile(join(defaultMnistDir(), 't10k-images-idx3-ubyte')), 't10k');
    const labels = parseIdx(await readFile(join(defaultMnistDir(), 't10k-labels-idx1-ubyte')), 't10k-labels');
    const files: string[] = [];
    for (let n = 0; n < 20; n++) {
      // 3x enlargement, dark blue ink on a cream background, 10 px margins
      const size = 28 * 3 + 20;
      const png = new pngjs.PNG({ width: size, height: size });
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        const sx = Math.floor((x - 10) / 3), sy = Math.floor((y - 10) / 3);
        const v = sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? images.data[n * 784 + sy * 28 + sx] / 255 : 0;
        const o = (y * size + x) * 4;
        png.data[o] = Math.round(250 - v * 230);
        png.data[o + 1] = Math.round(245 - v * 225);
        png.data[o + 2] = Math.round(230 - v * 130);
        png.data[o + 3] = 255;
      }
      const f = join(dir, `digit${n}-label${labels.data[n]}.png`);
      await writeFile(f, pngjs.PNG.sync.write(png));
      files.push(f);
    }
    const r = await bin('predict', '--model', model, ...files);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 20);
    let correct = 0;
    for (const line of lines) {
      const m = /label(\d)\.png: (\d)  \((\d): [\d.]+%, (\d): [\d.]+%, (\d): [\d.]+%\)$/.exec(line);
      assert.ok(m, `line format: ${line}`);
      if (m[1] === m[2]) correct++;
    }
    assert.ok(correct >= 18, `${correct}/20 correct`);
  });

  it('predict refuses a bad image with one line naming it, and goes on with the others', async () => {
    const bad = join(dir, 'notes.png');
    await writeFile(bad, 'this is text, not a picture');
    const good = join(dir, 'digit0-label7.png');
    const r = await bin('predict', '--model', model, bad, good);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^scratchnet predict: .*notes\.png: not a PNG or JPEG image$/);
    assert.match(r.stdout, /digit0-label7\.png: \d/);
  });
});
