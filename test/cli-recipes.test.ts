// Built-in networks carry their training recipe (issue 10): `scratchnet models` shows it,
// `train --model NAME` without flags trains with it (the saved model's training facts and the
// printed header say so), and each flag overrides one item. Runs on a small slice of MNIST.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../src/cli/cli.js';
import type { Io } from '../src/cli/io.js';
import { readModelFile } from '../src/io/model-file.js';
import { DEFAULT_RECIPE, ZOO, ZOO_NAMES, zooRecipe } from '../src/models/zoo.js';
import { cli, smallMnist } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-recipes-'));
after(() => rm(dir, { recursive: true, force: true }));
const data = smallMnist(join(dir, 'mnist-small'), 300, 200);
// For the runs without flags (12 or 20 epochs): one step per epoch.
const tiny = smallMnist(join(dir, 'mnist-tiny'), 100, 50);

/** Run train with the progress stream captured too (the header line goes there). */
async function train(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string; progress: string }> {
  let stdout = '', stderr = '', progress = '';
  const io: Io = { out: (l) => (stdout += l + '\n'), err: (l) => (stderr += l + '\n'), progress: { write: (s) => ((progress += s), true), isTTY: false } };
  const code = await run(['train', ...argv], io);
  return { code, stdout, stderr, progress };
}

async function facts(file: string): Promise<Record<string, unknown>> {
  const { training } = await readModelFile(file);
  assert.ok(training, 'the model file records its training');
  return training as Record<string, unknown>;
}

describe('recipes of the built-in networks', () => {
  it('every built-in has a recipe; simple\'s is the book\'s reference run, lenet\'s the measured one', () => {
    for (const name of ZOO_NAMES) {
      const r = ZOO[name].recipe;
      assert.ok(r.lr > 0 && r.epochs >= 1 && r.batchSize >= 1 && r.evalSamples >= 1, `${name}: a complete recipe`);
      assert.ok(r.source.length > 0, `${name}: says where it comes from`);
    }
    assert.deepEqual({ ...zooRecipe('simple'), source: '' }, { optimizer: 'adam', lr: 0.001, epochs: 20, batchSize: 100, init: 'he', evalSamples: 1000, source: '' });
    assert.deepEqual([zooRecipe('lenet').optimizer, zooRecipe('lenet').lr, zooRecipe('lenet').batchSize, zooRecipe('lenet').epochs], ['adam', 0.005, 50, 12]);
    assert.equal(zooRecipe('my-net.json'), DEFAULT_RECIPE, 'spec files get the default');
  });

  it('scratchnet models shows each recipe', async () => {
    const r = await cli('models');
    assert.equal(r.code, 0, r.stderr);
    const recipes = r.stdout.split('\n').filter((l) => l.startsWith('recipe: '));
    assert.equal(recipes.length, ZOO_NAMES.length, 'one recipe line per network');
    assert.match(r.stdout, /total: 433,890 parameters.*\nrecipe: adam lr 0\.001, 20 epochs, batch 100, init he, 1000 samples/);
    assert.match(r.stdout, /total: 61,706 parameters.*\nrecipe: adam lr 0\.005, 12 epochs, batch 50, init per layer/);
    assert.match(r.stdout, /total: 62,378,344 parameters.*\nrecipe: momentum lr 0\.01, 90 epochs, batch 128/);
    const one = await cli('models', 'deep');
    assert.match(one.stdout, /recipe: adam lr 0\.001, 20 epochs/);
  });
});

describe('train --model NAME uses the recipe; flags override it', () => {
  it('lenet without flags: Adam lr 0.005, 12 epochs, batch 50, per-layer init (facts and header)', async () => {
    const out = join(dir, 'lenet.safetensors');
    const r = await train('--model', 'lenet', '--data', tiny, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.progress, /lenet 61,706 parameters \| 100 train \/ 50 test images \| 12 epochs x 2 steps \| adam lr 0\.005 \| batch 50 \| init per layer .*\(lenet's recipe\)/);
    const f = await facts(out);
    assert.equal(f.epochs, 12);
    assert.equal(f.batchSize, 50);
    assert.equal(f.optimizer, 'adam');
    assert.deepEqual(f.optimizerParam, { lr: 0.005 });
    assert.equal(f.init, 'per layer');
    assert.equal(f.evaluateSampleNumPerEpoch, 1000);
    assert.deepEqual(f.recipe, { from: 'lenet', overridden: [] });
    assert.equal(f.steps, 24);
  });

  it('each flag overrides one item; --optimizer alone takes that optimizer\'s own default rate', async () => {
    const out = join(dir, 'lenet-flags.safetensors');
    const r = await train('--model', 'lenet', '--data', data, '--out', out, '--epochs', '1', '--batch-size', '100', '--lr', '0.01', '--quiet');
    assert.equal(r.code, 0, r.stderr);
    const f = await facts(out);
    assert.equal(f.epochs, 1);
    assert.equal(f.batchSize, 100);
    assert.equal(f.optimizer, 'adam', 'from the recipe');
    assert.deepEqual(f.optimizerParam, { lr: 0.01 });
    assert.deepEqual(f.recipe, { from: 'lenet', overridden: ['epochs', 'batch-size', 'lr'] });

    const sgd = join(dir, 'lenet-sgd.safetensors');
    const s = await train('--model', 'lenet', '--data', data, '--out', sgd, '--epochs', '1', '--optimizer', 'sgd', '--init', 'he');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.progress, /sgd lr 0\.01 \| batch 50 \| init he .*\(lenet's recipe, --epochs --optimizer --init from the command line\)/);
    const g = await facts(sgd);
    assert.deepEqual(g.optimizerParam, { lr: 0.01 }, "SGD's default, not Adam's recipe rate");
    assert.equal(g.init, 'he');
  });

  it('simple without flags is the book\'s reference run (Adam 0.001, batch 100, 20 epochs, He)', async () => {
    const out = join(dir, 'simple.safetensors');
    const r = await train('--data', tiny, '--eval-samples', '10', '--out', out, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    const f = await facts(out);
    assert.deepEqual([f.model, f.epochs, f.batchSize, f.optimizer, f.optimizerParam, f.init], ['simple', 20, 100, 'adam', { lr: 0.001 }, 'he']);
    assert.deepEqual(f.recipe, { from: 'simple', overridden: ['eval-samples'] });
  });

  it('models --layers lists every layer type of the registry with its options', async () => {
    const { LAYER_KINDS } = await import('../src/layers/registry.js');
    const r = await cli('models', '--layers');
    assert.equal(r.code, 0, r.stderr);
    for (const k of LAYER_KINDS) assert.match(r.stdout, new RegExp(`^${k.type} `, 'm'), `${k.type} listed`);
    assert.match(r.stdout, /^conv +filters size stride=1 pad=0 init\? /m, 'conv options and defaults');
    assert.match(r.stdout, /^maxpool +size stride=size pad=0 /m, 'a default taken from another option');
    const both = await cli('models', 'lenet', '--layers');
    assert.equal(both.code, 2, 'usage error');
  });
});
