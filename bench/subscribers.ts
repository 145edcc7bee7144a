// Holds N Events.Subscribe streams (events and alerts, no filter) on a daemon's unix socket, for shell
// benchmarks that need subscribers, such as bench/footprint.sh: prints "ready" once every stream has
// its headers, and on SIGTERM or SIGINT one JSON line with what they received and were told they lost.
// The streams run in this process, so their memory is not the daemon's.
// Usage: node dist/js/bench/subscribers.js SOCKET [N=20]
// Env: QUEUE_SIZE, the queue_size each stream asks for (default 0: the daemon's api default).
import * as grpc from '@grpc/grpc-js';
import type { EventsClient } from '../proto/gen/vigil/v1/Events.js';
import type { SubscribeResponse__Output } from '../proto/gen/vigil/v1/SubscribeResponse.js';
import { clientConstructors } from '../daemon/api/proto.js';

const [socket, n = '20'] = process.argv.slice(2);
const count = Number(n);
const queueSize = Number(process.env.QUEUE_SIZE ?? 0);
if (!socket || !Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: subscribers.js SOCKET [N=20]\n');
  process.exit(2);
}
const client = new (clientConstructors()['Events']!)(`unix:${socket}`, grpc.credentials.createInsecure()) as unknown as EventsClient;
let ready = 0;
let events = 0;
let alerts = 0;
let lost = 0;
let errors = 0;
for (let i = 0; i < count; i++) {
  const s = client.Subscribe({ include_events: true, include_alerts: true, client_name: `bench-${i}`, queue_size: queueSize });
  s.on('metadata', () => {
    if (++ready === count) process.stdout.write('ready\n');
  });
  s.on('data', (m: SubscribeResponse__Output) => {
    if (m.message === 'event') events++;
    else if (m.message === 'alert') alerts++;
    else if (m.message === 'gap') lost += Number(m.gap!.lost);
  });
  s.on('error', () => errors++);
}
const stop = (): void => {
  process.stdout.write(`${JSON.stringify({ subscribers: count, ready, events, alerts, lost, errors })}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
