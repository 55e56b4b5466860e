// The CAP simulator on a thread of its own, so the Kubernetes API test server (on the bench's
// main thread) never delays a CAP answer or the timestamp of a CAP request. It reports each
// request (with its time) and each access key id it issues to the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { startCapSimulator } from '../../src/sim/cap-simulator.js';

export interface CapWorkerData {
  server: { certPem: string; keyPem: string };
  clientCaPem: string;
  delayMs: number;
}

export type CapWorkerMessage =
  | { type: 'ready'; url: string }
  | { type: 'request'; at: number; role: string | null }
  | { type: 'issued'; accessKeyId: string }
  | { type: 'stopped' };

if (!parentPort) throw new Error('cap-worker.ts runs as a worker thread of the benchmark');
const port = parentPort;
const data = workerData as CapWorkerData;
const post = (m: CapWorkerMessage) => port.postMessage(m);

const sim = await startCapSimulator({ server: data.server, clientCaPem: data.clientCaPem, delayMs: data.delayMs });
sim.onRequest = (call) => post({ type: 'request', at: performance.timeOrigin + performance.now(), role: call.role });
const push = sim.issued.push.bind(sim.issued);
sim.issued.push = (...items) => {
  for (const c of items) post({ type: 'issued', accessKeyId: c.accessKeyId });
  return push(...items);
};
port.on('message', (m: { type: 'stop' }) => {
  if (m.type === 'stop') void sim.stop().then(() => post({ type: 'stopped' }));
});
post({ type: 'ready', url: sim.url });
