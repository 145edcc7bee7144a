// Small helpers the integration tests share for talking to a daemon they started.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to it soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A unary gRPC call on a generated client, as a promise. */
export function unaryCall<Req, Res>(client: object, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as Record<string, (r: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void>)[method]!.call(client, req, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** SIGTERM to a child that still runs, resolved once it has exited. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
