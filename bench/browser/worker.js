import { measure } from './app.js';
import { browserSpawn, probe } from './probe.js';

// Watch the pool's helper workers (Blob-URL Web Workers started by the library): how many, and
// any error they raise (an error there does not stop a job: the caller takes every chunk itself).
const helpers = { spawned: 0, errors: [] };
const W = self.Worker;
self.Worker = class extends W {
  constructor(...a) {
    super(...a);
    helpers.spawned++;
    this.addEventListener('error', (e) => helpers.errors.push(String(e.message)));
    this.addEventListener('messageerror', () => helpers.errors.push('messageerror'));
  }
};

self.onmessage = async (e) => {
  try { self.postMessage(e.data.probe ? await probe({ spawn: browserSpawn }) : { ...(await measure(e.data)), helpers }); } catch (error) { self.postMessage({ error: String(error?.stack ?? error) }); }
};
self.postMessage('ready');
