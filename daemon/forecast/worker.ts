// The forecast worker thread: loads the augurs WASM modules once, then answers one request at a time
// (SeriesInput in, SeriesResult out). It holds no state the daemon needs: when it is terminated and
// replaced, nothing but the request in flight is lost, and that one is retried by the pool.
import { parentPort, workerData } from 'node:worker_threads';

import { loadAugurs, loadProphetOptimizer, prophetLoaded } from './augurs.js';
import { forecastSeries, mayUseProphet } from './models.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const port = parentPort;
if (!port) throw new Error('forecast worker: not started as a worker thread');
const faults = (workerData as { faults?: boolean } | undefined)?.faults === true;

// Prophet's optimiser waits for the first series that could use it (periodic, long enough).
await loadAugurs({ prophet: false });
port.on('message', async (req: WorkerRequest) => {
  // Fault injection for the pool's tests only (the daemon never starts a worker with faults allowed).
  if (faults && req.fault === 'crash') process.exit(3);
  if (faults && req.fault === 'throw') throw new Error('forecast worker: injected failure');
  if (faults && req.fault === 'hang') for (;;);
  let reply: WorkerReply;
  try {
    if (!prophetLoaded() && mayUseProphet(req.input)) await loadProphetOptimizer();
    reply = { id: req.id, result: forecastSeries(req.input, req.now) };
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
