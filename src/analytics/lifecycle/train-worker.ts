// Worker-thread entry for retraining: opens its own read-only connection, trains, and transfers the
// packed bundle back. The agent's thread keeps detecting with the old version meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { openStoreReadOnly } from '../../store/open-store.ts';
import { trainFromStore, type TrainOptions } from './train-from-store.ts';

export type TrainWorkerResult =
  | { readonly ok: true; readonly set: import('./model-store.ts').TrainedSet }
  | { readonly ok: false; readonly code: string | null; readonly message: string };

const { dbPath, options } = workerData as { dbPath: string; options: TrainOptions };
let result: TrainWorkerResult;
try {
  const db = openStoreReadOnly(dbPath);
  try {
    result = { ok: true, set: trainFromStore(db, options) };
  } finally {
    db.close();
  }
} catch (e) {
  result = { ok: false, code: (e as { code?: string }).code ?? null, message: (e as Error).message };
}
parentPort!.postMessage(result, result.ok ? [result.set.bundle.buffer as ArrayBuffer] : []);
