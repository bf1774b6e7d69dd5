// Models in pages and workers: from a URL (fetched), an ArrayBuffer, a Uint8Array, a Blob (a file
// input, a drop) or a fetch Response, and back out as a download. No file system: the Node entry
// (`scratchnet/node`) adds file paths on top of these.

import type { Backend } from '../backend/backend.js';
import { ScratchnetError } from '../errors.js';
import type { Network } from '../models/network.js';
import { decodeModel, encodeModel, type ModelFile, type TrainingFacts } from './model-file.js';
import type { DecodeOptions } from './safetensors.js';

/** Where a model comes from in the universal entry: a string is a URL (relative to the page). */
export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Blob | Response;

type LoadModelOptions = { backend?: Backend | string } & DecodeOptions;

/** The bytes of a model source, and a name for error messages. */
export async function sourceBytes(source: ModelSource, what = 'a model'): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'model bytes' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'model bytes' };
  if (ArrayBuffer.isView(source)) return { bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), name: 'model bytes' };
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = (source as { name?: unknown }).name; // a File has one
    return { bytes: new Uint8Array(await source.arrayBuffer()), name: typeof name === 'string' && name ? name : 'model blob' };
  }
  if (typeof Response !== 'undefined' && source instanceof Response) return responseBytes(source, source.url || 'model response', what);
  if (typeof source === 'string' || source instanceof URL) {
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    let url: URL;
    try {
      url = new URL(String(source), base);
    } catch {
      throw new ScratchnetError(`${String(source)}: not a URL (in a page, pass a URL, bytes, a Blob or a Response; file paths need scratchnet/node)`);
    }
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new ScratchnetError(`${url.href}: could not fetch ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return responseBytes(response, url.href, what);
  }
  throw new ScratchnetError(`loadModel: expected a URL, an ArrayBuffer, a Uint8Array, a Blob or a Response, got ${source === null ? 'null' : typeof source}`);
}

async function responseBytes(response: Response, name: string, what: string): Promise<{ bytes: Uint8Array; name: string }> {
  // A 404 page (or an SPA's index.html answered with 200) is not a model: say what came back.
  if (!response.ok) throw new ScratchnetError(`${name}: could not fetch ${what}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  return { bytes: new Uint8Array(await response.arrayBuffer()), name };
}

/** Reads a model (spec, weights, training facts) from a URL, bytes, a Blob or a Response. */
export async function readModel(source: ModelSource, options: LoadModelOptions = {}): Promise<ModelFile> {
  const { bytes, name } = await sourceBytes(source);
  return decodeModel(bytes, name, options);
}

/**
 * Loads a saved model (a `.safetensors` file from `saveModel`, `scratchnet train` or
 * `downloadModel`) from a URL (fetched; relative to the page), an ArrayBuffer, a Uint8Array, a
 * Blob or File, or a Response. In Node, `scratchnet/node`'s `loadModel` also takes file paths.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<Network> {
  return (await readModel(source, options)).network;
}

/** The model as a Blob (`application/octet-stream`), e.g. to upload or store in IndexedDB. */
export function modelBlob(network: Network, training?: TrainingFacts): Blob {
  return new Blob([encodeModel(network, training) as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
}

/**
 * In a page: offers the model to the user as a file download (`filename`, default
 * 'model.safetensors'), readable by `loadModel` and by `scratchnet predict --model`.
 */
export function downloadModel(network: Network, filename = 'model.safetensors', training?: TrainingFacts): void {
  const g = globalThis as unknown as {
    document?: { createElement(tag: 'a'): { href: string; download: string; rel: string; click(): void; remove(): void }; body: { append(e: unknown): void } };
  };
  if (!g.document) throw new ScratchnetError('downloadModel needs a page (document); in Node use saveModel from scratchnet/node, in a worker post encodeModel(network) to the page');
  const url = URL.createObjectURL(modelBlob(network, training));
  const a = g.document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  g.document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: some browsers start the download after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
