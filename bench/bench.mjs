// `npm run bench`: scratchnet side by side with its peers, in one run, on this machine.
// Every measurement is its own process, run one after another (never two at once): median of
// repeated measurements after warm-up. Results: a table on stdout and BENCHMARKS.md.
//   SimpleConvNet training step (batch 100, Adam) and inference on the 10,000 test images
//   (batch 100): scratchnet js, wasm 1 thread, wasm all threads; TensorFlow.js 4.22 wasm and
//   cpu; PyTorch CPU (if `import torch` works) in its fastest setting.
//   One full epoch of `scratchnet train`; RSS over 2,000 steps; js/wasm loss agreement.
//   The zoo table (bench/zoo.mjs) and the browser rows (bench/run-browser.mjs --markdown: Chromium
//   page and worker against Node). Sections of BENCHMARKS.md this script does not write (recorded
//   by hand or by other scripts) are kept, after the ones it writes.
//   node bench/bench.mjs [--quick] [--browser-only]   (--browser-only: only the browser section)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = join(root, '.bench-tmp');
mkdirSync(tmp, { recursive: true });
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const quick = process.argv.includes('--quick');
const log = (s) => process.stderr.write(s + '\n');
const benchmarksFile = join(root, 'BENCHMARKS.md');

// ---- BENCHMARKS.md's sections, and the browser one -------------------------------------------
const BROWSER_HEADING = '## In the browser (Chromium)';

/** A markdown file's '## ' sections in order ({ heading, text }); what precedes the first has heading ''. */
function sections(text) {
  const out = [{ heading: '', lines: [] }];
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) out.push({ heading: line.trim(), lines: [] });
    out[out.length - 1].lines.push(line);
  }
  return out.map(({ heading, lines }) => ({ heading, text: lines.join('\n').trimEnd() }));
}
const previous = existsSync(benchmarksFile) ? sections(readFileSync(benchmarksFile, 'utf8')) : [];

/** The browser section from `node bench/run-browser.mjs --markdown` (its stdout is the markdown),
 *  or the previous file's section (said on stderr) where it fails; null where there is neither. */
function browserSection() {
  log('browser: node bench/run-browser.mjs --markdown ...');
  const args = ['bench/run-browser.mjs', '--markdown', ...(quick ? ['1'] : [])];
  const r = spawnSync('node', args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20, timeout: 30 * 60_000 });
  const md = (r.stdout ?? '').trim();
  if (r.status === 0 && md !== '') {
    return md.startsWith('## ') ? md : [
      BROWSER_HEADING,
      '',
      '`node bench/run-browser.mjs --markdown` (run by `npm run bench`): a SimpleConvNet training step',
      '(batch 100, Adam) in headless Chromium - on the page, in a module worker with 1 and 2 threads,',
      'TensorFlow.js wasm on the page - and in Node, in the same run, rounds interleaved.',
      '',
      md,
    ].join('\n');
  }
  const why = r.error ? String(r.error.message ?? r.error) : `exit ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`;
  const old = previous.find((x) => x.heading === BROWSER_HEADING);
  log(`browser section ${old ? 'kept from the previous BENCHMARKS.md' : 'skipped'}: bench/run-browser.mjs failed (${why})`);
  return old?.text ?? null;
}

/** Writes BENCHMARKS.md: the sections given, then the previous file's sections that they do not
 *  replace (kept as they were), then the browser section. */
function writeBenchmarks(text, browser) {
  const fresh = sections(text);
  const written = new Set([...fresh.map((x) => x.heading), BROWSER_HEADING]);
  const kept = previous.filter((x) => x.heading !== '' && !written.has(x.heading));
  if (kept.length > 0) log(`kept from the previous BENCHMARKS.md: ${kept.map((x) => x.heading.slice(3)).join('; ')}`);
  const all = [...fresh.map((x) => x.text), ...kept.map((x) => x.text), ...(browser ? [browser] : [])];
  writeFileSync(benchmarksFile, all.filter((x) => x !== '').join('\n\n') + '\n');
}

if (process.argv.includes('--browser-only')) {
  const browser = browserSection();
  if (browser) {
    const head = previous.filter((x) => x.heading !== BROWSER_HEADING).map((x) => x.text).join('\n\n');
    writeBenchmarks(head, browser);
    log('wrote the browser section of BENCHMARKS.md');
  }
  process.exit(browser ? 0 : 1);
}

function run(cmd, args, env = {}, unset = []) {
  const e = { ...process.env, ...env };
  for (const k of unset) delete e[k];
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, env: e, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) {
    return { error: `${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`, wall, stdout: r.stdout };
  }
  return { ...JSON.parse(line.slice(7)), wall, stdout: r.stdout };
}

// Anything else busy on the machine disturbs every figure: say so in the report.
const others = (spawnSync('pgrep', ['-fa', 'main\\.(js|ts) train|run-tfjs|run-torch|run-scratchnet'], { encoding: 'utf8' }).stdout ?? '')
  .split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
const busy = others.length > 0 ? others.map((l) => l.slice(0, 140)).join('\n') : '';
if (busy) log(`warning: other processes are running; figures will be disturbed:\n${busy}`);
const loadBefore = os.loadavg()[0];

// ---- peers -----------------------------------------------------------------------------------
const rows = [];
const add = (name, r) => {
  rows.push({ name, ...r });
  log(r.error ? `${name}: ${r.error}` : `${name}: ${r.stepMs.toFixed(2)} ms/step, ${Math.round(r.imagesPerSec)} images/s`);
};
add('scratchnet wasm, 1 thread', run('node', ['bench/run-scratchnet.mjs', 'wasm', '1']));
add(`scratchnet wasm, ${cores} threads`, run('node', ['bench/run-scratchnet.mjs', 'wasm', String(cores)]));
add('scratchnet wasm, 1 thread, plain SIMD (no FMA)', run('node', ['bench/run-scratchnet.mjs', 'wasm', '1'], { SCRATCHNET_WASM_FMA: '0' }));
add('scratchnet js', run('node', ['bench/run-scratchnet.mjs', 'js', '1']));
add('TensorFlow.js 4.22 wasm', run('node', ['bench/run-tfjs.mjs', 'wasm']));
add('TensorFlow.js 4.22 cpu', run('node', ['bench/run-tfjs.mjs', 'cpu']));

// PyTorch: same data (written here as raw arrays), its fastest setting on this machine.
const { loadMnist } = await import('../dist/node.js');
const m = await loadMnist({ normalize: true, flatten: false });
const mdir = join(tmp, 'mnist');
mkdirSync(mdir, { recursive: true });
writeFileSync(join(mdir, 'train_x.f32'), m.train.x.data.subarray(0, 1000 * 784));
writeFileSync(join(mdir, 'train_t.i32'), Int32Array.from(m.train.t.subarray(0, 1000)));
writeFileSync(join(mdir, 'test_x.f32'), m.test.x.data);
writeFileSync(join(mdir, 'test_t.i32'), Int32Array.from(m.test.t));
let torch = null;
for (const py of ['python3', '/usr/bin/python3']) {
  const ok = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (ok.status === 0) {
    torch = py;
    break;
  }
}
let blas = 'unknown';
try {
  blas = spawnSync('readlink', ['-f', '/etc/alternatives/libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' }).stdout.trim() || 'unknown';
} catch {
  // not Debian
}
if (torch) {
  add(`PyTorch CPU, ${cores} threads, OpenBLAS 1 thread`, run(torch, ['bench/run-torch.py', mdir, String(cores)], { OPENBLAS_NUM_THREADS: '1' }, ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']));
  // for reference: one thread (less sensitive to a busy machine than its OpenMP pool)
  if (cores > 1) add('PyTorch CPU, 1 thread', run(torch, ['bench/run-torch.py', mdir, '1'], { OPENBLAS_NUM_THREADS: '1' }, ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']));
} else log('PyTorch: `import torch` fails for python3 and /usr/bin/python3: column skipped');

// ---- one epoch of the CLI, memory, agreement ---------------------------------------------------
log('scratchnet train, 1 epoch ...');
const epoch = run('node', ['dist/cli/main.js', 'train', '--epochs', '1', '--quiet', '--out', join(tmp, 'epoch.safetensors')]);
const epochAcc = /final test accuracy: ([\d.]+)%/.exec(epoch.stdout ?? '')?.[1];
log(`  ${epoch.wall.toFixed(1)} s, test accuracy ${epochAcc}%`);
log(`memory over ${quick ? 400 : 2000} steps ...`);
const mem = run('node', ['bench/run-memory.mjs', String(quick ? 400 : 2000)]);
log(mem.error ?? `  RSS ${mem.rssWarmMB.toFixed(0)} -> ${mem.rssEndMB.toFixed(0)} MB (${mem.growthPct.toFixed(2)}%), peak ${mem.peakRssMB.toFixed(0)} MB`);

// ---- report ---------------------------------------------------------------------------------
const ref = rows.find((r) => r.name.startsWith('scratchnet wasm,') && r.name.includes(`${cores} threads`) && !r.error) ?? rows[0];
const fmt = (v, d = 1) => (v === undefined ? '-' : v.toFixed(d));
const table = [
  '| implementation | training step (ms) | step vs scratchnet wasm | inference (images/s) | inference vs scratchnet wasm |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => r.error
    ? `| ${r.name} | failed: ${r.error.replace(/\|/g, '/')} | | | |`
    : `| ${r.name} | ${fmt(r.stepMs, 2)} | ${fmt(r.stepMs / ref.stepMs, 2)}x | ${Math.round(r.imagesPerSec)} | ${fmt(ref.imagesPerSec / r.imagesPerSec, 2)}x |`),
];
function checks() {
  const torchRows = rows.filter((r) => r.name.startsWith('PyTorch') && !r.error);
  const tfw = rows.find((r) => r.name === 'TensorFlow.js 4.22 wasm' && !r.error);
  const out = [];
  const mark = (ok) => (ok ? 'yes' : '**no**');
  if (torchRows.length > 0) {
    const bestStep = Math.min(...torchRows.map((r) => r.stepMs));
    const bestInfer = Math.max(...torchRows.map((r) => r.imagesPerSec));
    out.push(`- Training step at least as fast as PyTorch's fastest setting in this run (${fmt(bestStep, 2)} ms): ${mark(ref.stepMs <= bestStep)} (${fmt(ref.stepMs, 2)} ms${tfw ? `; ${fmt(tfw.stepMs / ref.stepMs, 1)}x TensorFlow.js wasm` : ''}).`);
    out.push(`- Inference at least as many images/s as PyTorch's best here (${Math.round(bestInfer)}): ${mark(ref.imagesPerSec >= bestInfer)} (${Math.round(ref.imagesPerSec)}${tfw ? `; ${fmt(ref.imagesPerSec / tfw.imagesPerSec, 2)}x TensorFlow.js wasm` : ''}).`);
  } else out.push('- PyTorch comparisons: no PyTorch on this machine.');
  out.push(`- One epoch of \`scratchnet train\` under 15 s: ${mark(epoch.wall < 15)} (${fmt(epoch.wall)} s).`);
  if (!mem.error) {
    out.push(`- RSS flat over ${mem.steps} steps (growth under 5%): ${mark(mem.growthPct < 5)} (${fmt(mem.growthPct, 2)}%).`);
    out.push(`- js and wasm losses within 1e-4 relative over 20 steps: ${mark(mem.agreeMaxRel < 1e-4)} (${mem.agreeMaxRel.toExponential(2)}).`);
  }
  return out;
}
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpu}, ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}`;
const lines = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  '',
  `Machine: ${machine}. Load average (1 min) at the start: ${loadBefore.toFixed(2)}.${busy ? ' **Other training processes were running during this run: figures are disturbed.**' : ''}`,
  '',
  'SimpleConvNet (conv 30x5x5, ReLU, max-pool 2x2, affine 100, ReLU, affine 10), MNIST. Training step:',
  'forward, backward and Adam update on a batch of 100 (median of 60 steps after 10 warm-up; js 8',
  'after 2). Inference: the 10,000 test images in batches of 100 (median of 3 passes after one',
  'warm-up pass). Ratios: how many times slower than scratchnet wasm on all threads (step), how',
  'many times more images/s scratchnet wasm has (inference). Each row is its own process.',
  '',
  ...table,
  '',
  `- scratchnet wasm kernel build: ${ref.flavor ?? '-'} (relaxed-SIMD FMA where the engine validates it).`,
  '- TensorFlow.js: tfjs-core 4.22 with tfjs-backend-wasm / tfjs-backend-cpu; the wasm backend has no',
  '  Conv2DBackpropFilter kernel (tfjs issue 8474), so the Conv2D gradient is re-registered with',
  '  `tf.registerGradient` (filter gradient as a conv2d of transposed operands), as its users must.',
  torch ? `- PyTorch ${rows.find((r) => r.name.startsWith('PyTorch'))?.version ?? ''} (${torch}): \`torch.set_num_threads(${cores})\` (and 1 in the last row), \`OPENBLAS_NUM_THREADS=1\`, \`OPENBLAS_CORETYPE\` / \`OPENBLAS_L2_SIZE\` unset for that command; BLAS: ${blas}. (Debian's python3-torch calls the system libblas.so.3: with the reference BLAS it is ~5x slower; \`apt-get install libopenblas0-pthread\` switches it to OpenBLAS.)` : '- PyTorch: not installed (column skipped).',
  '',
  '## The issue\'s targets, checked in this run',
  '',
  ...checks(),
  '',
  '## One epoch of `scratchnet train`',
  '',
  `\`scratchnet train --epochs 1\` (600 steps of batch 100, Adam, 1,000-image evaluations at the`,
  `epoch end and the final 10,000-image test), wasm backend, ${cores} threads: **${fmt(epoch.wall)} s** wall`,
  `time including process start and data loading; final test accuracy ${epochAcc ?? '-'}%.`,
  '',
  '## Memory',
  '',
  mem.error ? `failed: ${mem.error}` : [
    `Training ${mem.steps} steps (wasm backend, Trainer with shuffled epochs and per-epoch evaluation,`,
    `${fmt(mem.seconds)} s): RSS ${fmt(mem.rssWarmMB, 0)} MB after step 200, ${fmt(mem.rssEndMB, 0)} MB at the end:`,
    `**${fmt(mem.growthPct, 2)}% growth**; peak RSS ${fmt(mem.peakRssMB, 0)} MB; wasm memory ${fmt(mem.wasmMemoryMB, 0)} MB.`,
    `RSS every 200 steps (MB): ${mem.samplesMB.join(', ')}.`,
    '',
    '## js and wasm agree',
    '',
    `The same 20 Adam steps from the same seed: largest relative difference between the js and`,
    `wasm losses ${mem.agreeMaxRel.toExponential(2)} (step-20 loss js ${mem.lossJs20.toFixed(6)}, wasm ${mem.lossWasm20.toFixed(6)}).`,
  ].join('\n'),
  '',
];
// The zoo table (issue 12): every built-in network against its PyTorch twin, same run.
log('zoo: every built-in network against its PyTorch twin (bench/zoo.mjs, 5 rounds)');
const zoo = spawnSync('node', ['bench/zoo.mjs', quick ? '1' : '5'], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
lines.push(
  '## Every built-in network against its PyTorch twin',
  '',
  'Training step (batch 100, Adam, random 1x28x28 input) and inference batch of 100, scratchnet',
  'wasm (all threads) vs a PyTorch twin built from the same spec (`bench/run-torch-spec.py`),',
  'interleaved rounds, medians (`node bench/zoo.mjs`). Per-op profiles: `node bench/profile-zoo.mjs`.',
  '',
  zoo.status === 0 ? zoo.stdout.trim() : `failed: ${(zoo.stderr || '').trim().split('\n').slice(-3).join(' | ')}`,
  '',
);
writeBenchmarks(lines.join('\n'), browserSection());
process.stdout.write(table.join('\n') + '\n');
log('wrote BENCHMARKS.md');
