// scratchnet models: the built-in networks with their layer tables (output shape and parameter
// count per layer, totals), one of them, or a spec file; --json prints the spec itself, a
// starting point for your own network (scratchnet train --model my-net.json).

import { UsageError } from '../errors.js';
import type { Network } from '../models/network.js';
import { SequentialNetwork } from '../models/sequential.js';
import { SimpleConvNet } from '../models/simple-convnet.js';
import { checkSpec, formatSummary, type NetworkSpec, SpecError, type WeightInit } from '../models/spec.js';
import { DEFAULT_RECIPE, formatRecipe, isSpecPath, readSpecFile, ZOO, ZOO_NAMES, zooSpec } from '../models/zoo.js';
import { type CommandSpec, formatHelp, parseArgs } from './args.js';
import type { Io } from './io.js';

export const modelsSpec: CommandSpec = {
  name: 'models',
  summary: 'List the built-in networks with their layer tables (output shape and parameters per layer) and the recipe train uses for each.',
  usage: `scratchnet models [NAME...] [--spec FILE] [--json]   (NAME: ${ZOO_NAMES.join(', ')})`,
  flags: {
    spec: { type: 'string', description: 'show the network of a JSON spec file instead', value: 'FILE' },
    json: { type: 'boolean', description: 'print the spec as JSON (edit it, then train --model FILE)' },
  },
  positionals: { name: 'NAME', min: 0 },
};

export async function modelsCommand(argv: string[], io: Io): Promise<number> {
  const { flags, positionals, help } = parseArgs(modelsSpec, argv);
  if (help) {
    io.out(formatHelp(modelsSpec));
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

export interface TrainNetworkOptions {
  /** Image shape of the data (C, H, W). */
  input: [number, number, number];
  /** Classes the labels need (largest label + 1). */
  classes: number;
  seed: number;
  backend: string;
  /** --init: for 'simple' always (its default 'he'); for the others only when given, and then
   *  it replaces every layer's own init. */
  init: WeightInit | undefined;
}

/** The network `scratchnet train --model NAME|FILE` trains: 'simple' is the SimpleConvNet class
 *  (model files keep its { model: 'SimpleConvNet' } spec), the other built-ins are sized for the
 *  data's images, and a JSON spec file must match them. */
export async function createTrainNetwork(model: string, o: TrainNetworkOptions): Promise<{ network: Network; label: string }> {
  if (model === 'simple') {
    return { network: new SimpleConvNet({ inputDim: o.input, outputSize: Math.max(10, o.classes), seed: o.seed, backend: o.backend, weightInitStd: o.init ?? 'he' }), label: 'SimpleConvNet' };
  }
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
  return { network, label: fromFile ? `${spec.name ?? 'network'} (${model})` : model };
}
