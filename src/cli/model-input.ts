// Reading a model file for predict, eval, viz, report and export, with messages that say what a
// wrong file is: a training checkpoint is a safetensors file too, and the model reader's "not a
// scratchnet model" sent users looking for an import they did not need.

import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ScratchnetError } from '../errors.js';
import { type ModelFile, readModelFile } from '../io/model-file.js';

/** 'checkpoint' when the file is a scratchnet training checkpoint (its safetensors metadata's
 *  format field), else null. Other kinds of files are named by the loaders (io/read-sniff.ts). */
export async function sniffFile(path: string): Promise<string | null> {
  let head: Buffer;
  let size: number;
  // Never open what is not a regular file: a FIFO would block the open itself.
  if (!(await stat(path).catch(() => null))?.isFile()) return null;
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    const s = await handle.stat();
    if (!s.isFile()) return null;
    size = s.size;
    head = Buffer.alloc(Math.min(size, 8));
    await handle.read(head, 0, head.length, 0);
    if (head.length < 8) return null;
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

/** readModelFile, but a checkpoint given as the model says what it is and what to do with it. */
export async function readModelInput(path: string, options: { backend?: string } = {}): Promise<ModelFile> {
  try {
    return await readModelFile(path, options);
  } catch (e) {
    if (!(e instanceof ScratchnetError)) throw e;
    const kind = await sniffFile(path);
    if (kind === 'checkpoint') {
      throw new ScratchnetError(`${path}: is a training checkpoint, not a model: finish the run with scratchnet train --resume ${path} (it saves the model at the end)`);
    }
    throw e;
  }
}
