// The forecast worker thread: answers one request at a time (SeriesInput in, SeriesResult out),
// compiling each augurs WASM module the first time a request may use it. It holds no state the daemon needs: when it is terminated and
// replaced, nothing but the request in flight is lost, and that one is retried by the pool.
import { parentPort, workerData } from 'node:worker_threads';

import { loadModule, loadProphetOptimizer } from './augurs.js';
import { forecastSeries, modelsFor } from './models.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const port = parentPort;
if (!port) throw new Error('forecast worker: not started as a worker thread');
const faults = (workerData as { faults?: boolean } | undefined)?.faults === true;

port.on('message', async (req: WorkerRequest) => {
  // Fault injection for the pool's tests only (the daemon never starts a worker with faults allowed).
  if (faults && req.fault === 'crash') process.exit(3);
  if (faults && req.fault === 'throw') throw new Error('forecast worker: injected failure');
  if (faults && req.fault === 'hang') for (;;);
  let reply: WorkerReply;
  try {
    // Compiled before the fit so that its clock (and the models' cost estimates) leave compiling out.
    // Prophet's optimiser waits for the first series that could use it (periodic, long enough).
    for (const m of modelsFor(req.input)) {
      loadModule(m);
      if (m === 'prophet') await loadProphetOptimizer();
    }
    reply = { id: req.id, result: forecastSeries(req.input, req.now) };
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
