// scratchnet serve without a browser: it listens on 127.0.0.1 only, every response is
// cross-origin isolating (COOP same-origin, COEP require-corp, CORP same-origin), it serves the
// built page, the .wasm kernels (as application/wasm) and the local MNIST files, and nothing
// else: paths that climb out of those folders, unknown files and other methods get real errors
// (a 404, never the page with status 200, which the wasm loader would take for a file).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type PlaygroundServer, startPlayground } from '../src/cli/serve.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** A raw request (fetch would normalise `..` away before sending). */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('scratchnet serve', () => {
  let server: PlaygroundServer;
  before(async () => {
    await run(process.execPath, [join(root, 'scripts/build-playground.mjs')]);
    server = await startPlayground();
  });
  after(() => server?.close());

  it('listens on 127.0.0.1 and serves the page, the kernels and MNIST, cross-origin isolated', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const [path, type] of [['/', 'text/html'], ['/app.js', 'text/javascript'], ['/worker.js', 'text/javascript'], ['/wasm/kernels-simd-shared.wasm', 'application/wasm'], ['/data/t10k-labels-idx1-ubyte', 'application/octet-stream']]) {
      const r = await get(server.url, path);
      assert.equal(r.status, 200, path);
      assert.ok(String(r.headers['content-type']).startsWith(type), `${path}: ${r.headers['content-type']}`);
      assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
      assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
    }
    const labels = await get(server.url, '/data/t10k-labels-idx1-ubyte');
    assert.equal(labels.body.length, 10_008);
    const wasm = await get(server.url, '/wasm/kernels-simd.wasm');
    assert.deepEqual([...wasm.body.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
  });

  it('serves nothing else', async () => {
    for (const path of ['/../package.json', '/wasm/../../package.json', '/data/%2e%2e/package.json', '/%2e%2e/%2e%2e/package.json', '/nope.js', '/wasm/', '/data/', '/wasm/%00']) {
      const r = await get(server.url, path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.body.includes('<html'), `${path} is not answered with the page`);
    }
    assert.equal((await get(server.url, '/', 'POST')).status, 405);
  });

  it('has help, and refuses a bad port in one line (exit 2)', async () => {
    const cli = [ '--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve'];
    const help = await run(process.execPath, [...cli, '--help'], { cwd: root });
    assert.match(help.stdout, /--port N/);
    await assert.rejects(run(process.execPath, [...cli, '--port', '70000'], { cwd: root }), (e: { code: number; stderr: string }) => e.code === 2 && e.stderr.trim().split('\n').length === 1);
  });
});
