// Reading a model file for predict, eval, viz, report and export, with messages that say what a
// wrong file is: a training checkpoint is a safetensors file too, and the model reader's "not a
// scratchnet model" sent users looking for an import they did not need.

import { open } from 'node:fs/promises';
import { ScratchnetError } from '../errors.js';
import { type ModelFile, readModelFile } from '../io/model-file.js';

/** What a file that is not a model seems to be, from its first bytes (null: no idea). */
export async function sniffFile(path: string): Promise<string | null> {
  let head: Buffer;
  let size: number;
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return null;
  try {
    const s = await handle.stat();
    if (!s.isFile()) return null;
    size = s.size;
    head = Buffer.alloc(Math.min(size, 8));
    await handle.read(head, 0, head.length, 0);
    if (head.length < 8) return null;
    if (head[0] === 0x89 && head.toString('latin1', 1, 4) === 'PNG') return 'a PNG image';
    if (head[0] === 0xff && head[1] === 0xd8) return 'a JPEG image';
    if (head[0] === 0x1f && head[1] === 0x8b) return 'a gzip file';
    if (head.toString('latin1', 0, 4) === 'PK\u0003\u0004') return 'a zip archive (a NumPy .npz? see scratchnet import)';
    // safetensors: 8-byte little-endian header length, then a JSON header. Read only the header
    // (bounded), to find the metadata's format field.
    const headerLength = Number(head.readBigUInt64LE(0));
    if (headerLength < 2 || headerLength > Math.min(size - 8, 100 << 20)) return null;
    const header = Buffer.alloc(headerLength);
    await handle.read(header, 0, headerLength, 8);
    if (header[0] !== 0x7b) return null; // '{'
    let parsed: unknown;
    try {
      parsed = JSON.parse(header.toString('utf8'));
    } catch {
      return null;
    }
    const meta = (parsed as { __metadata__?: { format?: unknown } }).__metadata__;
    if (meta?.format === 'scratchnet-checkpoint') return 'checkpoint';
    return null;
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readModelFile, but a checkpoint or an image given as the model says what it is and what to do. */
export async function readModelInput(path: string, options: { backend?: string } = {}): Promise<ModelFile> {
  try {
    return await readModelFile(path, options);
  } catch (e) {
    if (!(e instanceof ScratchnetError)) throw e;
    const kind = await sniffFile(path);
    if (kind === 'checkpoint') {
      throw new ScratchnetError(`${path}: is a training checkpoint, not a model: finish the run with scratchnet train --resume ${path} (it saves the model at the end)`);
    }
    if (kind !== null) throw new ScratchnetError(`${path}: is ${kind}, not a scratchnet model (a .safetensors file written by scratchnet train or import)`);
    throw e;
  }
}
