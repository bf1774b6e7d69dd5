// scratchnet models: the built-in networks with their layer tables (output shape and parameter
// count per layer, totals), one of them, or a spec file; --json prints the spec itself, a
// starting point for your own network (scratchnet train --model my-net.json); --layers lists
// the layer types a spec may use, straight from the layer registry.

import type { Backend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import type { Network } from '../models/network.js';
import { SequentialNetwork } from '../models/sequential.js';
import { checkSpec, formatSummary, type NetworkSpec, SpecError, type WeightInit } from '../models/spec.js';
import { DEFAULT_RECIPE, formatRecipe, isSpecPath, readSpecFile, ZOO, ZOO_NAMES, zooSpec } from '../models/zoo.js';
import { type CommandSpec, formatHelp, parseArgs } from './args.js';
import type { Io } from './io.js';
import { LAYER_KINDS } from '../layers/registry.js';

export const modelsSpec: CommandSpec = {
  name: 'models',
  summary: 'List the built-in networks with their layer tables (output shape and parameters per layer) and the recipe train uses for each.',
  usage: `scratchnet models [NAME...] [--spec FILE] [--json]   (NAME: ${ZOO_NAMES.join(', ')})`,
  flags: {
    spec: { type: 'string', description: 'show the network of a JSON spec file instead', value: 'FILE' },
    json: { type: 'boolean', description: 'print the spec as JSON (edit it, then train --model FILE)' },
    layers: { type: 'boolean', description: 'list the layer types a spec may use, with their options and defaults' },
  },
  positionals: { name: 'NAME', min: 0 },
};

export async function modelsCommand(argv: string[], io: Io): Promise<number> {
  const { flags, positionals, help } = parseArgs(modelsSpec, argv);
  if (help) {
    io.out(formatHelp(modelsSpec));
    return 0;
  }
  if (flags.layers) {
    if (positionals.length > 0 || flags.spec !== undefined) throw new UsageError('--layers lists the layer types: give it alone (see scratchnet models --help)');
    io.out(formatLayerKinds());
    return 0;
  }
  const specs: [string, NetworkSpec][] = [];
  if (flags.spec !== undefined) {
    if (positionals.length > 0) throw new UsageError(`give either model names or --spec, not both (see scratchnet models --help)`);
    specs.push([String(flags.spec), await readSpecFile(String(flags.spec))]);
  } else {
    for (const name of positionals.length > 0 ? positionals : ZOO_NAMES) specs.push([name, zooSpec(name)]);
  }
  if (flags.json) {
    const list = specs.map(([, s]) => checkSpec(s).spec);
    io.out(JSON.stringify(list.length === 1 ? list[0] : list, null, 2));
    return 0;
  }
  specs.forEach(([name, spec], i) => {
    if (i > 0) io.out('');
    const described = ZOO[name] ? `${name}: ${ZOO[name].description}` : name;
    io.out(formatSummary(checkSpec(spec), described));
    // The settings `train --model NAME` uses without flags (each flag overrides one item).
    const recipe = ZOO[name]?.recipe;
    io.out(recipe ? `recipe: ${formatRecipe(recipe)} (${recipe.source})` : `recipe: none of its own; train uses the default: ${formatRecipe(DEFAULT_RECIPE)}`);
  });
  return 0;
}

/** One line per layer kind: its spec type, what it is, and its options with their defaults. */
export function formatLayerKinds(): string {
  const rows = LAYER_KINDS.map((k) => {
    const options = Object.entries(k.options).map(([name, rule]) => {
      if (rule.kind === 'init') return `${name}?`;
      const d = rule.kind === 'int' && rule.defaultFrom !== undefined ? `=${rule.defaultFrom}` : rule.default !== undefined ? `=${rule.default}` : '';
      return `${name}${d}`;
    });
    return [k.type, options.join(' ') || '-', k.doc];
  });
  const w0 = Math.max(4, ...rows.map((r) => r[0].length));
  const w1 = Math.max(7, ...rows.map((r) => r[1].length));
  const line = (r: string[]) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`.trimEnd();
  return [line(['type', 'options', 'what it is']), '-'.repeat(w0 + w1 + 40), ...rows.map(line),
    '', 'options without a default are required; init is he, xavier or a standard deviation (default: the spec\'s init)'].join('\n');
}

export interface TrainNetworkOptions {
  /** Image shape of the data (C, H, W). */
  input: [number, number, number];
  /** Classes the labels need (largest label + 1). */
  classes: number;
  seed: number;
  backend: string | Backend;
  /** --init: for 'simple' always (its default 'he'); for the others only when given, and then
   *  it replaces every layer's own init. */
  init: WeightInit | undefined;
}

/** The network `scratchnet train --model NAME|FILE` trains: the built-ins are sized for the
 *  data's images ('simple' is the book's SimpleConvNet as a spec, bit-identical to the class),
 *  and a JSON spec file must match them. */
export async function createTrainNetwork(model: string, o: TrainNetworkOptions): Promise<{ network: Network; label: string }> {
  const fromFile = isSpecPath(model);
  const spec = fromFile ? await readSpecFile(model) : zooSpec(model, { input: o.input, classes: Math.max(10, o.classes) });
  const prefix = fromFile ? `${model}: ` : `--model ${model}: `;
  if (spec.input.join('x') !== o.input.join('x')) {
    throw new SpecError(`${prefix}the network takes ${spec.input.join('x')} inputs, the data's images are ${o.input.join('x')}`);
  }
  let network: SequentialNetwork;
  try {
    network = new SequentialNetwork(spec, { seed: o.seed, backend: o.backend, init: o.init });
  } catch (e) {
    if (e instanceof SpecError && !fromFile) throw new SpecError(`${prefix}${e.message}`);
    throw e;
  }
  if (network.outputSize < o.classes) {
    throw new SpecError(`${prefix}the network outputs ${network.outputSize} class scores, the labels need ${o.classes}`);
  }
  return { network, label: fromFile ? `${spec.name ?? 'network'} (${model})` : model === 'simple' ? 'SimpleConvNet' : model };
}
