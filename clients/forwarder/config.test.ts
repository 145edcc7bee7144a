import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subscriptionAllow } from './assemble.js';
import { parseConfig } from './config.js';
import { ConfigError } from './core/errors.js';
import { compileFilter } from './filter.js';
import { alertItem, makeEvent } from '../../test/forwarder-fakes.js';

const FULL = `
daemon:
  address: 127.0.0.1:9471
  token: secret
  insecure: true
state_file: /tmp/x/state.json
hostname: node-1
sinks:
  - name: siem
    type: syslog
    transport: tls
    host: siem.example
    format: cef
    facility: auth
    filter:
      allow: [{min_severity: error}]
  - type: hec
    url: https://splunk:8088
    token: t
    index: security
    batch: {max_items: 50, max_wait_ms: 100}
  - name: es
    type: bulk
    url: http://es:9200
    auth: {username: u, password: p}
  - name: hook
    type: webhook
    url: http://hooks/x
    headers: {X-Key: k}
    events: true
  - name: fleet
    type: nats
    servers: nats://a:4222
    subject: vigil.{host}.{severity}
    stream: VIGIL
    create_stream: true
    queue: {max_items: 100}
    retry: {initial_ms: 10, max_ms: 100}
`;

describe('config', () => {
  it('reads every sink type with its defaults', () => {
    const c = parseConfig(FULL, 'f.yaml');
    assert.deepEqual(c.daemon, { address: '127.0.0.1:9471', token: 'secret', ca: undefined, insecure: true });
    assert.equal(c.hostname, 'node-1');
    assert.deepEqual(
      c.sinks.map((s) => [s.name, s.type]),
      [
        ['siem', 'syslog'],
        ['hec-1', 'hec'],
        ['es', 'bulk'],
        ['hook', 'webhook'],
        ['fleet', 'nats'],
      ],
    );
    const [syslog, hec, bulk, hook, nats] = c.sinks;
    assert.ok(syslog?.type === 'syslog' && syslog.port === 6514 && syslog.facility === 4 && syslog.appName === 'vigil' && syslog.sdId === 'vigil@32473');
    assert.deepEqual(syslog.filter, { allow: [{ min_severity: 'error' }], deny: [] });
    assert.deepEqual(hec?.batch, { maxItems: 50, maxWaitMs: 100 });
    assert.ok(bulk?.type === 'bulk' && bulk.index === 'vigil-{date}' && bulk.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.ok(hook?.type === 'webhook' && hook.headers['x-key'] === 'k' && hook.events);
    assert.ok(nats?.type === 'nats' && nats.servers[0] === 'nats://a:4222' && nats.createStream && nats.queueMax === 100);
    assert.deepEqual(nats.retry, { initialMs: 10, maxMs: 100 });
  });

  it('names the file and the setting in every error', () => {
    const table: Array<[string, RegExp]> = [
      ['sinks: []', /f\.yaml: sinks: a list of at least one sink/],
      ['sinks: [{type: kafka}]', /sinks\[0\]\.type: must be one of syslog, hec, bulk, webhook, nats/],
      ['sinks: [{type: syslog}]', /sinks\[0\]\.host: is required/],
      ['sinks: [{type: syslog, host: h, transport: sctp}]', /sinks\[0\]\.transport: must be one of udp, tcp, tls/],
      ['sinks: [{type: syslog, host: h, port: 0}]', /sinks\[0\]\.port: must be an integer from 1 to 65535/],
      ['sinks: [{type: syslog, host: h, facility: mars}]', /sinks\[0\]\.facility: a facility name/],
      ['sinks: [{type: hec, url: http://x}]', /sinks\[0\]\.token: is required/],
      ['sinks: [{type: hec, url: ftp://x, token: t}]', /sinks\[0\]\.url: must be http/],
      ['sinks: [{type: bulk, url: http://x, index: Bad}]', /sinks\[0\]\.index: lower case/],
      ['sinks: [{type: nats, servers: [], subject: a}]', /sinks\[0\]\.servers/],
      ['sinks: [{type: nats, servers: n, subject: "a.{pod}"}]', /unknown placeholder \{pod\}/],
      ['sinks: [{type: nats, servers: n, subject: "a.>"}]', /sinks\[0\]\.subject: dot-separated/],
      ['sinks: [{type: webhook, url: http://x, color: red}]', /sinks\[0\]\.color: unknown setting/],
      ['sinks: [{type: webhook, url: http://x, filter: {allow: [{kinds: [exek]}]}}]', /sinks\[0\]\.filter\.allow\[0\]\.kinds: unknown kind exek/],
      ['sinks: [{type: webhook, url: http://x, filter: {allow: [{min_severity: loud}]}}]', /min_severity: one of/],
      ['sinks: [{type: webhook, url: http://x, filter: {deny: [{container_ids: [ab]}]}}]', /at least 4 characters/],
      ['sinks: [{type: webhook, url: http://x, batch: {max_items: 0}}]', /sinks\[0\]\.batch\.max_items: must be an integer from 1/],
      ['sinks: [{type: webhook, url: http://x, alerts: false}]', /ships nothing/],
      ['sinks: [{type: webhook, url: http://x, name: a}, {type: webhook, url: http://y, name: a}]', /sinks\[1\]\.name: a is used twice/],
      ['daemon: {adress: x}\nsinks: [{type: webhook, url: http://x}]', /daemon\.adress: unknown setting/],
      ['sinks: [{type: webhook, url: http://x}', /f\.yaml: /],
    ];
    for (const [text, want] of table) {
      assert.throws(
        () => parseConfig(text, 'f.yaml'),
        (err: unknown) => err instanceof ConfigError && want.test(err.message) && err.message.startsWith('f.yaml: '),
        text,
      );
    }
  });

  it("asks the daemon for the union of the sinks' allow filters, or everything when one sink allows all", () => {
    const two = parseConfig(
      'sinks: [{type: webhook, url: http://x, filter: {allow: [{rules: [a]}]}}, {type: webhook, url: http://y, name: b, filter: {allow: [{min_severity: critical}]}}]',
      'f',
    );
    assert.deepEqual(
      subscriptionAllow(two.sinks).map((f) => [f.rules, f.min_severity]),
      [
        [['a'], 'SEVERITY_UNSPECIFIED'],
        [[], 'SEVERITY_CRITICAL'],
      ],
    );
    const open = parseConfig('sinks: [{type: webhook, url: http://x, filter: {allow: [{rules: [a]}]}}, {type: webhook, url: http://y, name: b}]', 'f');
    assert.deepEqual(subscriptionAllow(open.sinks), []);
  });
});

describe('sink filters', () => {
  it('bad globs are refused when the config loads, with the sink, the field and the column', () => {
    // [glob, message]
    const table: Array<[string, RegExp]> = [
      ['web-[1', /sinks\[0\]\.filter\.allow\[0\]\.container_names: bad glob "web-\[1" at column 5: unterminated '\['/],
      ['x\\', /trailing backslash/],
      ['[z-a]', /reversed range/],
    ];
    for (const [glob, msg] of table) {
      assert.throws(
        () => parseConfig(`sinks: [{type: webhook, url: http://x, filter: {allow: [{container_names: [${JSON.stringify(glob)}]}]}}]`, 'f'),
        (e: unknown) => e instanceof ConfigError && msg.test(e.message),
        glob,
      );
    }
  });

  it('allow any, deny none; fields AND, values OR; fields that do not apply do not restrict', () => {
    const alert = alertItem(1, { severity: 'SEVERITY_ERROR', rule: 'r1' });
    const event = { type: 'event' as const, event: makeEvent({ kind: 'EVENT_KIND_FILE' }) };
    const table: Array<[string, object, boolean, boolean]> = [
      ['empty', { allow: [], deny: [] }, true, true],
      ['min severity met', { allow: [{ min_severity: 'warning' }], deny: [] }, true, true],
      ['min severity not met', { allow: [{ min_severity: 'critical' }], deny: [] }, false, true],
      ['rules', { allow: [{ rules: ['r2', 'r1'] }], deny: [] }, true, true],
      ['rules AND severity', { allow: [{ rules: ['r1'], min_severity: 'alert' }], deny: [] }, false, true],
      ['allow OR', { allow: [{ rules: ['zz'] }, { min_severity: 'error' }], deny: [] }, true, true],
      ['kinds (alert by its events)', { allow: [{ kinds: ['exec'] }], deny: [] }, true, false],
      ['container id prefix', { allow: [{ container_ids: ['c0ff'] }], deny: [] }, true, true],
      ['container host', { allow: [{ container_ids: ['host'] }], deny: [] }, false, false],
      ['container name glob', { allow: [{ container_names: ['web-*'] }], deny: [] }, true, true],
      ['pod namespace', { allow: [{ pod_namespaces: ['prod'] }], deny: [] }, false, false],
      ['exe glob', { allow: [{ exe_globs: ['/bin/*'] }], deny: [] }, true, true],
      ['deny wins', { allow: [], deny: [{ container_names: ['web-1'] }] }, false, false],
    ];
    for (const [name, f, wantAlert, wantEvent] of table) {
      const p = compileFilter(f as Parameters<typeof compileFilter>[0]);
      assert.equal(p(alert), wantAlert, `${name}: alert`);
      assert.equal(p(event), wantEvent, `${name}: event`);
    }
  });

  it("reads the stream's messages as the API does: an exec's new exe, no container or exe matches no such field", () => {
    const exec = { type: 'event' as const, event: makeEvent({ exec: { exe: '/usr/bin/curl' } } as never) };
    const bare = { type: 'event' as const, event: makeEvent({ kind: 'EVENT_KIND_CONTAINER_START', proc: null, container: null }) };
    // [filter, exec, bare]
    const table: Array<[object, boolean, boolean]> = [
      [{ exe_globs: ['/usr/bin/*'] }, true, false],
      [{ exe_globs: ['/bin/cat'] }, false, false], // the exec's new exe, not the process's old one
      [{ exe_globs: ['**'] }, true, false],
      [{ container_names: ['*'] }, true, false],
      [{ container_ids: ['host'] }, false, false],
      [{ kinds: ['container_start'] }, false, true],
    ];
    for (const [f, wantExec, wantBare] of table) {
      const p = compileFilter({ allow: [f], deny: [] });
      assert.deepEqual([p(exec), p(bare)], [wantExec, wantBare], JSON.stringify(f));
    }
  });
});
