// Exit codes and stream behaviour of `vigil` through main(): usage errors (2), help (0), no daemon
// (1, one line), and against an in-process gRPC server that serves the real proto: tail prints
// alerts, warns on a gap and goes on, ends with 0 on SIGINT; UNAUTHENTICATED, INVALID_ARGUMENT and
// NOT_FOUND become one line and exit 1; alerts ack sends who and the comment; ps against a daemon
// without the Containers service says the daemon is older; version prints the client's line and the
// daemon's (or a note when none answers, still exit 0); --color always/never beat the terminal and
// NO_COLOR; completion prints a script.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { UpdateAlertRequest__Output } from '../../proto/gen/vigil/v1/UpdateAlertRequest.js';
import { LOADER_OPTIONS, protoDir } from '../../common/node/grpc-client.js';
import type { CliIo } from './io.js';
import { main } from './main.js';
import type { Alert, SubscribeRequest } from './proto.js';
import { CapturedOutput } from '../../test/cli-output.js';

interface Harness {
  io: CliIo;
  out: CapturedOutput;
  err: CapturedOutput;
  /** Delivers SIGINT to the command. */
  interrupt(): void;
}

function harness(env: NodeJS.ProcessEnv = {}): Harness {
  const out = new CapturedOutput();
  const err = new CapturedOutput();
  let handler: (() => void) | undefined;
  return {
    out,
    err,
    interrupt: () => handler?.(),
    io: {
      stdout: out,
      stderr: err,
      env,
      readText: () => '',
      now: () => Date.parse('2026-11-28T12:00:00Z'),
      onSignal(h) {
        handler = h;
        return () => (handler = undefined);
      },
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-unit-'));
const sock = join(dir, 'api.sock');
const addr = `unix://${sock}`;
let server: grpc.Server;
const acks: UpdateAlertRequest__Output[] = [];
let lastSubscribe: SubscribeRequest | undefined;

const ALERT = {
  id: '01JALERT0001',
  seq: 7,
  time: '2026-11-28T12:00:01.200Z',
  rule: 'Read of shadow file in container',
  severity: 'SEVERITY_WARNING',
  message: '/etc/shadow opened',
  container: { id: 'c0ffee', name: 'web-1', runtime: 'runc', image: '' },
  lineage: [{ pid: 4711, exe: '/bin/busybox', args: ['cat', '/etc/shadow'], comm: 'cat' }],
  state: 'ALERT_STATE_OPEN',
};

before(async () => {
  const def = protoLoader.loadSync(['vigil/v1/events.proto', 'vigil/v1/alerts.proto', 'vigil/v1/status.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [protoDir()],
  });
  const v1 = (grpc.loadPackageDefinition(def) as unknown as { vigil: { v1: Record<string, { service: grpc.ServiceDefinition }> } }).vigil.v1;
  server = new grpc.Server();
  const refuse = (code: grpc.status, details: string) => Object.assign(new Error(details), { code, details });
  server.addService(v1.Events!.service, {
    Subscribe: (call: grpc.ServerWritableStream<SubscribeRequest, unknown>) => {
      lastSubscribe = call.request;
      if (call.request.allow?.some((f) => f.container_names?.includes('web-[')))
        return void call.emit('error', refuse(grpc.status.INVALID_ARGUMENT, 'allow[0].container_names: bad glob "web-["'));
      call.write({ alert: ALERT, alert_change: 'ALERT_CHANGE_OPENED' });
      call.write({ gap: { lost: 17, reason: 'queue_full', lost_alerts: 0, last_seq: 7 } });
      call.write({ heartbeat: { time: '2026-11-28T12:00:02Z', last_seq: 7 } });
      call.write({ alert: { ...ALERT, id: '01JALERT0002', seq: 8, severity: 'SEVERITY_CRITICAL' }, alert_change: 'ALERT_CHANGE_OPENED' });
      // Open until the client cancels.
    },
  });
  server.addService(v1.Alerts!.service, {
    Acknowledge: (call: grpc.ServerUnaryCall<UpdateAlertRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      acks.push(call.request);
      cb(null, {
        ...ALERT,
        state: 'ALERT_STATE_ACKNOWLEDGED',
        history: [{ state: 'ALERT_STATE_ACKNOWLEDGED', at: '2026-11-28T12:01:00Z', by: call.request.by, comment: call.request.comment }],
      });
    },
    Get: (call: grpc.ServerUnaryCall<{ id: string }, Alert>, cb: grpc.sendUnaryData<unknown>) =>
      cb(refuse(grpc.status.NOT_FOUND, `no alert ${call.request.id}`)),
  });
  server.addService(v1.Status!.service, {
    Get: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const auth = call.metadata.get('authorization')[0];
      if (auth !== 'Bearer good') return cb(refuse(grpc.status.UNAUTHENTICATED, 'missing or wrong token'));
      cb(null, {
        version: '0.1.0',
        commit: 'c0ffee1',
        uptime_ms: 61_000,
        started_at: '2026-11-28T11:59:00Z',
        source: 'native',
        attached: 1,
        probes: [{ object: 'process', program: 'vg_exec', section: 'tp_btf/sched_process_exec', attached: true }],
        subscribers: [
          {
            id: 3,
            peer: 'unix:/run/vigil/vigil.sock',
            name: 'vigil-forward',
            since: '2026-11-28T11:59:30Z',
            events: false,
            alerts: true,
            sent: 40,
            lost: 12,
            queued: 0,
          },
        ],
        subscriber_lost: 19,
        subscriber_lost_by: { 'vigil-forward': 12, 'vigil-tail': 7, unix: 0 },
      });
    },
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
});

after(async () => {
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('usage errors exit 2 with the message and the usage; help exits 0', async () => {
  const h = harness();
  assert.equal(await main(['metrics'], h.io), 2);
  assert.match(h.err.text, /^vigil: missing TARGET\n\nUsage: vigil metrics TARGET/);
  const help = harness();
  assert.equal(await main(['--help'], help.io), 0);
  assert.match(help.out.text, /^Usage: vigil COMMAND/);
  const sub = harness();
  assert.equal(await main(['alerts', 'ack', '--help'], sub.io), 0);
  assert.match(sub.out.text, /^Usage: vigil alerts ack ID/);
});

test('no daemon: one line naming the address, exit 1', async () => {
  const h = harness({ VIGIL_ADDR: `unix://${dir}/missing.sock` });
  assert.equal(await main(['status'], h.io), 1);
  assert.equal(
    h.err.text,
    `vigil: cannot reach vigild at unix://${dir}/missing.sock (is it running? start it with \`make run\` or \`systemctl start vigild\`)\n`,
  );
  assert.equal(h.out.text, '');
});

test('a missing CA file is one line, exit 1', async () => {
  const h = harness();
  assert.equal(await main(['status', '--addr', 'vigil.example:9471', '--ca', join(dir, 'nope.pem')], h.io), 1);
  assert.equal(h.err.text, `vigil: cannot read the CA file ${join(dir, 'nope.pem')}: ENOENT\n`);
});

test('tail: alerts printed without colour when not a TTY, a gap warned on stderr and the stream goes on, SIGINT exits 0', async () => {
  const h = harness({ VIGIL_ADDR: addr });
  const done = main(['tail', '-o', 'compact', '--since', '6', '--allow', 'severity=warning;container.name=web-*'], h.io);
  for (let i = 0; h.out.text.split('\n').length < 3; i++) {
    if (i > 100) assert.fail(`no output: ${h.err.text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  h.interrupt();
  assert.equal(await done, 0);
  const lines = h.out.text.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], '12:00:01.200 warning   Read of shadow file in container  web-1  /bin/busybox[4711]  /etc/shadow opened');
  assert.match(lines[1]!, /^12:00:01\.200 critical {2}/);
  assert.doesNotMatch(h.out.text, /\x1b\[/);
  assert.equal(h.err.text, 'vigil: lost 17 events: subscriber too slow\n');
  assert.equal(lastSubscribe?.since_seq, '6');
  assert.equal(lastSubscribe?.include_alerts, true);
  assert.equal(lastSubscribe?.include_events, false);
  assert.equal(lastSubscribe?.client_name, 'vigil-tail', 'its losses count under vigil-tail in status and /metrics');
  assert.deepEqual(lastSubscribe?.allow?.[0]?.container_names, ['web-*']);
  assert.equal(lastSubscribe?.allow?.[0]?.min_severity, 'SEVERITY_WARNING');
});

test('tail -o json: one object a line, as the API sent it', async () => {
  const h = harness({ VIGIL_ADDR: addr });
  const done = main(['tail', '-o', 'json'], h.io);
  while (h.out.text.split('\n').length < 3) await new Promise((r) => setTimeout(r, 20));
  h.interrupt();
  assert.equal(await done, 0);
  const first = JSON.parse(h.out.text.split('\n')[0]!) as { alert: { id: string; container: { id: string } }; alert_change: string };
  assert.equal(first.alert.id, '01JALERT0001');
  assert.equal(first.alert.container.id, 'c0ffee');
  assert.equal(first.alert_change, 'ALERT_CHANGE_OPENED');
});

test('INVALID_ARGUMENT from the daemon: its message, exit 1', async () => {
  const h = harness({ VIGIL_ADDR: addr });
  assert.equal(await main(['tail', '--allow', 'container.name=web-['], h.io), 1);
  assert.equal(h.err.text, 'vigil: allow[0].container_names: bad glob "web-["\n');
});

test('UNAUTHENTICATED: the refusal line, exit 1; the token goes as a bearer header', async () => {
  const bad = harness({ VIGIL_ADDR: addr, VIGIL_TOKEN: 'bad' });
  assert.equal(await main(['status'], bad.io), 1);
  assert.equal(bad.err.text, 'vigil: the daemon refused the token (set VIGIL_TOKEN)\n');
  const none = harness({ VIGIL_ADDR: addr });
  assert.equal(await main(['status'], none.io), 1);
  assert.equal(none.err.text, 'vigil: the daemon refused the token (set VIGIL_TOKEN)\n');
  const good = harness({ VIGIL_ADDR: addr, VIGIL_TOKEN: 'good' });
  assert.equal(await main(['status'], good.io), 0, good.err.text);
  assert.match(good.out.text, /^vigild 0\.1\.0, up 1m1s/);
  assert.match(good.out.text, /^probes: 1 attached, 0 refused$/m);
  // every stream's losses since start, ended ones too, by name, then each connected subscriber
  assert.match(good.out.text, /^subscribers: 1, lost 19 since start \(vigil-forward 12, vigil-tail 7\)$/m);
  assert.match(good.out.text, /^ {2}#3 vigil-forward unix:\/run\/vigil\/vigil\.sock since .* alerts sent 40 lost 12 queued 0$/m);
});

test('NOT_FOUND: the message, exit 1; --debug adds the detail', async () => {
  const h = harness({ VIGIL_ADDR: addr });
  assert.equal(await main(['alerts', 'show', 'NOPE'], h.io), 1);
  assert.equal(h.err.text, 'vigil: no alert NOPE\n');
  const d = harness({ VIGIL_ADDR: addr });
  assert.equal(await main(['alerts', 'show', 'NOPE', '--debug'], d.io), 1);
  assert.match(d.err.text, /^vigil: no alert NOPE\n[\s\S]*grpc: code 5/);
});

test('alerts ack sends who and the comment', async () => {
  const h = harness({ VIGIL_ADDR: addr, SUDO_USER: 'alice' });
  assert.equal(await main(['alerts', 'ack', '01JALERT0001', '-m', 'on it'], h.io), 0, h.err.text);
  assert.deepEqual({ id: acks[0]!.id, by: acks[0]!.by, comment: acks[0]!.comment }, { id: '01JALERT0001', by: 'alice', comment: 'on it' });
  assert.equal(h.out.text, '01JALERT0001 acknowledged by alice: Read of shadow file in container\n');
});

test('ps against a daemon without the Containers service: it says the daemon is older, exit 1', async () => {
  const h = harness({ VIGIL_ADDR: addr });
  assert.equal(await main(['ps'], h.io), 1);
  assert.match(
    h.err.text,
    new RegExp(`^vigil: vigild at ${addr.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not offer this \\(.*\\); is it older than this vigil\\?\n$`),
  );
  assert.equal(h.out.text, '');
});

const CLIENT_LINE = /^vigil \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{4,40}|unknown), API vigil\.v1\)$/;

test("version: the client line, then the daemon's version and commit from its status", async () => {
  const h = harness({ VIGIL_ADDR: addr, VIGIL_TOKEN: 'good' });
  assert.equal(await main(['version'], h.io), 0, h.err.text);
  const [client, daemon, ...rest] = h.out.text.trimEnd().split('\n');
  assert.match(client!.replace(/^Client: /, ''), CLIENT_LINE);
  assert.equal(daemon, `Daemon: vigild 0.1.0 (commit c0ffee1, API vigil.v1) at ${addr}`);
  assert.deepEqual(rest, []);
  assert.equal(h.err.text, '');
  const json = harness({ VIGIL_ADDR: addr, VIGIL_TOKEN: 'good' });
  assert.equal(await main(['version', '-o', 'json'], json.io), 0, json.err.text);
  const report = JSON.parse(json.out.text) as {
    client: { version: string; commit: string; api: string };
    daemon: { version: string; commit: string; api: string; addr: string };
  };
  assert.deepEqual(report.daemon, { version: '0.1.0', commit: 'c0ffee1', api: 'vigil.v1', addr });
  assert.equal(report.client.api, 'vigil.v1');
});

test('version with no daemon (or one that refuses): the client part, a note on stderr, exit 0', async () => {
  const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['no socket', { VIGIL_ADDR: `unix://${dir}/missing.sock` }, /^vigil: no daemon version: cannot reach vigild at unix:\/\/.*missing\.sock/],
    ['refused token', { VIGIL_ADDR: addr, VIGIL_TOKEN: 'bad' }, /^vigil: no daemon version: the daemon refused the token/],
  ];
  for (const [what, env, note] of cases) {
    const h = harness(env);
    assert.equal(await main(['version'], h.io), 0, what);
    assert.match(h.out.text.trimEnd().replace(/^Client: /, ''), CLIENT_LINE, what);
    assert.match(h.err.text, note, what);
    const json = harness(env);
    assert.equal(await main(['version', '-o', 'json'], json.io), 0, what);
    const report = JSON.parse(json.out.text) as { daemon: unknown; daemon_error: string };
    assert.equal(report.daemon, null, what);
    assert.match(`vigil: no daemon version: ${report.daemon_error}`, note, what);
  }
});

test('--version and version --client ask no daemon', async () => {
  for (const line of [['--version'], ['version', '--client'], ['version', '--client', '--addr', `unix://${dir}/missing.sock`]]) {
    const h = harness({ VIGIL_ADDR: `unix://${dir}/missing.sock` });
    assert.equal(await main(line, h.io), 0, line.join(' '));
    assert.match(h.out.text.trimEnd(), CLIENT_LINE, line.join(' '));
    assert.equal(h.err.text, '', line.join(' '));
  }
});

test('--color: always colours a pipe even with NO_COLOR, never keeps a terminal plain, auto follows both', async () => {
  const ESC = /\x1b\[/;
  const cases: Array<[string, string[], boolean, NodeJS.ProcessEnv, boolean]> = [
    // [what, extra args, stdout is a TTY, env, coloured]
    ['auto, pipe', [], false, {}, false],
    ['auto, terminal', [], true, {}, true],
    ['auto, terminal, NO_COLOR', [], true, { NO_COLOR: '1' }, false],
    ['always, pipe', ['--color', 'always'], false, {}, true],
    ['always, pipe, NO_COLOR', ['--color=always'], false, { NO_COLOR: '1' }, true],
    ['never, terminal', ['--color', 'never'], true, {}, false],
    ['before the command', [], false, {}, true],
  ];
  for (const [what, extra, tty, env, coloured] of cases) {
    const h = harness({ VIGIL_ADDR: addr, VIGIL_TOKEN: 'good', ...env });
    h.out.isTTY = tty;
    const line = what === 'before the command' ? ['--color', 'always', 'status'] : ['status', ...extra];
    assert.equal(await main(line, h.io), 0, `${what}: ${h.err.text}`);
    assert.equal(ESC.test(h.out.text), coloured, what);
  }
  const bad = harness();
  assert.equal(await main(['status', '--color', 'sometimes'], bad.io), 2);
  assert.match(bad.err.text, /^vigil: --color must be one of auto, always, never \(got "sometimes"\)/);
});

test('completion prints a script for each shell; an unknown shell is a usage error', async () => {
  for (const [shell, marker] of [
    ['bash', /^complete -F _vigil vigil$/m],
    ['zsh', /^#compdef vigil$/m],
    ['fish', /^complete -c vigil -f$/m],
  ] as const) {
    const h = harness();
    assert.equal(await main(['completion', shell], h.io), 0, shell);
    assert.match(h.out.text, marker, shell);
  }
  const bad = harness();
  assert.equal(await main(['completion', 'tcsh'], bad.io), 2);
  assert.match(bad.err.text, /^vigil: the shell must be one of bash, zsh, fish \(got "tcsh"\)/);
});
