// Per-op profiling: a backend that runs another one and times every op call, so a user (and
// `npm run bench -- --profile`, `scratchnet train --profile`) can see where a step goes.
// Wrapping adds ~0.1 us per call (performance.now twice), far below any kernel worth timing.
//   const p = profileBackend(getBackend());
//   const net = buildFromSpec(spec, { backend: p.backend }); ... ; console.log(p.format());

import { type Backend, BACKEND_OPS } from './backend.js';

export interface OpProfile {
  op: string;
  calls: number;
  ms: number;
}

export interface Profiler {
  /** Use this backend to build networks and optimizers: every op is timed. */
  readonly backend: Backend;
  /** Totals per op, slowest first. */
  report(): OpProfile[];
  /** Forget what was measured (e.g. after warm-up steps). */
  reset(): void;
  /** The report as a table: op, calls, total ms, ms per step (when `steps` is given), share. */
  format(steps?: number): string;
}

export function profileBackend(inner: Backend): Profiler {
  const totals = new Map<string, { calls: number; ms: number }>();
  const wrapped: Record<string, unknown> = { name: inner.name, allocate: inner.allocate, maxBytes: inner.maxBytes };
  if (inner.setThreads) wrapped.setThreads = (n: number) => inner.setThreads!(n);
  if (inner.startThreads) wrapped.startThreads = () => inner.startThreads!();
  for (const op of BACKEND_OPS) {
    const f = (inner[op] as (...a: unknown[]) => unknown).bind(inner);
    const entry = { calls: 0, ms: 0 };
    totals.set(op, entry);
    wrapped[op] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = f(...args);
      entry.ms += performance.now() - t0;
      entry.calls++;
      return r;
    };
  }
  const report = () => [...totals].filter(([, e]) => e.calls > 0).map(([op, e]) => ({ op, ...e })).sort((a, b) => b.ms - a.ms);
  return {
    backend: wrapped as unknown as Backend,
    report,
    reset() {
      for (const e of totals.values()) e.calls = e.ms = 0;
    },
    format(steps?: number) {
      const rows = report();
      const total = rows.reduce((n, r) => n + r.ms, 0);
      const lines = [`| op | calls | total ms | ${steps ? 'ms per step | ' : ''}share |`, `|---|---|---|${steps ? '---|' : ''}---|`];
      for (const r of rows) {
        lines.push(`| ${r.op} | ${r.calls} | ${r.ms.toFixed(1)} | ${steps ? `${(r.ms / steps).toFixed(2)} | ` : ''}${((100 * r.ms) / total).toFixed(1)}% |`);
      }
      lines.push(`| all ops | ${rows.reduce((n, r) => n + r.calls, 0)} | ${total.toFixed(1)} | ${steps ? `${(total / steps).toFixed(2)} | ` : ''}100% |`);
      return lines.join('\n');
    },
  };
}
