// The original AlexNet (3x227x227, 1000 classes, 62.4M parameters) builds, runs a forward and
// backward pass, and survives a save/load round trip (a 250 MB model file) with identical
// predictions. Separate from zoo-spec.test.ts because it needs ~1.5 GB and several seconds.

import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readModelFile, saveModel } from '../src/io/model-file.js';
import { buildFromSpec } from '../src/models/sequential.js';
import { zooSpec } from '../src/models/zoo.js';
import { Random } from '../src/random.js';
import { randn } from '../src/tensor.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-alexnet-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('AlexNet as published (3x227x227)', () => {
  const net = buildFromSpec(zooSpec('alexnet-227'), { seed: 1 });
  const x = randn(new Random(2), [2, 3, 227, 227], 1);

  it('builds with 62,378,344 parameters and runs a forward and backward pass', () => {
    assert.equal(net.parameterCount, 62_378_344, 'parameters');
    const started = Date.now();
    const grads = net.gradient(x, Int32Array.from([3, 999]));
    const loss = net.lastLayer.loss!;
    assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
    assert.deepEqual(Object.keys(grads), ['W1', 'b1', 'W2', 'b2', 'W3', 'b3', 'W4', 'b4', 'W5', 'b5', 'W6', 'b6', 'W7', 'b7', 'W8', 'b8'], 'gradient names');
    for (const [k, g] of Object.entries(grads)) {
      assert.deepEqual([...g.shape], [...net.params[k].shape], `${k} gradient shape`);
      let nonZero = 0;
      for (let i = 0; i < g.size; i++) {
        if (!Number.isFinite(g.data[i])) assert.fail(`${k} gradient has ${g.data[i]} at ${i}`);
        if (g.data[i] !== 0) nonZero++;
      }
      assert.ok(nonZero > 0, `${k} gradient is not all zero`);
    }
    console.log(`# alexnet-227 forward+backward, batch 2: ${Date.now() - started} ms`);
  });

  it('save/load round trip gives identical predictions', async () => {
    const path = join(dir, 'alexnet.safetensors');
    await saveModel(net, path);
    assert.ok((await stat(path)).size > 62_378_344 * 4, 'all parameters written');
    const { network } = await readModelFile(path);
    const a = net.predict(x).data;
    const b = network.predict(x).data;
    assert.equal(a.length, 2000, 'two rows of 1000 scores');
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`prediction ${i} differs: ${a[i]} vs ${b[i]}`);
  });
});
