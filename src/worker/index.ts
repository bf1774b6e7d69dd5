// The worker trainer: createTrainerWorker (the owner's side), serveTrainer (the worker's side,
// for a custom entry), and the messages between them. The entry script is trainer-worker.ts.
export { createTrainerWorker, type TrainerWorker, type WorkerLike } from './client.js';
export { type Endpoint, serveTrainer } from './serve.js';
export type * from './protocol.js';
