// The Chromium that browser tests and the browser bench drive: the headless build inside the
// npm package @sparticuz/chromium (a devDependency; it unpacks itself into a folder of this user's
// in the temp folder at first use and needs no network and no apt package), else CHROMIUM_PATH, else Debian's
// /usr/bin/chromium. Never `npx playwright install`: `npm ci` alone must give `npm test` its
// browser. Plain JS so bench scripts (plain node) and tests (tsx, through test/chromium.ts) share it.

import { accessSync, constants, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let found;

/** The path of a Chromium to launch, or null (tests then skip with the reason). */
export function chromiumPath() {
  found ??= (async () => {
    if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
    // The package unpacks into os.tmpdir() (chromium, fonts, swiftshader's libraries) and reuses
    // what it finds there: a folder of this user's own, so a copy another user unpacked into /tmp
    // (mode 700: EACCES for everyone else, seen) is never picked up.
    const saved = process.env.TMPDIR;
    try {
      const own = join(tmpdir(), `scratchnet-chromium-${process.getuid?.() ?? 'user'}`);
      mkdirSync(own, { recursive: true, mode: 0o700 });
      process.env.TMPDIR = own;
      const { default: chromium } = await import('@sparticuz/chromium');
      const path = await chromium.executablePath();
      if (path && runnable(path)) return path;
    } catch {
      // not installed, or it could not unpack here: fall back to the system's
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    return runnable('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
  })();
  return found;
}

function runnable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Flags for headless runs in containers (no sandbox: tests run as root in CI). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--no-zygote',
];
