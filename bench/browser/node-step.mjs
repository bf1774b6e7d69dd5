// bench/browser/app.js's measure() in Node (worker_threads pool), for bench/run-browser.mjs's
// Node row: the same code as in Chromium.  node bench/browser/node-step.mjs THREADS STEPS
import { measure } from './app.js';

const [threads = 2, steps = 20] = process.argv.slice(2).map(Number);
console.log(`RESULT ${JSON.stringify(await measure({ threads, steps }))}`);
process.exit(0);
