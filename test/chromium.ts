// The Chromium that browser tests drive: see scripts/chromium.mjs (shared with the browser bench).
export { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium.mjs';
