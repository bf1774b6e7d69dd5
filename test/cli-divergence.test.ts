// The divergence detector (src/train/divergence.ts) on synthetic loss sequences, and in the
// CLI: `train --lr 1e6` (a finite loss of ~14.5 at chance accuracy) stops with the step, exit 1,
// and keeps its checkpoint, like the NaN guard; --ignore-divergence trains on.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { DivergenceDetector, describeDivergence } from '../src/train/divergence.js';
import { assertOneLineError, cli, smallMnist } from './cli-helpers.js';

/** A deterministic wiggle in [-1, 1] (no Math.random in this house). */
const wiggle = (i: number) => (((i * 7919) % 101) / 50 - 1);

function verdict(losses: number[], options = {}) {
  return new DivergenceDetector(options).pushAll(losses);
}

describe('DivergenceDetector on synthetic losses', () => {
  it('never fires on normal training curves: fast or slow decay, noise, a plateau at chance', () => {
    const fast = Array.from({ length: 6000 }, (_, i) => 0.03 + 2.27 * Math.exp(-i / 30) + 0.02 * wiggle(i));
    const slow = Array.from({ length: 6000 }, (_, i) => 0.1 + 2.2 * Math.exp(-i / 2000) + 0.3 * Math.abs(wiggle(i)));
    const plateau = Array.from({ length: 2000 }, (_, i) => 2.302 + 0.01 * wiggle(i)); // sigmoid LeNet's first steps
    // He init: the first loss is higher than chance, then falls
    const he = Array.from({ length: 1000 }, (_, i) => (i === 0 ? 2.9 : 0.05 + 2 * Math.exp(-i / 40) + 0.5 * Math.abs(wiggle(i))));
    for (const [name, losses] of Object.entries({ fast, slow, plateau, he })) assert.equal(verdict(losses), null, name);
  });

  it('isolated spikes and a short burst are not divergence', () => {
    const losses = Array.from({ length: 3000 }, (_, i) => 0.2 + 0.05 * wiggle(i));
    losses[0] = 2.3;
    for (const at of [100, 400, 401, 1500]) losses[at] = 60; // single bad batches
    for (let i = 2000; i < 2020; i++) losses[i] = 8; // a short burst: 20 steps
    assert.equal(verdict(losses), null);
  });

  it('fires when the loss jumps and stays there (train --lr 1e6: ~14.5), naming the step', () => {
    const losses = [2.88, ...Array.from({ length: 500 }, (_, i) => 14.5 + 0.2 * wiggle(i))];
    const d = verdict(losses);
    assert.ok(d, 'diverged');
    assert.equal(d.step, 50, 'decided as soon as one window is full');
    assert.equal(d.firstLoss, 2.88);
    assert.ok(d.meanLoss > 14 && d.meanLoss < 15);
    assert.match(describeDivergence(d), /^training diverged at step 50: the mean loss of the last 50 steps is 14\.\d, more than 3x the first step's 2\.88/);
  });

  it('fires on a loss that climbs slowly, once its running mean passes 3x the start', () => {
    const losses = Array.from({ length: 2000 }, (_, i) => 2.3 + i * 0.01);
    const d = verdict(losses)!;
    // the mean of steps (s-49..s) is 2.3 + 0.01 * (s - 25.5) > 6.9 from s = 486
    assert.equal(d.step, 486);
  });

  it('a floor keeps a lucky small first loss (batch of 1) from making normal training look diverged', () => {
    const batchOfOne = [0.4, ...Array.from({ length: 500 }, (_, i) => 1.5 + 1.2 * wiggle(i))];
    assert.ok(verdict(batchOfOne), 'without a floor: a false alarm');
    assert.equal(verdict(batchOfOne, { floor: Math.log(10) }), null, 'with ln(classes) as the floor: none');
    assert.equal(verdict([2.3, ...Array(100).fill(14.5)], { floor: Math.log(10) })?.step, 50, 'still fires on --lr 1e6');
  });

  it('ignores non-finite losses (the NaN guard\'s business) and honours its options', () => {
    assert.equal(verdict([2.3, NaN, Infinity, ...Array(100).fill(0.5)]), null);
    assert.equal(verdict([1, ...Array(9).fill(5)], { window: 10, factor: 4 })?.step, 10);
    assert.equal(verdict([1, ...Array(9).fill(5)], { window: 10, factor: 5 }), null);
    assert.throws(() => new DivergenceDetector({ window: 0 }), /window must be a positive integer/);
    assert.throws(() => new DivergenceDetector({ factor: 1 }), /factor must be a finite number above 1/);
  });

  it('pushAll (a resumed run\'s history) then push continues exactly as one sequence', () => {
    const losses = [2.3, ...Array(120).fill(14)];
    const whole = verdict(losses);
    const split = new DivergenceDetector();
    assert.equal(split.pushAll(losses.slice(0, 30)), null);
    let d = null;
    for (const l of losses.slice(30)) d ??= split.push(l);
    assert.deepEqual(d, whole);
  });
});

describe('train stops a diverged run', () => {
  const dir = mkdtemp(join(tmpdir(), 'scratchnet-divergence-'));
  after(async () => rm(await dir, { recursive: true, force: true }));

  it('--lr 1e6: one line naming the step, exit 1, the checkpoint kept, no model; --ignore-divergence trains on', async () => {
    const folder = await dir;
    const data = smallMnist(join(folder, 'mnist'), 1000, 100);
    const out = join(folder, 'm.safetensors');
    const ckpt = join(folder, 'm.ckpt.safetensors');
    const run = ['train', '--data', data, '--epochs', '1', '--batch-size', '10', '--eval-samples', '20', '--lr', '1e6', '--quiet'];
    const r = await cli(...run, '--out', out, '--checkpoint-every', '20');
    assertOneLineError(r, 1, /^scratchnet train: training diverged at step (\d+): the mean loss of the last 50 steps is [\d.]+, more than 3x the first step's [\d.]+ \(is the learning rate too high\?\); the last checkpoint \(step \d+\) is .*m\.ckpt\.safetensors; --ignore-divergence trains on regardless$/);
    const step = Number(/at step (\d+)/.exec(r.stderr)![1]);
    assert.ok(step >= 50 && step < 100, `stopped at step ${step} of 100`);
    assert.equal((await readCheckpoint(ckpt)).trainer.step, Math.floor(step / 20) * 20, 'the last checkpoint stays');
    assert.ok(!existsSync(out), 'no model written');

    const anyway = await cli(...run, '--ignore-divergence', '--out', join(folder, 'anyway.safetensors'));
    assert.equal(anyway.code, 0, anyway.stderr);
    assert.match(anyway.stdout, /final test accuracy: [\d.]+% on 100 test images \(100 steps/);
  });
});
