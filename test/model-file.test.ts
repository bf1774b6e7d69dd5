// Model files: a loaded network predicts exactly as the saved one; corrupt or mismatched
// files are refused with a message naming the file and the problem.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileFormatError, ScratchnetError } from '../src/errors.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { loadModel, readModelFile, saveModel } from '../src/io/model-file.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { Random } from '../src/random.js';
import { randn } from '../src/tensor.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-model-'));

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('model files', () => {
  it('round trip: same spec, same parameters, identical predictions', async () => {
    for (const opts of [{}, { convParam: { filterNum: 4, filterSize: 3, pad: 1, stride: 2 }, inputDim: [1, 10, 12] as const, hiddenSize: 7, outputSize: 5 }]) {
      const net = new SimpleConvNet({ ...opts, seed: 3, weightInitStd: 0.1 });
      const path = join(dir, 'net.safetensors');
      await saveModel(net, path, { epochs: 2, finalTestAcc: 0.5, trainLossList: [1, 0.5] });
      const { network, spec, training } = await readModelFile(path);
      assert.deepEqual(spec, net.spec());
      assert.equal(training?.epochs, 2);
      assert.deepEqual(training?.trainLossList, [1, 0.5]);
      const x = randn(new Random(1), [3, ...net.inputShape], 1);
      assert.ok(sameBits(network.predict(x).data, net.predict(x).data), 'predictions differ');
      assert.equal((await readdir(dir)).filter((f) => f.endsWith('.tmp')).length, 0);
    }
  });

  it('float64 networks round-trip in float64', async () => {
    const net = new SimpleConvNet({ dtype: 'float64', inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 3 });
    const path = join(dir, 'f64.safetensors');
    await saveModel(net, path);
    const back = await loadModel(path);
    assert.equal(back.dtype, 'float64');
    assert.ok(sameBits(back.params.W2.data, net.params.W2.data));
  });

  const net = new SimpleConvNet({ inputDim: [1, 8, 8], convParam: { filterNum: 2, filterSize: 3 }, hiddenSize: 3, seed: 1 });
  const good = encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: JSON.stringify(net.spec()) });

  async function refuses(name: string, bytes: Uint8Array, pattern: RegExp): Promise<void> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    await assert.rejects(loadModel(path), (e: unknown) => {
      assert.ok(e instanceof ScratchnetError, `not a ScratchnetError: ${e}`);
      assert.match(e.message, new RegExp(name.replace('.', '\\.')));
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
  }

  it('refuses truncated, corrupt and mismatched files, naming the file and the problem', async () => {
    await refuses('truncated.safetensors', good.subarray(0, good.length - 10), /.+/);
    await refuses('empty.safetensors', new Uint8Array(0), /.+/);
    await refuses('text.safetensors', new TextEncoder().encode('hello, I am not a model at all'), /.+/);
    await refuses('plain.safetensors', encodeSafetensors(net.params), /not a scratchnet model/);
    await refuses('badspec.safetensors', encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: '{"model":"SimpleConvNet",' }), /"spec" is not valid JSON/);
    await refuses('unknown.safetensors', encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: '{"model":"GPT5"}' }), /unknown model 'GPT5'/);
    await refuses('version.safetensors', encodeSafetensors(net.params, { format: 'scratchnet', format_version: '9', spec: JSON.stringify(net.spec()) }), /version 9 is not supported/);
    const spec = net.spec() as unknown as { layers: { units?: number }[] };
    const otherSpec = JSON.stringify({ ...spec, layers: spec.layers.map((l, i) => (i === 3 ? { ...l, units: 4 } : l)) });
    await refuses('shape.safetensors', encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: otherSpec }), /parameter W2 has shape \(18, 3\) but the spec needs \(18, 4\)/);
    const { W3: _dropped, ...missing } = net.params;
    await refuses('missing.safetensors', encodeSafetensors(missing, { format: 'scratchnet', format_version: '1', spec: JSON.stringify(net.spec()) }), /missing parameter W3/);
    const nan = net.params.b1.clone();
    nan.data[1] = NaN;
    await refuses('nan.safetensors', encodeSafetensors({ ...net.params, b1: nan }, { format: 'scratchnet', format_version: '1', spec: JSON.stringify(net.spec()) }), /non-finite value/);
    await refuses('badspecvalue.safetensors', encodeSafetensors(net.params, { format: 'scratchnet', format_version: '1', spec: JSON.stringify({ ...net.spec(), inputDim: 'big' }) }), /bad model spec/);
    await assert.rejects(loadModel(join(dir, 'nope.safetensors')), /nope\.safetensors: no such file/);
  });

  it('a failed save leaves no file behind and keeps an existing one', async () => {
    const path = join(dir, 'keep.safetensors');
    await saveModel(net, path);
    const before = await readFile(path);
    await assert.rejects(saveModel(net, join(dir, 'no-such-folder', 'x.safetensors')), ScratchnetError);
    assert.deepEqual(await readFile(path), before);
    assert.ok(FileFormatError);
  });
});
