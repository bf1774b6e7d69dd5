// im2row / row2im (book 7.4.2, the book's im2col/col2im) on Tensors: every filter-sized window
// of the input becomes one row, so a convolution is a single matrix product.
//   im2row: x (N, C, H, W) -> (N*OH*OW, C*FH*FW);  row2im: the reverse, overlaps summed.

import { outputSize, type Backend, type WindowGeometry } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { ShapeError, ValueError } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';

/** A pooling window's settings, checked when the layer is built: positive integer sizes and
 *  stride, a non-negative pad smaller than the window. `owner` names the layer in errors. */
export function checkPoolWindow(owner: string, poolH: number, poolW: number, stride: number, pad: number): void {
  for (const [name, v, min] of [['poolH', poolH, 1], ['poolW', poolW, 1], ['stride', stride, 1], ['pad', pad, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ValueError(`${owner}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (pad >= poolH || pad >= poolW) throw new ValueError(`${owner}: pad ${pad} must be smaller than the window ${poolH}x${poolW}`);
}

/** The geometry of a sliding window over an (N, C, H, W) input, sizes checked; `owner` names
 *  the layer in error messages. Shared by im2row, Convolution and the pooling layers. */
export function windowGeometry(shape: readonly number[], filterH: number, filterW: number, stride: number, pad: number, owner = 'im2row'): WindowGeometry {
  if (shape.length !== 4) throw new ShapeError(`${owner}: input must be (N, C, H, W), got (${shape.join(', ')})`);
  const [N, C, H, W] = shape;
  const OH = outputSize(H, filterH, stride, pad);
  const OW = outputSize(W, filterW, stride, pad);
  if (OH < 1 || OW < 1) throw new ShapeError(`${owner}: a ${filterH}x${filterW} window (stride ${stride}, pad ${pad}) does not fit a ${H}x${W} input`);
  return { batch: N, channels: C, height: H, width: W, filterHeight: filterH, filterWidth: filterW, stride, pad, outputHeight: OH, outputWidth: OW };
}

export function im2row(x: Tensor, filterH: number, filterW: number, stride = 1, pad = 0, backend: Backend = getBackend()): Tensor {
  const g = windowGeometry(x.shape, filterH, filterW, stride, pad);
  const out = zeros([g.batch * g.outputHeight * g.outputWidth, g.channels * filterH * filterW], x.dtype);
  backend.im2row(x.data, g, out.data);
  return out;
}

export function row2im(row: Tensor, inputShape: readonly number[], filterH: number, filterW: number, stride = 1, pad = 0, backend: Backend = getBackend()): Tensor {
  const g = windowGeometry(inputShape, filterH, filterW, stride, pad);
  const rows = g.batch * g.outputHeight * g.outputWidth;
  const cols = g.channels * filterH * filterW;
  if (row.size !== rows * cols) throw new ShapeError(`row2im: rows of shape (${row.shape.join(', ')}) do not match (${rows}, ${cols}) for input (${inputShape.join(', ')})`);
  const out = zeros(inputShape, row.dtype);
  backend.row2im(row.data, g, out.data);
  return out;
}
