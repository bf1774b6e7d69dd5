// The package as a user meets it: `import ... from 'scratchnet'` and 'scratchnet/node' resolve
// (self-reference via the exports field) to the built dist/ with type declarations, the file-path
// functions live in 'scratchnet/node' only, and the bin entry is executable.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('package', () => {
  it("import { SimpleConvNet } from 'scratchnet' works from inside the package folder; Node's file functions come from 'scratchnet/node'", async () => {
    const script = `
      import { SimpleConvNet, Tensor, im2row, Adam, Trainer } from 'scratchnet';
      import * as root from 'scratchnet';
      import { loadMnist, saveModel, loadModel, SimpleConvNet as Same } from 'scratchnet/node';
      if (Same !== SimpleConvNet) throw new Error('scratchnet/node re-exports the same classes');
      if ('loadMnist' in root || 'saveModel' in root) throw new Error('file-path functions leaked into the universal entry');
      const net = new SimpleConvNet({ seed: 1 });
      const x = new Tensor(new Float32Array(2 * 784), [2, 1, 28, 28]);
      console.log(JSON.stringify({ shape: net.predict(x).shape, W1: net.params.W1.shape,
        types: [typeof im2row, typeof Adam, typeof Trainer, typeof loadMnist, typeof saveModel, typeof loadModel] }));`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    const out = JSON.parse(stdout);
    assert.deepEqual(out.shape, [2, 10], 'scores shape');
    assert.deepEqual(out.W1, [30, 1, 5, 5], 'W1 shape');
    assert.ok(out.types.every((t: string) => t === 'function'), `exports: ${out.types}`);
  });

  it('ships type declarations and an executable bin', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.name, 'scratchnet');
    assert.equal(pkg.type, 'module');
    const dts = await readFile(new URL(`../${pkg.exports['.'].types}`, import.meta.url), 'utf8');
    assert.match(dts, /SimpleConvNet/, 'index.d.ts exports SimpleConvNet');
    await access(new URL(`../${pkg.bin.scratchnet}`, import.meta.url), constants.X_OK);
    const { stdout } = await exec(new URL(`../${pkg.bin.scratchnet}`, import.meta.url).pathname, ['--version']);
    assert.equal(stdout.trim(), pkg.version, 'version');
  });
});
