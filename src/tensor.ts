// Tensor = a flat typed array + a shape (row-major, NCHW for images), as in NumPy's ndarray
// restricted to what chapter 7 needs. No strides: every tensor is contiguous, so `reshape`
// is free and a transpose is an explicit copy done by a backend op.
//
// Data is Float32Array by default. Float64Array is allowed too: the reference (js) backend
// runs every op in either precision, which is what makes central-difference gradient checks
// well conditioned (float32 rounding swamps the difference quotient).

import { ShapeError } from './errors.js';
import { Random } from './random.js';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape [${shape.join(', ')}]`);
  }
}

export class Tensor {
  readonly data: FloatArray;
  readonly shape: readonly number[];

  constructor(data: FloatArray, shape: readonly number[]) {
    checkShape(shape);
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(`shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  /** Same storage, new shape; one dimension may be -1 (inferred), as in NumPy. */
  reshape(...shape: number[]): Tensor {
    const dims = shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as unknown as number[]) : shape;
    const known = dims.filter((d) => d !== -1);
    const inferred = dims.length - known.length;
    if (inferred > 1) throw new ShapeError('reshape: only one dimension can be -1');
    const out = [...dims];
    if (inferred === 1) {
      const rest = sizeOf(known);
      if (rest === 0 || this.size % rest !== 0) {
        throw new ShapeError(`cannot reshape [${this.shape.join(', ')}] into [${dims.join(', ')}]`);
      }
      out[dims.indexOf(-1)] = this.size / rest;
    }
    if (sizeOf(out) !== this.size) {
      throw new ShapeError(`cannot reshape [${this.shape.join(', ')}] into [${dims.join(', ')}]`);
    }
    return new Tensor(this.data, out);
  }

  /** A deep copy (new storage). */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Rows [start, end) along the first axis as a view: it shares this tensor's storage (NumPy's
   *  x[start:end]), so nothing is copied; writes go through to this tensor. */
  viewRows(start: number, end: number): Tensor {
    const row = this.shape.length > 0 ? this.size / this.shape[0] : 1;
    return new Tensor(this.data.subarray(start * row, end * row), [end - start, ...this.shape.slice(1)]);
  }

  /** Rows [start, end) along the first axis, copied. */
  sliceRows(start: number, end: number): Tensor {
    const row = this.shape.length > 0 ? this.size / this.shape[0] : 1;
    return new Tensor(this.data.slice(start * row, end * row), [end - start, ...this.shape.slice(1)]);
  }

  /** Rows picked by index along the first axis (a mini-batch), copied. */
  gatherRows(indices: ArrayLike<number>, into?: Tensor): Tensor {
    const row = this.size / this.shape[0];
    if (into && (into.dtype !== this.dtype || into.size !== indices.length * row)) {
      throw new ShapeError(`gatherRows: ${indices.length} rows of ${row} ${this.dtype} values do not fit a ${into.dtype} tensor (${into.shape.join(', ')})`);
    }
    const out = into ? into.data : allocate(this.dtype, indices.length * row);
    for (let i = 0; i < indices.length; i++) {
      const src = indices[i] * row;
      out.set(this.data.subarray(src, src + row), i * row);
    }
    return into ?? new Tensor(out, [indices.length, ...this.shape.slice(1)]);
  }

  /** The same values in another precision (a copy). */
  astype(dtype: DType): Tensor {
    const out = allocate(dtype, this.size);
    out.set(this.data);
    return new Tensor(out, this.shape);
  }

  toArray(): number[] {
    return Array.from(this.data);
  }
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

export function fromArray(values: ArrayLike<number>, shape?: readonly number[], dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, values.length);
  data.set(values as ArrayLike<number>);
  return new Tensor(data, shape ?? [values.length]);
}

/** std * N(0, 1) draws, like `weight_init_std * np.random.randn(*shape)`. */
export function randn(rng: Random, shape: readonly number[], std = 1, dtype: DType = 'float32'): Tensor {
  // arguments in the wrong order would otherwise fail far away ("shape is not iterable")
  if (!(rng instanceof Random)) throw new ShapeError(`randn(rng, shape, std): the first argument must be a Random generator, got ${Array.isArray(rng) ? 'an array (a shape?)' : typeof rng}`);
  if (!Array.isArray(shape)) throw new ShapeError(`randn(rng, shape, std): shape must be an array of sizes, got ${shape instanceof Random ? 'a Random generator' : typeof shape}`);
  const t = zeros(shape, dtype);
  for (let i = 0; i < t.data.length; i++) t.data[i] = std * rng.gaussian();
  return t;
}

export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}
