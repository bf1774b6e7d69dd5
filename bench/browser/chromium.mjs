// test/chromium.ts in plain JS (bench scripts run without tsx): the Chromium inside
// @sparticuz/chromium, else CHROMIUM_PATH, else /usr/bin/chromium.
import { existsSync } from 'node:fs';

export async function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    const { default: chromium } = await import('@sparticuz/chromium');
    const path = await chromium.executablePath();
    if (path && existsSync(path)) return path;
  } catch {
    // not installed here
  }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--no-zygote',
];
