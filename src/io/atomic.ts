// Atomic file writes: write a temp file in the same folder, fsync it, rename it over the
// target, fsync the folder. A crash or an error at any point leaves either the old file or the
// new one, never a truncated mix (a plain writeFile truncates first, then writes).
// The temp file must be in the same folder: rename is only atomic within one file system.

import type { FileHandle } from 'node:fs/promises';
import { nodeBuiltin } from './node-builtins.js';

const fs = () => nodeBuiltin('node:fs');
const fsp = () => nodeBuiltin('node:fs/promises');
const nodePath = () => nodeBuiltin('node:path');
import { ScratchnetError } from '../errors.js';

let counter = 0;

/** `.${base}.${pid}.${counter}.tmp` next to the target; dot-prefixed so listings hide it. */
function tempPathFor(path: string): string {
  const dir = nodePath().dirname(path);
  const base = nodePath().basename(path);
  counter += 1;
  return nodePath().join(dir, `.${base}.${process.pid}.${counter}.tmp`);
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).errno === 'number' && typeof (e as NodeJS.ErrnoException).code === 'string';
}

const REASONS: Record<string, string> = {
  ENOENT: 'folder does not exist',
  ENOTDIR: 'a parent of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EISDIR: 'path is a folder',
  ENOTEMPTY: 'path is a folder',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
};

/** System errors (missing folder, permissions, ...) become a one-line ScratchnetError; others pass through. */
function describeWriteError(path: string, e: unknown): unknown {
  if (!isSystemError(e)) return e;
  const code = e.code ?? 'EIO';
  const reason = REASONS[code] ?? code;
  const err = new ScratchnetError(`${path}: cannot write: ${reason}`);
  err.cause = e;
  return err;
}

// Some platforms cannot fsync a directory (Windows: EPERM/EISDIR; some file systems: EINVAL).
// The rename already happened; losing the directory fsync only weakens durability on crash.
const IGNORED_DIR_FSYNC = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP']);

async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fsp().open(dir, 'r');
    await handle.sync();
  } catch (e) {
    if (!(isSystemError(e) && IGNORED_DIR_FSYNC.has(e.code ?? ''))) throw e;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs().openSync(dir, 'r');
    fs().fsyncSync(fd);
  } catch (e) {
    if (!(isSystemError(e) && IGNORED_DIR_FSYNC.has(e.code ?? ''))) throw e;
  } finally {
    if (fd !== undefined) {
      try {
        fs().closeSync(fd);
      } catch {
        // closing a read-only directory handle cannot lose data
      }
    }
  }
}

/** Remove temp files (tempPathFor's names) that a killed writer - a process no longer alive -
 *  left next to `path`. */
export async function removeStaleTemps(path: string): Promise<void> {
  const dir = nodeBuiltin('node:path').dirname(path);
  const prefix = `.${nodeBuiltin('node:path').basename(path)}.`;
  let names: string[];
  try {
    names = await nodeBuiltin('node:fs/promises').readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0); // still running: its write may be in progress
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    await nodeBuiltin('node:fs/promises').unlink(nodeBuiltin('node:path').join(dir, name)).catch(() => undefined);
  }
}

/** Replace `path` with `data` atomically; on failure the old file (if any) is untouched and no temp file remains. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    // 'wx': fail rather than clobber if a stale temp file has the same name.
    handle = await fsp().open(tmp, 'wx', 0o666);
    created = true;
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp().rename(tmp, path);
    created = false;
    await fsyncDir(nodePath().dirname(path));
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    if (created) await fsp().unlink(tmp).catch(() => undefined);
    throw describeWriteError(path, e);
  }
}

/** Synchronous twin of writeFileAtomic (for exit handlers and simple scripts). */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  let created = false;
  try {
    fd = fs().openSync(tmp, 'wx', 0o666);
    created = true;
    fs().writeFileSync(fd, data);
    fs().fsyncSync(fd);
    fs().closeSync(fd);
    fd = undefined;
    fs().renameSync(tmp, path);
    created = false;
    fsyncDirSync(nodePath().dirname(path));
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs().closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    if (created) {
      try {
        fs().unlinkSync(tmp);
      } catch {
        // best effort: the temp file may already be gone
      }
    }
    throw describeWriteError(path, e);
  }
}
