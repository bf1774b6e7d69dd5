// Hardening of the command line (issue 13), each class through the real CLI where the user
// meets it: outputs checked before the work (and the result kept when the final write still
// fails), an output that is an input, resume finishing the interrupted run's own outputs,
// malformed training histories, strict flags and environment, checkpoints given as models.

import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../src/cli/cli.js';
import type { Io } from '../src/cli/io.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { readModelFile, saveModel } from '../src/io/model-file.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { learningCurvesSpec, MAX_CHART_POINTS } from '../src/viz/charts.js';
import { assertOneLineError, cli, type Result, smallMnist } from './cli-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'scratchnet-hardening-'));
after(() => rm(dir, { recursive: true, force: true }));
const data = smallMnist(join(dir, 'mnist-small'), 300, 100);
const testOnly = smallMnist(join(dir, 'mnist-test-only'), 0, 100);
const QUICK = ['--data', data, '--epochs', '1', '--batch-size', '50', '--eval-samples', '20', '--quiet'];
const model = join(dir, 'model.safetensors');

before(async () => {
  const r = await cli('train', ...QUICK, '--out', model);
  assert.equal(r.code, 0, `training the test model failed: ${r.stderr}`);
});

/** Run with the progress stream handed to `onProgress` (to act in the middle of a run). */
async function runWithProgress(argv: string[], onProgress: (s: string) => void): Promise<Result> {
  let stdout = '', stderr = '';
  const io: Io = { out: (l) => (stdout += l + '\n'), err: (l) => (stderr += l + '\n'), progress: { write: (s) => (onProgress(s), true), isTTY: false } };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

describe('item 1: every output is checked before the work starts', () => {
  it('train: --out, --report and --checkpoint that are folders, under a file, or in a missing folder', async () => {
    const folder = join(dir, 'a-folder.safetensors');
    mkdirSync(folder, { recursive: true });
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const started = Date.now();
    assertOneLineError(await cli('train', ...QUICK, '--out', folder), 1, /a-folder\.safetensors: cannot write the model there: it is a folder/);
    assertOneLineError(await cli('train', ...QUICK, '--out', join(file, 'm.safetensors')), 1, /cannot write the model there: .*plain-file is not a folder/);
    assertOneLineError(await cli('train', ...QUICK, '--out', join(dir, 'missing', 'm.safetensors')), 1, /folder .*missing does not exist/);
    assertOneLineError(await cli('train', ...QUICK, '--out', join(dir, 'r1.safetensors'), '--report', folder), 1, /cannot write the report there: it is a folder/);
    assertOneLineError(await cli('train', ...QUICK, '--out', join(dir, 'r2.safetensors'), '--checkpoint', folder), 1, /cannot write checkpoints there: it is a folder/);
    // the default checkpoint (--out name + .ckpt.safetensors) is an output too
    mkdirSync(join(dir, 'r3.ckpt.safetensors'));
    assertOneLineError(await cli('train', ...QUICK, '--out', join(dir, 'r3.safetensors')), 1, /r3\.ckpt\.safetensors: cannot write checkpoints there: it is a folder/);
    assert.ok(Date.now() - started < 5000, 'refused before training (no data loaded, nothing trained)');
    for (const f of ['r1', 'r2', 'r3']) assert.ok(!existsSync(join(dir, `${f}.safetensors`)), 'nothing written');
  });

  it('a folder that cannot be written is refused before training', async () => {
    // Permission bits do not stop root, so the probe file is what decides; /proc takes no files.
    assertOneLineError(await cli('train', ...QUICK, '--out', '/proc/scratchnet-test.safetensors'), 1, /scratchnet-test\.safetensors: cannot write the model there: folder \/proc: /);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      mkdirSync(locked, { mode: 0o555 });
      assertOneLineError(await cli('train', ...QUICK, '--out', join(locked, 'm.safetensors')), 1, /cannot write the model there: folder .*locked: permission denied/);
    }
  });

  it('viz, report, export and import refuse a folder as output before loading anything', async () => {
    const folder = join(dir, 'out-folder');
    mkdirSync(folder, { recursive: true });
    assertOneLineError(await cli('viz', 'filters', '--model', model, '--out', folder), 1, /out-folder: cannot write the picture there: it is a folder/);
    assertOneLineError(await cli('report', '--model', model, '--out', folder, '--data', data), 1, /cannot write the report there: it is a folder/);
    assertOneLineError(await cli('export', '--model', model, '--onnx', folder), 1, /cannot write the ONNX file there: it is a folder/);
    assertOneLineError(await cli('import', '--npz', join(dir, 'none.npz'), '--out', folder), 1, /cannot write the model there: it is a folder/);
    assertOneLineError(await cli('viz', 'curves', '--model', model, '--out', join(dir, 'gone', 'c.png')), 1, /folder .*gone does not exist/);
  });

  it('a final write that still fails keeps the trained model in the temp folder and says where', async () => {
    const folder = join(dir, 'vanishing');
    mkdirSync(folder);
    const out = join(folder, 'm.safetensors');
    let removed = false;
    // The folder disappears mid-run (after the checks): the save at the end fails.
    const r = await runWithProgress(['train', '--data', data, '--epochs', '1', '--batch-size', '10', '--eval-samples', '20', '--out', out], (s) => {
      if (!removed && s.includes('%')) {
        rmSync(folder, { recursive: true });
        removed = true;
      }
    });
    assert.ok(removed, 'the folder was removed during the run');
    assertOneLineError(r, 1, /m\.safetensors: cannot write: folder does not exist; the trained model was saved to \S+ instead/);
    const rescued = /saved to (\S+) instead/.exec(r.stderr)![1];
    const { training } = await readModelFile(rescued);
    assert.equal(training?.steps, 30, 'the whole run is in the rescued file');
    rmSync(rescued);
  });
});

describe('item 2: an output that is an input is refused (by file identity)', () => {
  const bytes = () => readFileSync(model);
  it('the same path, a symlink and a hard link to the model', async () => {
    const before = bytes();
    const link = join(dir, 'link.safetensors');
    const hard = join(dir, 'hard.safetensors');
    symlinkSync(model, link);
    linkSync(model, hard);
    assertOneLineError(await cli('viz', 'filters', '--model', model, '--out', model), 2, /--out .*model\.safetensors is the --model file: writing it would destroy the input/);
    assertOneLineError(await cli('viz', 'filters', '--model', model, '--out', link), 2, /is the --model file \(the same file under another name\)/);
    assertOneLineError(await cli('export', '--model', model, '--onnx', hard), 2, /--onnx .*hard\.safetensors is the --model file \(the same file under another name\)/);
    assertOneLineError(await cli('report', '--model', link, '--out', hard, '--data', data), 2, /--out .* is the --model file/);
    assertOneLineError(await cli('viz', 'features', '--model', model, '--image', join(dir, 'x.png'), '--out', join(dir, 'x.png')), 2, /--out .*x\.png is the --image file/);
    assert.ok(bytes().equals(before), 'the model is untouched');
  });

  it('import --npz p.npz --out p.npz; train --out/--report/--checkpoint/--model pairs', async () => {
    const npz = join(dir, 'p.npz');
    writeFileSync(npz, 'not read: refused before');
    assertOneLineError(await cli('import', '--npz', npz, '--out', npz), 2, /--out .*p\.npz is the --npz file/);
    const out = join(dir, 'pair.safetensors');
    assertOneLineError(await cli('train', ...QUICK, '--out', out, '--report', out), 2, /--out and --report are the same file/);
    assertOneLineError(await cli('train', ...QUICK, '--out', out, '--checkpoint', out), 2, /--out and --checkpoint are the same file/);
    const spec = join(dir, 'net.json');
    writeFileSync(spec, JSON.stringify({ input: [1, 28, 28], layers: [{ type: 'dense', units: 10 }] }));
    assertOneLineError(await cli('train', ...QUICK, '--model', spec, '--out', spec), 2, /--out .*net\.json is the --model file/);
    assertOneLineError(await cli('train', ...QUICK, '--model', spec, '--out', out, '--report', join(dir, '.', 'net.json')), 2, /--report .*net\.json is the --model file/);
    assert.ok(!existsSync(out), 'nothing trained');
  });
});

describe('item 6: resume finishes the interrupted run, wherever it is started from', () => {
  it('train --resume /abs/x.ckpt.safetensors from another folder writes the run\'s own --out and removes the checkpoint', async () => {
    const home = join(dir, 'run-home');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(home);
    mkdirSync(elsewhere);
    const cwd = process.cwd();
    try {
      // The run: relative --out and --report in its folder, stopped by SIGTERM at 10%.
      process.chdir(home);
      let sent = false;
      const first = await runWithProgress(['train', '--data', data, '--epochs', '2', '--batch-size', '50', '--eval-samples', '20', '--out', 'run.safetensors'], (s) => {
        if (!sent && s.includes('%')) sent = process.emit('SIGTERM', 'SIGTERM');
      });
      assert.equal(first.code, 143, first.stderr);
      const ckpt = join(home, 'run.ckpt.safetensors');
      assert.match(first.stderr, new RegExp(`resume with: scratchnet train --resume ${ckpt.replace(/[.]/g, '\\.')}`));
      const saved = await readCheckpoint(ckpt);
      assert.equal(saved.config.out, join(home, 'run.safetensors'), 'the checkpoint knows the absolute output');
      // Resumed from another folder, with no --out.
      process.chdir(elsewhere);
      const resumed = await cli('train', '--resume', ckpt, '--quiet');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`saved ${join(home, 'run.safetensors').replace(/[.]/g, '\\.')}`));
    } finally {
      process.chdir(cwd);
    }
    assert.ok(existsSync(join(home, 'run.safetensors')), 'the model is where the run was to write it');
    assert.ok(!existsSync(join(elsewhere, 'model.safetensors')), 'nothing written in the folder resume ran from');
    assert.ok(!existsSync(join(home, 'run.ckpt.safetensors')), 'the default checkpoint is removed as at a normal completion');
    const { training } = await readModelFile(join(home, 'run.safetensors'));
    assert.equal(training?.steps, 12, 'the whole run');
  });

  it('--out given to --resume still wins; a named checkpoint is kept', async () => {
    const ckpt = join(dir, 'named.ckpt');
    let sent = false;
    const first = await runWithProgress(['train', '--data', data, '--epochs', '2', '--batch-size', '50', '--eval-samples', '20', '--out', join(dir, 'named-run.safetensors'), '--checkpoint', ckpt], (s) => {
      if (!sent && s.includes('%')) sent = process.emit('SIGTERM', 'SIGTERM');
    });
    assert.equal(first.code, 143, first.stderr);
    const other = join(dir, 'other.safetensors');
    const r = await cli('train', '--resume', ckpt, '--out', other, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(other) && !existsSync(join(dir, 'named-run.safetensors')), 'written to the --out given');
    assert.ok(existsSync(ckpt), 'a checkpoint named with --checkpoint stays');
    assertOneLineError(await cli('train', '--resume', ckpt, '--out', ckpt), 2, /--out .*named\.ckpt is the --resume file/);
  });
});

describe('item 9: malformed training histories', () => {
  const withHistory = async (name: string, training: Record<string, unknown>): Promise<string> => {
    const file = join(dir, name);
    await saveModel(new SimpleConvNet({ seed: 1 }), file, training as never);
    return file;
  };

  it('viz curves: one line naming the field, exit 1, for a string, nested lists, NaN and out-of-range values', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ testAccList: 'abc' }, /testAccList is the string "abc", not a list of numbers/],
      [{ trainLossList: [0.5, [1, [2, { a: 1 }]]] }, /trainLossList\[1\] is a list, not a finite number/],
      [{ trainLossList: [0.5, NaN, 0.4] }, /trainLossList\[1\] is null \(NaN or infinite when it was saved\?\)/],
      [{ trainAccList: [0.5, 7] }, /trainAccList\[1\] is 7, not an accuracy between 0 and 1/],
      [{ testAccList: { 0: 0.9 } }, /testAccList is an object, not a list of numbers/],
    ];
    for (const [i, [training, pattern]] of cases.entries()) {
      const file = await withHistory(`bad-history-${i}.safetensors`, training);
      assertOneLineError(await cli('viz', 'curves', '--model', file, '--out', join(dir, `c${i}.png`)), 1, /^scratchnet viz: .*bad-history-\d\.safetensors: training history: /, pattern);
    }
  });

  it('report: a malformed history costs the curves (one warning line), not the report', async () => {
    const file = await withHistory('bad-report.safetensors', { testAccList: 'abc', seed: 'x', epochs: 1 });
    const out = join(dir, 'bad-report.html');
    const r = await cli('report', '--model', file, '--out', out, '--data', data);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr.trim(), /^scratchnet report: warning: .*bad-report\.safetensors: training history: testAccList is the string "abc".*leaves out the learning curves$/);
    assert.ok(!readFileSync(out, 'utf8').includes('id="curves"'), 'no curves section');
  });

  it('a 600,000-step history is thinned: bounded points, plotted in seconds', async () => {
    const steps = 600_000;
    const loss = Array.from({ length: steps }, (_, i) => 2.3 * Math.exp(-i / 50_000) + 0.05 * ((i * 7919) % 13) / 13);
    const acc = Array.from({ length: 100 }, (_, i) => 0.9 + 0.0009 * i);
    const spec = learningCurvesSpec({ trainLossList: loss, trainAccList: acc, testAccList: acc }) as unknown as { vconcat: { data: { values: unknown[] } }[] };
    const points = spec.vconcat[1].data.values.length;
    assert.ok(points <= 2 * (MAX_CHART_POINTS + 1), `${points} points drawn for ${steps} steps`);
    const file = await withHistory('long-history.safetensors', { trainLossList: loss, trainAccList: acc, testAccList: acc });
    const started = Date.now();
    const r = await cli('viz', 'curves', '--model', file, '--out', join(dir, 'long.svg'));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /100 epochs, 600000 steps/);
    assert.ok(seconds < 20, `took ${seconds} s`);
  });
});

describe('item 13: a checkpoint (or an image) given as the model says what it is', () => {
  it('predict, eval, viz, report and export name a checkpoint and how to use it', async () => {
    const ckpt = join(dir, 'kept.ckpt');
    const r = await cli('train', '--data', data, '--epochs', '2', '--batch-size', '100', '--eval-samples', '20', '--quiet', '--out', join(dir, 'k.safetensors'), '--checkpoint', ckpt);
    assert.equal(r.code, 0, r.stderr);
    const checkpointMessage = /kept\.ckpt: is a training checkpoint, not a model: finish the run with scratchnet train --resume .*kept\.ckpt/;
    assertOneLineError(await cli('eval', '--model', ckpt, '--data', data), 1, checkpointMessage);
    assertOneLineError(await cli('predict', '--model', ckpt, join(dir, 'x.png')), 1, checkpointMessage);
    assertOneLineError(await cli('viz', 'filters', '--model', ckpt, '--out', join(dir, 'f.png')), 1, checkpointMessage);
    assertOneLineError(await cli('report', '--model', ckpt, '--out', join(dir, 'r.html'), '--data', data), 1, checkpointMessage);
    assertOneLineError(await cli('export', '--model', ckpt, '--onnx', join(dir, 'm.onnx')), 1, checkpointMessage);
    const png = join(dir, 'picture.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    assertOneLineError(await cli('eval', '--model', png), 1, /picture\.png: is a PNG image/);
  });
});

describe('item 14: strictness', () => {
  it('integers are plain decimal digits; numbers plain decimals; --lr 0 is refused', async () => {
    for (const bad of ['0x2', '1e2', ' 2', '2.0', '2 ', '+2', '', 'Infinity']) {
      assertOneLineError(await cli('train', '--epochs', bad), 2, /--epochs must be an integer, got '.*' \(plain decimal digits\)/);
    }
    for (const bad of ['0x1', 'Infinity', ' 0.1', '1e', 'NaN', '--3']) {
      assertOneLineError(await cli('train', '--lr', bad), 2, /--lr must be a number/);
    }
    assertOneLineError(await cli('train', '--lr', '0'), 2, /--lr must be greater than 0, got 0/);
    assertOneLineError(await cli('train', '--lr', '-0.1'), 2, /--lr must be greater than 0/);
    // Accepted forms (parsed before --help answers).
    for (const good of [['--lr', '1e-3'], ['--lr', '.5'], ['--lr', '3'], ['--epochs', '007']]) {
      assert.equal((await cli('train', ...good, '--help')).code, 0, good.join(' '));
    }
  });

  it('bad SCRATCHNET_BACKEND / SCRATCHNET_THREADS: one line, exit 2', async () => {
    const saved = { backend: process.env.SCRATCHNET_BACKEND, threads: process.env.SCRATCHNET_THREADS };
    try {
      process.env.SCRATCHNET_BACKEND = 'cuda';
      assertOneLineError(await cli('eval', '--model', model), 2, /SCRATCHNET_BACKEND must be one of .*js.*, got 'cuda'/);
      if (saved.backend === undefined) delete process.env.SCRATCHNET_BACKEND;
      else process.env.SCRATCHNET_BACKEND = saved.backend;
      for (const bad of ['abc', '0', '2.5', '0x4', '1000']) {
        process.env.SCRATCHNET_THREADS = bad;
        assertOneLineError(await cli('models'), 2, /SCRATCHNET_THREADS must be an integer from 1 to 256/);
      }
    } finally {
      for (const [k, v] of [['SCRATCHNET_BACKEND', saved.backend], ['SCRATCHNET_THREADS', saved.threads]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('scratchnet help train prints train\'s help; help of an unknown command is refused', async () => {
    const help = await cli('help', 'train');
    assert.equal(help.code, 0);
    assert.equal(help.stdout, (await cli('train', '--help')).stdout);
    assertOneLineError(await cli('help', 'fly'), 2, /unknown command 'fly'/);
  });

  it('eval, viz and report work with a data folder holding only the t10k files', async () => {
    const ev = await cli('eval', '--model', model, '--data', testOnly);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /test accuracy: [\d.]+% \(\d+\/100\)/);
    const vz = await cli('viz', 'confusion', '--model', model, '--data', testOnly, '--out', join(dir, 'conf.svg'));
    assert.equal(vz.code, 0, vz.stderr);
    const rp = await cli('report', '--model', model, '--data', testOnly, '--out', join(dir, 'test-only.html'));
    assert.equal(rp.code, 0, rp.stderr);
    // train still needs the training files, and says so
    assertOneLineError(await cli('train', '--data', testOnly, '--out', join(dir, 'never.safetensors')), 1, /mnist-test-only: no MNIST file train-/);
  });
});
