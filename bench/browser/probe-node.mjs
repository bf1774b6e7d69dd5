// The probes of probe.js in Node (worker_threads), for comparison with the Chromium worker.
import { Worker } from 'node:worker_threads';
import { probe } from './probe.js';

const spawn = async (src, sab) => new Worker(`${src}\nserve(require('node:worker_threads').workerData);`, { eval: true, workerData: sab });
console.log(`RESULT ${JSON.stringify(await probe({ spawn }))}`);
process.exit(0);
