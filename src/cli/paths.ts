// Output paths, checked before any work starts: a run that trains for an hour and then cannot
// save has lost the hour. And an output must never be one of the command's inputs (viz filters
// --out model.safetensors would replace the model with a PNG): compared by file identity
// (device + inode, after following symlinks, so hard links and symlinks count), not by name.

import { constants } from 'node:fs';
import { access, open, realpath, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ScratchnetError, UsageError } from '../errors.js';

/** A path the command reads or writes, with the flag that named it (for messages). */
export interface NamedPath {
  flag: string;
  path: string;
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a parent of the path is not a folder',
  ENOENT: 'folder does not exist',
};

let probeCounter = 0;

/**
 * Checks that `path` can be written, before the work that produces it: the folder exists and
 * is a folder, a file can be created in it (a real probe file, created and removed: permission
 * bits do not tell the whole story, e.g. a read-only mount or root), and the path itself is
 * not a folder or a special file. Returns the absolute path. One-line ScratchnetError (exit 1).
 */
export async function checkOutputPath(path: string, what: string): Promise<string> {
  const abs = resolve(path);
  const folder = dirname(abs);
  const fail = (why: string): never => {
    throw new ScratchnetError(`${path}: cannot write ${what} there: ${why}`);
  };
  const folderStat = await stat(folder).catch((e) => (code(e) === 'ENOENT' ? null : fail(REASONS[code(e)] ?? code(e))));
  if (folderStat === null) fail(`folder ${folder} does not exist`);
  if (!folderStat!.isDirectory()) fail(`${folder} is not a folder`);
  const target = await stat(abs).catch(() => null);
  if (target?.isDirectory()) fail('it is a folder');
  if (target && !target.isFile()) fail('it exists and is not a regular file (a device, pipe or socket)');
  await access(folder, constants.W_OK | constants.X_OK).catch((e) => fail(`folder ${folder}: ${REASONS[code(e)] ?? code(e)}`));
  // The probe: the same kind of file the atomic write creates (dot-prefixed, beside the target).
  probeCounter += 1;
  const probe = join(folder, `.${basename(abs)}.${process.pid}.probe${probeCounter}.tmp`);
  try {
    const handle = await open(probe, 'wx', 0o666);
    await handle.close();
  } catch (e) {
    fail(`folder ${folder}: ${REASONS[code(e)] ?? code(e)}`);
  }
  await unlink(probe).catch(() => undefined);
  return abs;
}

/** The identity of an existing file (following symlinks), or null when there is none. */
async function identity(path: string): Promise<string | null> {
  const s = await stat(path).catch(() => null);
  return s ? `${s.dev}:${s.ino}` : null;
}

/** Where a path leads once its folder's symlinks are resolved (for files that do not exist yet). */
async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  const full = await realpath(abs).catch(() => null);
  if (full) return full;
  const folder = await realpath(dirname(abs)).catch(() => dirname(abs));
  return join(folder, basename(abs));
}

/** True when a and b name the same file: same device and inode, or the same canonical path. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [ia, ib] = await Promise.all([identity(a), identity(b)]);
  if (ia !== null && ia === ib) return true;
  return (await canonical(a)) === (await canonical(b));
}

/**
 * Refuses an output that is one of the inputs or another output (usage error, exit 2): the
 * write would destroy what the command reads, or one result would overwrite the other.
 */
export async function refuseOverlaps(outputs: NamedPath[], inputs: NamedPath[]): Promise<void> {
  for (let i = 0; i < outputs.length; i++) {
    const out = outputs[i];
    for (const input of inputs) {
      if (await sameFile(out.path, input.path)) {
        const how = resolve(out.path) === resolve(input.path) ? '' : ' (the same file under another name)';
        throw new UsageError(`${out.flag} ${out.path} is the ${input.flag} file${how}: writing it would destroy the input; choose another ${out.flag}`);
      }
    }
    for (const other of outputs.slice(i + 1)) {
      if (await sameFile(out.path, other.path)) {
        throw new UsageError(`${out.flag} and ${other.flag} are the same file (${out.path}): one would overwrite the other`);
      }
    }
  }
}
