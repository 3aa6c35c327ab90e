// Runs trainFromStore in a worker thread and resolves with the trained set (or rejects with the
// worker's error code and message). One training at a time is the caller's job.
import { Worker } from 'node:worker_threads';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { ErrorCode } from '../../errors/catalogue.ts';
import type { TrainedSet } from './model-store.ts';
import type { TrainOptions } from './train-from-store.ts';
import type { TrainWorkerResult } from './train-worker.ts';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER = new URL(`./train-worker${EXT}`, import.meta.url);

export function trainInWorker(dbPath: string, options: TrainOptions): Promise<TrainedSet> {
  return new Promise((resolve, reject) => {
    // Training is background work: it must not keep a stopping agent alive.
    const worker = new Worker(WORKER, { workerData: { dbPath, options } });
    worker.unref();
    let settled = false;
    worker.once('message', (m: TrainWorkerResult) => {
      settled = true;
      if (m.ok) resolve(m.set);
      else reject(m.code !== null && m.code.startsWith('DE_') ? new DaemonEyeError(m.code as ErrorCode, m.message) : new Error(m.message));
    });
    worker.once('error', (e) => { if (!settled) { settled = true; reject(e); } });
    worker.once('exit', (code) => { if (!settled) { settled = true; reject(new Error(`training worker exited with code ${code}`)); } });
  });
}
