// The TensorFlow.js twin of SimpleConvNet used by bench/run-tfjs.mjs (Node) and
// bench/browser/tfjs.js (the page): one definition, so both time the same model.

/** tfjs-backend-wasm has no Conv2DBackpropFilter kernel (tfjs issue 8474): the Conv2D gradient
 *  re-registered with the filter gradient as a conv2d of transposed operands, as its users must. */
export function registerConv2dGradient(tf) {
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      return {
        x: () => tf.conv2dTranspose(dy, filter, x.shape, attrs.strides, attrs.pad),
        filter: () => tf.tidy(() => {
          const xt = tf.transpose(x, [3, 1, 2, 0]); // (Ci, H, W, N)
          const dyt = tf.transpose(dy, [1, 2, 0, 3]); // (OH, OW, N, Co)
          return tf.transpose(tf.conv2d(xt, dyt, 1, 'valid'), [1, 2, 0, 3]); // (KH, KW, Ci, Co)
        }),
      };
    },
  });
}

/** conv 30x5x5 -> ReLU -> max pool 2x2 -> affine 100 -> ReLU -> affine 10 (NHWC), He-initialised from
 *  a seeded LCG + Box-Muller; `gauss` is returned for the benches' random input. */
export function simpleConvNetTf(tf) {
  let s = 12345;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  const gauss = (n, std) => Float32Array.from({ length: n }, () => std * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
  const W1 = tf.variable(tf.tensor4d(gauss(5 * 5 * 30, Math.sqrt(2 / 25)), [5, 5, 1, 30]));
  const b1 = tf.variable(tf.zeros([30]));
  const W2 = tf.variable(tf.tensor2d(gauss(4320 * 100, Math.sqrt(2 / 4320)), [4320, 100]));
  const b2 = tf.variable(tf.zeros([100]));
  const W3 = tf.variable(tf.tensor2d(gauss(100 * 10, Math.sqrt(2 / 100)), [100, 10]));
  const b3 = tf.variable(tf.zeros([10]));
  const predict = (x) => {
    let h = tf.relu(tf.add(tf.conv2d(x, W1, 1, 'valid'), b1));
    h = tf.maxPool(h, [2, 2], 2, 'valid');
    h = tf.reshape(h, [x.shape[0], 4320]);
    h = tf.relu(tf.add(tf.matMul(h, W2), b2));
    return tf.add(tf.matMul(h, W3), b3);
  };
  return { vars: [W1, b1, W2, b2, W3, b3], W3, predict, gauss };
}
