// The job-record ABI between the wasm backend (TypeScript, wasm-backend.ts) and its kernels
// (AssemblyScript, assembly/kernels.ts imports this very file by relative path). Plain numeric
// constants only: the one syntax both compilers accept (`export const X = 1;` is an i32 global
// in AssemblyScript, inlined at -O3). Every number of the ABI is written here once.
//
// A job is a record of JOB_WORDS 32-bit words in the shared memory, written by the calling
// thread; every participant (the caller and the pool's workers) claims chunk indices and calls
// the module's `runChunk(job, chunk, scratch)`, which decodes the record with these offsets.

/** Size of a job record in 32-bit words. */
export const JOB_WORDS = 48;

// ---- words common to every job
/** Word 0: the job code (JOB_GEMM_* or JOB_* below). */
export const JOB_CODE = 0;
/** Rows / columns / K values / leading units per chunk. */
export const JOB_CHUNK = 1;

// ---- job codes
/** GEMM split by rows of C, by columns of C, or by K into partial products summed afterwards. */
export const JOB_GEMM_ROWS = 1;
export const JOB_GEMM_COLUMNS = 2;
export const JOB_GEMM_K = 3;
// Memory-bound ops split along their leading dimension (table in wasm-backend.ts).
export const JOB_IM2ROW = 4;
export const JOB_ROW2IM = 5;
export const JOB_MAX_POOL_FORWARD = 6;
export const JOB_MAX_POOL_BACKWARD = 7;
export const JOB_TRANSPOSE021 = 8;
export const JOB_RELU_FORWARD = 9;
export const JOB_RELU_BACKWARD = 10;
export const JOB_ADD_BIAS = 11;
export const JOB_ADAM_UPDATE = 12;
// the model-zoo ops (assembly/zoo.ts): elementwise ones by elements, pooling by (n, c) planes,
// LRN by samples (its window runs across channels)
export const JOB_SIGMOID_FORWARD = 13;
export const JOB_SIGMOID_BACKWARD = 14;
export const JOB_TANH_FORWARD = 15;
export const JOB_TANH_BACKWARD = 16;
export const JOB_MUL = 17;
export const JOB_AVG_POOL_FORWARD = 18;
export const JOB_AVG_POOL_BACKWARD = 19;
export const JOB_LRN_FORWARD = 20;
export const JOB_LRN_BACKWARD = 21;

// the convolution (assembly/conv.ts; codes 30-49 are the convolution's): forward and input
// gradient split by images, filter gradient by columns of dW (each chunk packs its own rows)
export const JOB_CONV_FORWARD = 30;
export const JOB_CONV_BACKWARD_FILTER = 31;
export const JOB_CONV_BACKWARD_DATA = 32;
// fused ops (assembly/fused.ts): job codes 50-69, decoded by runFused
export const JOB_FUSED_FIRST = 50;
export const JOB_FUSED_LAST = 69;
/** reluMaxPoolForward / Backward, split by (n, c) planes. */
export const JOB_RELU_MAX_POOL_FORWARD = 50;
export const JOB_RELU_MAX_POOL_BACKWARD = 51;
/** reluMaxPoolForward without argMax (inference) keeps each block's argmax in the thread's
 *  scratch: planes whose pooled output is larger than this run the js kernel. */
export const FUSED_SCRATCH_OUTPUTS = 8192;

/** lrnBackward keeps C x 8 floats of per-channel terms in the thread's scratch (64 KiB of GEMM
 *  pack buffer): more channels than this run the js kernel. */
export const LRN_MAX_CHANNELS = 2048;

// ---- GEMM jobs: C = alpha op(A) op(B) (+ C) over the chunk's rows / columns / K range
export const GEMM_TRANS_A = 2;
export const GEMM_TRANS_B = 3;
export const GEMM_M = 4;
export const GEMM_N = 5;
export const GEMM_K = 6;
/** alpha as f32 bits. */
export const GEMM_ALPHA = 7;
export const GEMM_A = 8;
export const GEMM_B = 9;
export const GEMM_C = 10;
/** 1: the first K block stores instead of adding (beta = 0). */
export const GEMM_OVERWRITE = 11;
/** K split: byte offset of the partial products, one M x N block per chunk. */
export const GEMM_PARTS = 12;

// ---- leading-dimension jobs: chunk c covers units [c * size, min(total, (c + 1) * size))
/** The leading dimension's size (samples, planes, rows, elements). */
export const SPLIT_TOTAL = 2;
/** Up to SPLIT_POINTERS operand byte offsets, in the op's operand order ... */
export const SPLIT_POINTER = 3;
/** ... and each one's bytes per leading unit (0: every chunk reads all of it, e.g. a bias). */
export const SPLIT_STRIDE = 8;
export const SPLIT_POINTERS = 5;
/** An output reduced over the leading dimension (transpose021's sums): each chunk writes its
 *  own zeroed partial of SPLIT_PART_LENGTH floats at SPLIT_PARTS + chunk * length * 4; the
 *  caller adds them up. 0: none. */
export const SPLIT_PARTS = 13;
export const SPLIT_PART_LENGTH = 14;
/** The op's integer (or f32-bits) arguments, in the order runChunk passes them on. */
export const SPLIT_ARGS = 15;
export const SPLIT_MAX_ARGS = JOB_WORDS - SPLIT_ARGS;
