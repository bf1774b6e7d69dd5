// The Chromium that browser tests and the browser bench drive: the headless build inside the
// npm package @sparticuz/chromium (a devDependency; it unpacks itself into the temp folder at
// first use and needs no network and no apt package), else CHROMIUM_PATH, else Debian's
// /usr/bin/chromium. Never `npx playwright install`: `npm ci` alone must give `npm test` its
// browser. Plain JS so bench scripts (plain node) and tests (tsx, through test/chromium.ts) share it.

import { existsSync } from 'node:fs';

let found;

/** The path of a Chromium to launch, or null (tests then skip with the reason). */
export function chromiumPath() {
  found ??= (async () => {
    if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
    try {
      const { default: chromium } = await import('@sparticuz/chromium');
      const path = await chromium.executablePath();
      if (path && existsSync(path)) return path;
    } catch {
      // not installed, or it could not unpack here: fall back to the system's
    }
    return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
  })();
  return found;
}

/** Flags for headless runs in containers (no sandbox: tests run as root in CI). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--no-zygote',
];
