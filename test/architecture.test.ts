// The shape of the house, checked: the import graph of src/ has no circle, dependencies run
// one way (cli -> train/models/io/viz -> layers -> backend -> kernels: nothing below imports
// from above), the root entry reaches no static node:* import through index.ts's own backend
// and layer modules, and every layer kind in the registry is complete and exported.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as api from '../src/index.js';
import { LAYER_KINDS } from '../src/layers/registry.js';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Static imports (type-only ones included: they still tie the modules' meaning together). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    out.push(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
  }
  return out;
}

const graph = new Map(files(src).map((f) => [f, imports(f)]));
const rel = (f: string) => relative(src, f);

describe('architecture', () => {
  it('every relative import resolves to a file in src/', () => {
    for (const [f, deps] of graph) for (const d of deps) assert.ok(graph.has(d), `${rel(f)} imports ${rel(d)}, which does not exist`);
  });

  it('the import graph has no circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') assert.fail(`import circle: ${[...stack.slice(stack.indexOf(f)), f].map(rel).join(' -> ')}`);
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) visit(d);
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f);
  });

  it('dependencies run one way: backend knows no layer, layers know no model, nothing imports the CLI', () => {
    const layer = (f: string): number => {
      const r = rel(f);
      if (r.startsWith('cli/')) return 4;
      if (/^(train|models|io|viz|data|worker)\//.test(r) || r === 'index.ts' || r === 'node.ts') return 3;
      if (r.startsWith('layers/') || r.startsWith('optimizers/')) return 2;
      if (r.startsWith('backend/')) return 1;
      return 0; // tensor, random, errors
    };
    for (const [f, deps] of graph) {
      for (const d of deps) {
        if (layer(d) > layer(f) && !(rel(f).startsWith('models/') && rel(d).startsWith('models/'))) {
          assert.fail(`${rel(f)} (level ${layer(f)}) imports ${rel(d)} (level ${layer(d)}): dependencies must run downwards`);
        }
      }
    }
    const backendFiles = [...graph.keys()].filter((f) => rel(f).startsWith('backend/'));
    for (const f of backendFiles) for (const d of graph.get(f)!) assert.ok(!rel(d).startsWith('layers/'), `${rel(f)} imports a layer`);
  });

  it('every registered layer kind is complete, has a unique type and prefix, and its class is exported', () => {
    const types = new Set<string>();
    const prefixes = new Set<string>();
    for (const k of LAYER_KINDS) {
      assert.ok(!types.has(k.type), `duplicate type ${k.type}`);
      assert.ok(!prefixes.has(k.prefix), `duplicate prefix ${k.prefix}`);
      types.add(k.type);
      prefixes.add(k.prefix);
      for (const m of ['infer', 'build', 'onnx', 'describe'] as const) assert.equal(typeof k[m], 'function', `${k.type}.${m}`);
      assert.ok(k.doc.length > 0, `${k.type} has a doc line`);
    }
    for (const name of ['Convolution', 'Affine', 'Pooling', 'AvgPooling', 'Relu', 'Sigmoid', 'Tanh', 'LRN', 'Dropout', 'BatchNormalization', 'Flatten', 'GlobalAvgPooling']) {
      assert.equal(typeof (api as Record<string, unknown>)[name], 'function', `${name} is exported from the package`);
    }
  });
});
