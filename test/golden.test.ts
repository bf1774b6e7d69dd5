// The book's NumPy code, run on a SimpleConvNet with pad 1 and stride 2, saved every value it
// computes (reference/golden_padstride.json, float64). We reproduce each one in float64 (tight)
// and in float32 (the default precision, within 1e-4 relative).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { outputSize, type WindowGeometry } from '../src/backend/backend.js';
import { getBackend } from '../src/backend/registry.js';
import { Pooling } from '../src/layers/pooling.js';
import { SimpleConvNet } from '../src/models/simple-convnet.js';
import { type DType, fromArray, Tensor } from '../src/tensor.js';
import { assertClose } from './helpers.js';

type Arr = { shape: number[]; data: number[] };
const golden = JSON.parse(readFileSync(new URL('../reference/golden_padstride.json', import.meta.url), 'utf8'));
const tensor = (a: Arr, dtype: DType) => fromArray(a.data, a.shape, dtype);

function geometry(shape: number[], fh: number, fw: number, stride: number, pad: number): WindowGeometry {
  const [N, C, H, W] = shape;
  return { batch: N, channels: C, height: H, width: W, filterHeight: fh, filterWidth: fw, stride, pad, outputHeight: outputSize(H, fh, stride, pad), outputWidth: outputSize(W, fw, stride, pad) };
}

// float64 runs the js kernels (exactly); float32 runs on each backend (wasm: its SIMD kernels).
for (const [dtype, backend, tol] of [['float64', 'js', 1e-9], ['float32', 'js', 1e-4], ['float32', 'wasm', 1e-4]] as const) {
  describe(`golden values (${dtype}, ${backend} backend)`, () => {
    const be = getBackend(backend);

    it('im2row matches the book layout', () => {
      const c = golden.standalone.im2row;
      const x = tensor(c.x, dtype);
      const g = geometry(c.x.shape, c.filter_h, c.filter_w, c.stride, c.pad);
      const out = new Tensor(dtype === 'float64' ? new Float64Array(c.row.data.length) : new Float32Array(c.row.data.length), c.row.shape);
      assert.deepEqual([g.batch * g.outputHeight * g.outputWidth, g.channels * g.filterHeight * g.filterWidth], c.row.shape);
      be.im2row(x.data, g, out.data);
      assertClose(out.data, c.row.data, tol, 'im2row');
    });

    it('row2im matches the book', () => {
      const c = golden.standalone.row2im;
      const row = tensor(c.row, dtype);
      const g = geometry(c.input_shape, c.filter_h, c.filter_w, c.stride, c.pad);
      const out = dtype === 'float64' ? new Float64Array(c.img.data.length) : new Float32Array(c.img.data.length);
      be.row2im(row.data, g, out);
      assertClose(out, c.img.data, tol, 'row2im');
    });

    it('pooling forward, argmax and backward match the book', () => {
      const c = golden.standalone.pooling;
      const p = new Pooling(c.pool_h, c.pool_w, c.stride, c.pad, { backend: be });
      const out = p.forward(tensor(c.x, dtype));
      assert.deepEqual([...out.shape], c.out.shape);
      assertClose(out.data, c.out.data, tol, 'pool out');
      // The book keeps argmax in (N, OH, OW, C) row order; ours is (N, C, OH, OW).
      const [N, C, OH, OW] = c.out.shape;
      const ours: number[] = [];
      for (let n = 0; n < N; n++) for (let y = 0; y < OH; y++) for (let x = 0; x < OW; x++) for (let ch = 0; ch < C; ch++) {
        ours.push(p.argMax![((n * C + ch) * OH + y) * OW + x]);
      }
      assert.deepEqual(ours, c.arg_max.data);
      const dx = p.backward(tensor(c.dout, dtype));
      assertClose(dx.data, c.dx.data, tol, 'pool dx');
    });

    it('SimpleConvNet (pad 1, stride 2): scores, loss, intermediates and all six gradients', () => {
      const cfg = golden.config;
      assert.deepEqual(cfg.derived.conv_out, [5, 5]);
      const net = new SimpleConvNet({
        inputDim: cfg.input_dim,
        convParam: { filterNum: cfg.conv_param.filter_num, filterSize: cfg.conv_param.filter_size, pad: cfg.conv_param.pad, stride: cfg.conv_param.stride },
        hiddenSize: cfg.hidden_size, outputSize: cfg.output_size, dtype, backend,
      });
      assert.equal(net.backend.name, backend);
      assert.deepEqual([...net.params.W2.shape], golden.params.W2.shape, 'W2 rows use floor division');
      for (const k of ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']) net.params[k].data.set(golden.params[k].data);
      const x = tensor(golden.x, dtype);
      const t = Int32Array.from(golden.t.data as number[]);

      // Forward layer by layer against the saved intermediates.
      let out = x;
      for (const [name, layer] of net.layers) {
        out = layer.forward(out);
        assertClose(out.data, golden.intermediates[`out_${name}`].data, tol, `out_${name}`);
      }
      assertClose(out.data, golden.scores.data, tol, 'scores');
      const loss = net.lastLayer.forward(out, t);
      assert.ok(Math.abs(loss - golden.loss) / golden.loss < tol, `loss ${loss} vs ${golden.loss}`);
      assertClose(net.lastLayer.y!.data, golden.softmax.data, tol, 'softmax');

      // Backward layer by layer.
      let dout = net.lastLayer.backward();
      assertClose(dout.data, golden.intermediates.dscores.data, tol, 'dscores');
      for (let i = net.layers.length - 1; i >= 0; i--) {
        const [name, layer] = net.layers[i];
        dout = layer.backward(dout);
        assertClose(dout.data, golden.intermediates[`d_in_${name}`].data, tol, `d_in_${name}`);
      }

      const grads = net.gradient(x, t);
      for (const k of ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']) assertClose(grads[k].data, golden.grads[`d${k}`].data, tol, `d${k}`);
      assert.ok(Math.abs(net.loss(x, t) - golden.loss) / golden.loss < tol);
    });
  });
}
