// vigil-forward against real receivers, started by the test: rsyslog (UDP, TCP and TLS inputs with
// gtls, writing files), nats-server with JetStream (read back from the stream), and node HTTP
// receivers speaking HEC and _bulk. Alerts come from a test gRPC server that implements
// Events.Subscribe from proto/ (store + since_seq replay + live), raising alerts while the forwarder
// runs. The forwarder is killed with SIGKILL mid-stream and restarted; every alert seq must reach
// every sink (duplicates allowed, no holes). A sink that is down at first holds back no other.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as natsConnect, JSONCodec } from 'nats';
import type { ProtoGrpcType } from '../../proto/gen/events.js';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import { makeAlert } from '../forwarder-fakes.js';
import { readState } from '../../clients/forwarder/state.js';
import { ROOT } from './harness.js';
import { freePort } from '../net.js';

const FORWARDER = join(ROOT, 'dist/js/clients/forwarder/main.js');
const PROTO_DIR = join(ROOT, 'proto');
const TOTAL = 600;

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Events.Subscribe from the proto: an alert store, replay of seq > since_seq, then live alerts. */
class TestDaemon {
  readonly server = new grpc.Server();
  readonly stored: SubscribeResponse[] = [];
  readonly requests: SubscribeRequest__Output[] = [];
  private readonly live = new Set<grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>>();
  port = 0;

  async start(): Promise<void> {
    const def = protoLoader.loadSync(['vigil/v1/events.proto'], {
      includeDirs: [PROTO_DIR],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const proto = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
    this.server.addService(proto.vigil.v1.Events.service, {
      Subscribe: (call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>) => {
        this.requests.push(call.request);
        const since = Number(call.request.since_seq);
        if (since > 0) for (const m of this.stored.slice(since)) call.write({ ...m, alert_change: 'ALERT_CHANGE_UPDATED' });
        this.live.add(call);
        call.on('cancelled', () => this.live.delete(call));
        call.on('close', () => this.live.delete(call));
      },
    });
    this.port = await new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  raise(): void {
    const seq = this.stored.length + 1;
    const severity = (['SEVERITY_CRITICAL', 'SEVERITY_WARNING', 'SEVERITY_NOTICE'] as const)[seq % 3]!;
    const m: SubscribeResponse = {
      alert: makeAlert(seq, { severity, message: `alert ${seq}: cat read /etc/shadow | a=b \\ "q"` }),
      alert_change: 'ALERT_CHANGE_OPENED',
    };
    this.stored.push(m);
    for (const call of this.live) call.write(m);
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

interface Receiver {
  server: Server;
  port: number;
  seqs: number[];
  requests: number;
}

async function httpReceiver(port: number, handle: (req: IncomingMessage, body: string, r: Receiver) => { status: number; body: string }): Promise<Receiver> {
  const r: Receiver = { server: createHttpServer(), port, seqs: [], requests: 0 };
  r.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests++;
      const out = handle(req, Buffer.concat(chunks).toString('utf8'), r);
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(out.body);
    });
  });
  await new Promise<void>((resolve) => r.server.listen(port, '127.0.0.1', resolve));
  return r;
}

function seqsIn(file: string, re: RegExp): number[] {
  if (!existsSync(file)) return [];
  return [...readFileSync(file, 'utf8').matchAll(re)].map((m) => Number(m[1]));
}

const missing = (seqs: number[], total: number): number[] => {
  const have = new Set(seqs);
  return Array.from({ length: total }, (_, i) => i + 1).filter((s) => !have.has(s));
};

describe('vigil-forward against real receivers', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fwd-it-'));
  const daemon = new TestDaemon();
  const children: ChildProcess[] = [];
  let rsyslog: ChildProcess | undefined;
  let nats: ChildProcess | undefined;
  let hec: Receiver | undefined;
  let bulk: Receiver | undefined;
  const ports = { udp: 0, tcp: 0, tls: 0, nats: 0, hec: 0, bulk: 0 };
  const files = { udp: join(dir, 'udp.log'), tcp: join(dir, 'tcp.log'), tls: join(dir, 'tls.log') };

  before(async () => {
    await daemon.start();
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    // A self-signed certificate for 127.0.0.1, also the CA the forwarder trusts.
    const cert = spawnSync(
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
      { encoding: 'utf8' },
    );
    assert.equal(cert.status, 0, cert.stderr);
    writeFileSync(
      join(dir, 'rsyslog.conf'),
      `
global(workDirectory="${dir}" maxMessageSize="64k"
  defaultNetstreamDriverCAFile="${dir}/cert.pem" defaultNetstreamDriverCertFile="${dir}/cert.pem" defaultNetstreamDriverKeyFile="${dir}/key.pem")
module(load="imudp")
module(load="imtcp" maxSessions="20")
template(name="full" type="string" string="%msgid% %structured-data% %msg%\\n")
ruleset(name="udp") { action(type="omfile" file="${files.udp}" template="full") }
ruleset(name="tcp") { action(type="omfile" file="${files.tcp}" template="full") }
ruleset(name="tls") { action(type="omfile" file="${files.tls}" template="full") }
input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="${ports.tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${ports.tls}" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`,
    );
    const check = spawnSync('rsyslogd', ['-N1', '-f', join(dir, 'rsyslog.conf')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `rsyslog config: ${check.stderr}${check.stdout}`);
    rsyslog = spawn('rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslog.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    nats = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(ports.nats), '-sd', join(dir, 'nats')], { stdio: ['ignore', 'ignore', 'ignore'] });
    bulk = await httpReceiver(ports.bulk, (req, body, r) => {
      assert.equal(req.url, '/_bulk');
      assert.equal(req.headers['content-type'], 'application/x-ndjson');
      const lines = body.split('\n');
      assert.equal(lines.pop(), '', 'the body ends with a newline');
      const items: object[] = [];
      let errors = false;
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!) as { index: { _index: string; _id: string } };
        const doc = JSON.parse(lines[i + 1]!) as { seq: number };
        // Every 7th request refuses its first item with 429: the forwarder must resend just that one.
        if (r.requests % 7 === 0 && i === 0) {
          errors = true;
          items.push({ index: { status: 429, error: { type: 'es_rejected_execution_exception' } } });
          continue;
        }
        assert.equal(action.index._id, `${makeAlert(doc.seq).id}-${doc.seq}`);
        r.seqs.push(doc.seq);
        items.push({ index: { _index: action.index._index, _id: action.index._id, status: 201 } });
      }
      return { status: 200, body: JSON.stringify({ took: 1, errors, items }) };
    });
    await until(() => existsSync(join(dir, 'rsyslog.pid')), 10_000, 'rsyslogd');
    await until(
      async () => {
        try {
          const nc = await natsConnect({ servers: `127.0.0.1:${ports.nats}`, reconnect: false });
          await nc.close();
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'nats-server',
    );
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    rsyslog?.kill('SIGTERM');
    nats?.kill('SIGTERM');
    hec?.server.close();
    bulk?.server.close();
    daemon.stop();
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dir, { recursive: true, force: true });
  });

  function startForwarder(config: string): ChildProcess {
    const child = spawn(process.execPath, ['--enable-source-maps', FORWARDER, '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', () => {
      (child as ChildProcess & { log?: string }).log = err;
    });
    children.push(child);
    return child;
  }

  async function natsSeqs(): Promise<number[]> {
    const nc = await natsConnect({ servers: `127.0.0.1:${ports.nats}` });
    try {
      const jsm = await nc.jetstreamManager();
      let info;
      try {
        info = await jsm.streams.info('VIGIL');
      } catch {
        return [];
      }
      const codec = JSONCodec<{ seq: number }>();
      const out: number[] = [];
      for (let s = info.state.first_seq; s <= info.state.last_seq && info.state.messages > 0; s++) {
        const m = await jsm.streams.getMessage('VIGIL', { seq: s });
        assert.match(m.subject, /^vigil\.testhost\.(critical|warning|notice)$/);
        out.push(codec.decode(m.data).seq);
      }
      return out;
    } finally {
      await nc.close();
    }
  }

  it('delivers every alert to every sink across a kill -9 and a restart, with a sink down at first', async () => {
    const config = join(dir, 'forward.yaml');
    const state = join(dir, 'state.json');
    writeFileSync(
      config,
      `
daemon: {address: "127.0.0.1:${daemon.port}", insecure: true}
state_file: ${state}
hostname: testhost
sinks:
  - {name: syslog-udp, type: syslog, transport: udp, host: 127.0.0.1, port: ${ports.udp}, batch: {max_items: 20, max_wait_ms: 20}}
  - {name: syslog-tcp, type: syslog, transport: tcp, host: 127.0.0.1, port: ${ports.tcp}, facility: auth, batch: {max_items: 50, max_wait_ms: 20}}
  - {name: cef-tls, type: syslog, transport: tls, host: 127.0.0.1, port: ${ports.tls}, format: cef, ca: ${dir}/cert.pem, batch: {max_items: 50, max_wait_ms: 20}}
  - {name: splunk, type: hec, url: "http://127.0.0.1:${ports.hec}", token: hec-token, index: security, retry: {initial_ms: 50, max_ms: 200}, batch: {max_items: 40, max_wait_ms: 20}}
  - {name: es, type: bulk, url: "http://127.0.0.1:${ports.bulk}", index: "vigil-{date}", retry: {initial_ms: 20, max_ms: 100}, batch: {max_items: 30, max_wait_ms: 20}}
  - {name: fleet, type: nats, servers: "nats://127.0.0.1:${ports.nats}", subject: "vigil.{host}.{severity}", stream: VIGIL, create_stream: true, batch: {max_items: 64, max_wait_ms: 20}}
`,
    );
    const check = spawnSync(process.execPath, [FORWARDER, '--check', '-c', config], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);

    // Phase 1: the HEC receiver is not up yet; alerts flow; kill -9 mid-stream.
    const first = startForwarder(config);
    await until(() => daemon.requests.length === 1, 10_000, 'the first subscription');
    assert.equal(daemon.requests[0]!.since_seq, '0');
    assert.equal(daemon.requests[0]!.include_alerts, true);
    // Alerts keep coming while the forwarder is killed: the kill lands mid-stream.
    const raising = (async () => {
      for (let i = 0; i < TOTAL / 2; i++) {
        daemon.raise();
        if (i % 2 === 0) await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Every other sink delivers while HEC is down.
    await until(
      async () =>
        seqsIn(files.tcp, /seq="(\d+)"/g).length >= TOTAL / 10 &&
        seqsIn(files.tls, /cn1=(\d+)/g).length > 0 &&
        bulk!.seqs.length >= TOTAL / 10 &&
        (await natsSeqs()).length > 0,
      20_000,
      'deliveries before the kill',
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const raisedAtKill = daemon.stored.length;
    await raising;
    assert.ok(raisedAtKill < TOTAL / 2, `the kill came mid-stream (${raisedAtKill} raised)`);
    const cursors = readState(state);
    assert.equal(cursors.get('splunk')?.seq ?? 0, 0, 'the down sink has not moved');
    assert.ok((cursors.get('syslog-tcp')?.seq ?? 0) > 0);

    // Alerts raised while no forwarder runs, then the HEC receiver comes up and the forwarder restarts.
    for (let i = 0; i < TOTAL / 4; i++) daemon.raise();
    let hecFailures = 0;
    hec = await httpReceiver(ports.hec, (req, body, r) => {
      assert.equal(req.url, '/services/collector/event');
      assert.equal(req.headers.authorization, 'Splunk hec-token');
      // The first answer is "server busy": the batch must come again.
      if (hecFailures++ === 0) return { status: 503, body: '{"text":"Server is busy","code":9}' };
      for (const line of body.split('\n')) {
        const ev = JSON.parse(line) as { index: string; sourcetype: string; host: string; event: { seq: number; kind: string } };
        assert.deepEqual([ev.index, ev.sourcetype, ev.host, ev.event.kind], ['security', 'vigil:alert', 'testhost', 'alert']);
        r.seqs.push(ev.event.seq);
      }
      return { status: 200, body: '{"text":"Success","code":0}' };
    });
    const second = startForwarder(config);
    await until(() => daemon.requests.length === 2, 10_000, 'the second subscription');
    // Resume from the lowest cursor among the sinks that have one (HEC, never delivered, has none).
    const lowest = Math.min(...[...cursors.entries()].filter(([, s]) => s.seq > 0).map(([, s]) => s.seq));
    assert.equal(daemon.requests[1]!.since_seq, String(lowest));
    for (let i = 0; i < TOTAL / 4; i++) {
      daemon.raise();
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }

    const all = async (): Promise<Record<string, number[]>> => ({
      'syslog-udp': missing(seqsIn(files.udp, /seq="(\d+)"/g), TOTAL),
      'syslog-tcp': missing(seqsIn(files.tcp, /seq="(\d+)"/g), TOTAL),
      'cef-tls': missing(seqsIn(files.tls, /cn1=(\d+)/g), TOTAL),
      es: missing(bulk!.seqs, TOTAL),
      fleet: missing(await natsSeqs(), TOTAL),
    });
    await until(async () => Object.values(await all()).every((m) => m.length === 0), 30_000, 'every alert at every sink').catch(async (err: Error) => {
      throw new Error(`${err.message}: missing ${JSON.stringify(await all()).slice(0, 500)}\n${(second as ChildProcess & { log?: string }).log ?? ''}`);
    });
    // HEC was down until after the kill and never delivered: it starts where the restarted stream does.
    await until(() => missing(hec!.seqs, TOTAL).every((s) => s <= lowest), 20_000, 'HEC');
    assert.ok(hecFailures >= 2, 'HEC answered 503 once and the batch came again');

    // The formats as the receivers saw them.
    const tcpLine = readFileSync(files.tcp, 'utf8').split('\n')[0]!;
    assert.match(
      tcpLine,
      /^alert \[vigil@32473 seq="\d+" id="01J\d+" rule="shadow-read" severity="\w+" state="open" count="1" container_id="c0ffee123456" container_name="web-1" image="busybox" pid="42" exe="\/bin\/cat" tags="T1003"\] alert \d+: cat read \/etc\/shadow \| a=b \\ "q"$/,
    );
    const tlsLine = readFileSync(files.tls, 'utf8').split('\n')[0]!;
    assert.match(
      tlsLine,
      /^alert - CEF:0\|vigil\|vigil\|[\d.]+\|shadow-read\|alert \d+: cat read \/etc\/shadow \\\| a=b \\\\ "q"\|(8|5|3)\|rt=\d+ dvchost=testhost .* msg=alert \d+: cat read \/etc\/shadow \| a\\=b \\\\ "q"$/,
    );

    // SIGTERM: flush and exit 0; the cursors are all at the end.
    second.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
    assert.equal(code, 0, (second as ChildProcess & { log?: string }).log);
    const final = readState(state);
    for (const name of ['syslog-udp', 'syslog-tcp', 'cef-tls', 'splunk', 'es', 'fleet']) assert.equal(final.get(name)?.seq, TOTAL, name);
  });
});
