// scratchnet predict: classify PNG/JPEG images of digits. Each image (any size, any colour)
// becomes a 28x28 white-on-black digit centred by mass, the way MNIST digits were made.

import { backendNames, getBackend, setThreads } from '../backend/registry.js';
import { ScratchnetError } from '../errors.js';
import { loadImage, toGray, toMnistDigit } from '../data/image.js';
import { readModelInput } from './model-input.js';
import { softmax } from '../layers/functions.js';
import { Tensor } from '../tensor.js';
import { type CommandSpec, formatHelp, parseArgs, requireFlag } from './args.js';
import type { Io } from './io.js';

export const predictSpec: CommandSpec = {
  name: 'predict',
  summary: 'Classify digit images (PNG or JPEG, any size or colour) with a saved model.',
  usage: 'scratchnet predict --model FILE IMAGE...',
  flags: {
    model: { type: 'string', description: 'model file written by scratchnet train', value: 'FILE' },
    top: { type: 'int', default: 3, min: 1, description: 'how many classes to list per image', value: 'K' },
    json: { type: 'boolean', description: 'print one JSON object per image instead of text' },
    backend: { type: 'string', default: getBackend().name, choices: backendNames(), description: 'compute backend (wasm: WebAssembly SIMD kernels; js: the reference loops)', value: 'NAME' },
    threads: { type: 'int', min: 1, max: 256, description: 'threads for the wasm backend (default: all available cores)', value: 'N' },
  },
  positionals: { name: 'IMAGE', min: 1 },
};

export async function predictCommand(argv: string[], io: Io): Promise<number> {
  const { flags, positionals, help } = parseArgs(predictSpec, argv);
  if (flags.threads !== undefined) setThreads(flags.threads as number);
  if (help) {
    io.out(formatHelp(predictSpec));
    return 0;
  }
  const modelPath = requireFlag(predictSpec, flags, 'model');
  const { network } = await readModelInput(modelPath, { backend: flags.backend as string });
  if (network.inputShape.join('x') !== '1x28x28') {
    throw new ScratchnetError(`${modelPath}: predict needs a model for 1x28x28 digits, this one takes ${network.inputShape.join('x')}`);
  }
  const top = Math.min(flags.top as number, network.outputSize);
  let failures = 0;
  for (const file of positionals) {
    try {
      const digit = toMnistDigit(toGray(await loadImage(file)));
      const probs = softmax(network.predict(new Tensor(digit, [1, 1, 28, 28])));
      const ranked = [...probs.data].map((p, c) => [c, p] as const).sort((a, b) => b[1] - a[1]).slice(0, top);
      if (flags.json) {
        io.out(JSON.stringify({ file, class: ranked[0][0], top: ranked.map(([c, p]) => ({ class: c, probability: p })) }));
      } else {
        io.out(`${file}: ${ranked[0][0]}  (${ranked.map(([c, p]) => `${c}: ${(100 * p).toFixed(1)}%`).join(', ')})`);
      }
    } catch (e) {
      if (!(e instanceof ScratchnetError)) throw e;
      io.err(`scratchnet predict: ${e.message}`);
      failures++;
    }
  }
  return failures > 0 ? 1 : 0;
}
