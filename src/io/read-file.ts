// One bounded way to read a user's file (Node only): every loader (IDX, images, npy/npz,
// safetensors models and checkpoints) reads through here, so none of them can be made to read
// forever or without limit.
//
// - Only regular files are read. The type is checked with fstat on the descriptor that is then
//   read, not with stat on the path, so a file swapped for /dev/zero (or a symlink re-pointed)
//   between the check and the read cannot slip through.
// - The open is non-blocking (O_NONBLOCK): opening a FIFO for reading otherwise blocks until a
//   writer appears, i.e. forever. Measured: `mkfifo p; scratchnet predict p` hung before this;
//   now it is refused in ~1 ms.
// - The size comes from fstat and is checked against the caller's cap before anything is
//   allocated; reading stops at the cap + 1 byte even if the file grows while it is read (or
//   reports size 0, as /proc files do).
// - Messages are one line: the file, what it is, and what was expected.

import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { nodeBuiltin } from './node-builtins.js';
import { ScratchnetError } from '../errors.js';

/** A file that could not be read (missing, not a regular file, too large, unreadable). */
export class FileReadError extends ScratchnetError {
  readonly file: string;
  constructor(file: string, problem: string) {
    // Paths can hold newlines: escape control characters so the message stays one line.
    super(`${file}: ${problem}`.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), 1);
    this.name = 'FileReadError';
    this.file = file;
  }
}

export interface BoundedReadOptions {
  /** Refuse files larger than this many bytes (checked before reading, and while reading). */
  maxBytes: number;
  /** What the caller expects, as a noun phrase for messages: "an image", "a model file". */
  what: string;
}

/** A regular file opened for bounded reading; `size` is what fstat reported at open. */
export interface BoundedFile {
  readonly path: string;
  readonly size: number;
  /** Up to `length` bytes from `position` (fewer at the end of the file). */
  read(position: number, length: number): Promise<Uint8Array>;
  /** The whole file, never more than maxBytes (refused if it grew past them). */
  readAll(): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** What a non-regular file is, in words. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** " (a symbolic link to /dev/zero)" when the path is a link, else "". */
async function linkNote(path: string): Promise<string> {
  try {
    if (!(await nodeBuiltin('node:fs/promises').lstat(path)).isSymbolicLink()) return '';
    return ` (a symbolic link to ${await nodeBuiltin('node:fs/promises').realpath(path)})`;
  } catch {
    return '';
  }
}

function openErrorMessage(code: string | undefined, error: unknown): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links (a link loop?)';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'ENAMETOOLONG':
      return 'path too long';
    default:
      return `cannot read (${code ?? (error instanceof Error ? error.message.split('\n')[0] : String(error))})`;
  }
}

// O_NONBLOCK: a FIFO opens at once instead of waiting for a writer. O_NOCTTY: a terminal device
// passed by mistake must not become our controlling terminal. Both are 0 where undefined (Windows).
function openFlags(): number {
  const { constants } = nodeBuiltin('node:fs');
  return constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
}

/**
 * Opens `path` for reading if it is a regular file of at most `maxBytes` bytes; otherwise throws
 * a one-line FileReadError saying what the file is. The caller must close() what it gets.
 */
export async function openBounded(path: string, options: BoundedReadOptions): Promise<BoundedFile> {
  const { maxBytes, what } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new ScratchnetError(`openBounded: maxBytes must be a non-negative integer, got ${maxBytes}`);
  let handle: FileHandle;
  try {
    handle = await nodeBuiltin('node:fs/promises').open(path, openFlags());
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Opening a Unix socket fails with ENXIO; EISDIR is what some systems say for folders.
    if (code === 'ENXIO' || code === 'EISDIR' || code === 'EOPNOTSUPP') {
      try {
        const s = await nodeBuiltin('node:fs/promises').stat(path);
        throw new FileReadError(path, `is ${kindOf(s)}${await linkNote(path)}, not ${what}`);
      } catch (inner) {
        if (inner instanceof FileReadError) throw inner;
      }
    }
    const err = new FileReadError(path, openErrorMessage(code, error));
    err.cause = error;
    throw err;
  }
  try {
    const s = await handle.stat(); // fstat: the file we will read, not whatever the path names now
    if (!s.isFile()) throw new FileReadError(path, `is ${kindOf(s)}${await linkNote(path)}, not ${what}`);
    if (s.size > maxBytes) throw new FileReadError(path, `is ${s.size} bytes, above the ${maxBytes} byte limit for ${what}`);
    return boundedFile(handle, path, s.size, options);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function boundedFile(handle: FileHandle, path: string, size: number, { maxBytes, what }: BoundedReadOptions): BoundedFile {
  async function readInto(buffer: Uint8Array, offset: number, position: number): Promise<number> {
    let done = 0;
    while (offset + done < buffer.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, offset + done, buffer.length - offset - done, position + done));
      } catch (error) {
        const err = new FileReadError(path, openErrorMessage((error as NodeJS.ErrnoException).code, error));
        err.cause = error;
        throw err;
      }
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }
  return {
    path,
    size,
    async read(position, length) {
      const buffer = new Uint8Array(Math.max(0, Math.min(length, size - position, maxBytes)));
      const n = await readInto(buffer, 0, position);
      return buffer.subarray(0, n);
    },
    async readAll() {
      let buffer = new Uint8Array(size);
      let total = await readInto(buffer, 0, 0);
      if (total < size) return buffer.subarray(0, total); // shrank while we read: the parser says "truncated"
      // Probe past the size fstat gave (a file still being written, a /proc file reporting 0),
      // never holding more than maxBytes + one chunk.
      for (;;) {
        const chunk = new Uint8Array(Math.min(1 << 20, maxBytes + 1 - total));
        if (chunk.length === 0) throw new FileReadError(path, `grew past the ${maxBytes} byte limit for ${what} while it was read`);
        const n = await readInto(chunk, 0, total);
        if (n === 0) return buffer.subarray(0, total);
        const grown = new Uint8Array(total + n);
        grown.set(buffer.subarray(0, total));
        grown.set(chunk.subarray(0, n), total);
        buffer = grown;
        total += n;
        if (total > maxBytes) throw new FileReadError(path, `grew past the ${maxBytes} byte limit for ${what} while it was read`);
      }
    },
    close: () => handle.close(),
  };
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes. Refuses folders, FIFOs, devices
 * (/dev/zero), sockets, links to any of them, and files above the cap, each in one line naming
 * the file and what it is.
 */
export async function readFileBounded(path: string, options: BoundedReadOptions): Promise<Uint8Array> {
  const file = await openBounded(path, options);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}
