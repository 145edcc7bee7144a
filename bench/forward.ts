// Forwarder throughput: alerts/s through one pipeline (batcher, formatter, transport, ack, cursor) to
// each sink, against real receivers started here: rsyslog (UDP, TCP, TLS), nats-server with
// JetStream, and node HTTP receivers answering as HEC and _bulk. Prints one line per sink; for UDP
// also how many rsyslog wrote (UDP loss is not seen by the sender). Run: node dist/js/bench/forward.js [N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { makeSink } from '../clients/forwarder/assemble.js';
import { parseConfig } from '../clients/forwarder/config.js';
import { compileFilter } from '../clients/forwarder/filter.js';
import { Pipeline } from '../clients/forwarder/pipeline.js';
import { alertItem } from '../test/forwarder-fakes.js';

const N = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'vigil-fwd-bench-'));
const log = pino({ level: 'warn' });

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const lines = (f: string): number => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').length - 1 : 0);

async function main(): Promise<void> {
  const p = { udp: await freePort(), tcp: await freePort(), tls: await freePort(), nats: await freePort(), http: await freePort() };
  spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    `
global(workDirectory="${dir}" maxMessageSize="64k" defaultNetstreamDriverCAFile="${dir}/cert.pem"
  defaultNetstreamDriverCertFile="${dir}/cert.pem" defaultNetstreamDriverKeyFile="${dir}/key.pem")
module(load="imudp")
module(load="imtcp")
ruleset(name="udp") { action(type="omfile" file="${dir}/udp.log") }
ruleset(name="tcp") { action(type="omfile" file="${dir}/tcp.log") }
ruleset(name="tls") { action(type="omfile" file="${dir}/tls.log") }
input(type="imudp" address="127.0.0.1" port="${p.udp}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="${p.tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${p.tls}" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`,
  );
  const rsyslog = spawn('rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslog.pid')], { stdio: 'ignore' });
  const nats = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(p.nats), '-sd', join(dir, 'nats')], { stdio: 'ignore' });
  const http = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/_bulk') {
        const n = Buffer.concat(chunks).toString().split('\n').length >> 1;
        res.end(JSON.stringify({ took: 1, errors: false, items: Array.from({ length: n }, () => ({ index: { status: 201 } })) }));
      } else res.end('{"text":"Success","code":0}');
    });
  }).listen(p.http, '127.0.0.1');
  await sleep(1000);
  try {
    const cfg = parseConfig(
      `hostname: bench
state_file: ${dir}/state.json
sinks:
  - {name: syslog-udp, type: syslog, transport: udp, host: 127.0.0.1, port: ${p.udp}}
  - {name: syslog-tcp, type: syslog, transport: tcp, host: 127.0.0.1, port: ${p.tcp}}
  - {name: syslog-tls-cef, type: syslog, transport: tls, format: cef, host: 127.0.0.1, port: ${p.tls}, ca: ${dir}/cert.pem}
  - {name: hec, type: hec, url: "http://127.0.0.1:${p.http}", token: t}
  - {name: bulk, type: bulk, url: "http://127.0.0.1:${p.http}"}
  - {name: webhook, type: webhook, url: "http://127.0.0.1:${p.http}/hook"}
  - {name: nats, type: nats, servers: "nats://127.0.0.1:${p.nats}", subject: "vigil.{host}.{severity}", stream: VIGIL, create_stream: true}
`,
      'bench',
    );
    const alerts = Array.from({ length: N }, (_, i) => alertItem(i + 1));
    process.stdout.write(`forward: ${N} alerts per sink, one pipeline each, default batch sizes\n`);
    for (const s of cfg.sinks) {
      const sink = makeSink(s, cfg.hostname, '0.1.0');
      const pipeline = new Pipeline({
        name: s.name,
        sink,
        filter: compileFilter(s.filter),
        alerts: true,
        events: false,
        batch: s.batch,
        queueMax: N,
        retry: s.retry,
        cursor: 0,
        onCursor: () => undefined,
        onResync: () => undefined,
        log,
      });
      // Warm up (connect, create the stream), then measure.
      pipeline.offer(alertItem(0.5));
      await pipeline.stop(10_000);
      const measured = new Pipeline({
        name: s.name,
        sink,
        filter: () => true,
        alerts: true,
        events: false,
        batch: s.batch,
        queueMax: N,
        retry: s.retry,
        cursor: 0,
        onCursor: () => undefined,
        onResync: () => undefined,
        log,
      });
      const t0 = process.hrtime.bigint();
      for (const a of alerts) measured.offer(a);
      await measured.stop(120_000);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      await sink.close();
      let extra = '';
      if (s.name === 'syslog-udp') {
        await sleep(500);
        extra = `  (rsyslog wrote ${lines(join(dir, 'udp.log')) - 1} of ${N})`;
      }
      process.stdout.write(
        `  ${s.name.padEnd(16)} ${Math.round(N / secs)
          .toString()
          .padStart(8)} alerts/s  (batch ${s.batch.maxItems}, ${measured.stats.batches} batches, ${secs.toFixed(2)} s)${extra}\n`,
      );
    }
  } finally {
    rsyslog.kill('SIGTERM');
    nats.kill('SIGTERM');
    http.close();
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  },
);
