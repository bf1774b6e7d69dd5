// Pipes and signals with real child processes (issue 13, item 11): a reader that closes the pipe
// early (`scratchnet models | head -1`) ends the command quietly; Ctrl-C during train's final
// evaluation is honoured (checkpoint, exit 130, resume finishes the run); a second Ctrl-C
// aborts at once.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pngjs from 'pngjs';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { readModelFile } from '../src/io/model-file.js';
import { cli, smallMnist, spawnCli } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-signals-'));
after(() => rm(dir, { recursive: true, force: true }));
const small = smallMnist(join(dir, 'mnist-small'), 200, 100);
const model = join(dir, 'model.safetensors');

before(async () => {
  const r = await cli('train', '--data', small, '--epochs', '1', '--batch-size', '50', '--eval-samples', '20', '--quiet', '--out', model);
  assert.equal(r.code, 0, r.stderr);
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a closed pipe ends the command quietly', () => {
  it('models, eval and predict with their stdout closed before they write: exit 0, nothing on stderr', async () => {
    const png = new pngjs.PNG({ width: 28, height: 28 });
    png.data.fill(255);
    // a dark stroke on white: a "1"
    for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) png.data.fill(0, 4 * (28 * y + x), 4 * (28 * y + x) + 3);
    const image = join(dir, 'one.png');
    writeFileSync(image, pngjs.PNG.sync.write(png));
    const cases = [['models'], ['eval', '--model', model, '--data', small], ['predict', '--model', model, ...Array(200).fill(image)]];
    for (const argv of cases) {
      const child = spawnCli(argv);
      child.proc.stdout.destroy(); // the reader is gone before the first write
      const r = await child.done;
      assert.equal(r.code, 0, `${argv[0]}: exit code (stderr: ${r.stderr})`);
      assert.equal(r.stderr, '', `${argv[0]}: no stack trace, no message`);
    }
  });

  it('scratchnet models | head -1 in a real shell pipeline', async () => {
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const script = `set -o pipefail; "${process.execPath}" --import "${tsx}" "${main}" models | head -1`;
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script]);
    assert.equal(stdout, 'simple: the book\'s SimpleConvNet (ch. 7): conv 30@5x5, pool, dense 100\n');
    assert.equal(stderr, '');
  });
});

describe('Ctrl-C at the end of training', () => {
  // 100 training images (2 steps) but all 10,000 test images on the js backend: the final
  // evaluation takes seconds, and the interrupt lands in it.
  const data = smallMnist(join(dir, 'mnist-full-test'), 100, 10_000);
  const run = (out: string) => ['train', '--backend', 'js', '--data', data, '--epochs', '1', '--batch-size', '50', '--eval-samples', '20', '--out', out];

  it('during the final evaluation: checkpoint at the last step, exit 130; resume evaluates and saves', async () => {
    const out = join(dir, 'final-eval.safetensors');
    const ckpt = join(dir, 'final-eval.ckpt.safetensors');
    const child = spawnCli(run(out));
    await waitFor('the epoch line (the final evaluation starts right after it)', () => child.stderr().includes('epoch  1/1'));
    child.proc.kill('SIGINT');
    const r = await child.done;
    assert.equal(r.code, 130, `exit code 130 (stderr: ${r.stderr})`);
    assert.match(r.stderr, /SIGINT: stopping after this step/);
    assert.match(r.stderr, /interrupted after the last step \(2\/2\), before the model was saved; checkpoint saved to .*final-eval\.ckpt\.safetensors/);
    assert.match(r.stderr, /resume with: scratchnet train --resume .*final-eval\.ckpt\.safetensors/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(out), 'no model: the run was stopped before saving');
    assert.equal((await readCheckpoint(ckpt)).trainer.step, 2, 'the checkpoint holds the whole run');

    const resumed = await cli('train', '--resume', ckpt, '--quiet');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /final test accuracy: [\d.]+% on 10000 test images \(2 steps/);
    assert.equal((await readModelFile(out)).training?.steps, 2);
    assert.ok(!existsSync(ckpt), 'the default checkpoint is gone once the model is saved');
  });

  it('a second Ctrl-C aborts at once, even in the middle of writing a checkpoint', async () => {
    const folder = join(dir, 'twice');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);
    const out = join(folder, 'twice.safetensors');
    // Checkpoint writes pause 5 s halfway (the checkpoint module's test hook): the first
    // Ctrl-C's checkpoint is still being written when the second one comes.
    const child = spawnCli(run(out), { env: { SLOW_WRITE_MS: '5000' }, slowWrites: true });
    await waitFor('the epoch line', () => child.stderr().includes('epoch  1/1'));
    child.proc.kill('SIGINT');
    await waitFor('the first Ctrl-C to be handled', () => child.stderr().includes('SIGINT: stopping'));
    await waitFor('the checkpoint write to start', () => readdirSync(folder).some((f) => f.endsWith('.tmp')));
    const second = Date.now();
    child.proc.kill('SIGINT');
    const r = await child.done;
    const seconds = (Date.now() - second) / 1000;
    assert.ok(r.signal === 'SIGINT' || r.code === 130, `ended by the second Ctrl-C (code ${r.code}, signal ${r.signal})`);
    assert.ok(seconds < 2, `at once: ${seconds} s after the second Ctrl-C (the write alone would take 5 s)`);
    assert.ok(!existsSync(out), 'no model');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
