// scratchnet: the public API (named exports only).

export { Tensor, zeros, fromArray, randn, sizeOf, type DType, type FloatArray } from './tensor.js';
export { Random, type RandomState } from './random.js';
export { ScratchnetError, FileFormatError, ShapeError, UsageError } from './errors.js';

export {
  type Backend, type WindowGeometry, BACKEND_OPS, outputSize, getBackend, setBackend, registerBackend, backendNames,
} from './backend/backend.js';
export { jsBackend } from './backend/js.js';
export { im2row, row2im } from './layers/im2row.js';

export type { Layer, LayerOptions } from './layers/layer.js';
export { Convolution } from './layers/convolution.js';
export { Pooling } from './layers/pooling.js';
export { Relu } from './layers/relu.js';
export { Affine } from './layers/affine.js';
export { SoftmaxWithLoss } from './layers/softmax-with-loss.js';
export { softmax, crossEntropyError, type Labels } from './layers/functions.js';

export { SGD, type SGDOptions } from './optimizers/sgd.js';
export { Momentum, type MomentumOptions } from './optimizers/momentum.js';
export { AdaGrad, type AdaGradOptions } from './optimizers/adagrad.js';
export { Adam, type AdamOptions } from './optimizers/adam.js';
export type { Optimizer } from './optimizers/optimizer.js';
export { createOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerParam } from './optimizers/index.js';

export { Network, type ModelSpec, type Params } from './models/network.js';
export { SimpleConvNet, type SimpleConvNetOptions, type ConvParam } from './models/simple-convnet.js';
export { buildNetwork, registerModel, type BuildOptions } from './models/registry.js';

export {
  Trainer, type TrainerOptions, type TrainData, type Split, type StepInfo, type EpochInfo, type TrainResult,
} from './train/trainer.js';

export { loadMnist, oneHot, defaultMnistDir, type MnistOptions, type Mnist, type MnistSplit } from './data/mnist.js';
export { parseIdx, readIdx, type IdxArray } from './data/idx.js';
export { loadImage, decodeImage, toGray, firstChannel, resizeGray, toMnistDigit, type RgbaImage, type GrayImage } from './data/image.js';

export { saveModel, loadModel, readModelFile, encodeModel, decodeModel, type ModelFile, type TrainingFacts } from './io/model-file.js';
export { encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors, type NamedTensor } from './io/safetensors.js';
export { writeFileAtomic } from './io/atomic.js';
