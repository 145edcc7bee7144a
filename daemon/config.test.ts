import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkListen, defaultConfig, parseConfig, parseSize } from './config.js';
import { ConfigError } from './core/errors.js';

test('an empty file keeps the embedded defaults', () => {
  assert.deepEqual(parseConfig('', 'c.yaml'), defaultConfig());
  assert.deepEqual(parseConfig('# only a comment\n', 'c.yaml'), defaultConfig());
});

test('every option is read', () => {
  const c = parseConfig(
    [
      'data_dir: /srv/vigil',
      'log_level: debug',
      'http:',
      '  listen: "[::1]:9999"',
      '  token_file: /etc/vigil/token',
      'metrics:',
      '  interval: 10s',
      '  retention: { raw: 12h, 1m: 3d, 1h: 30d }',
      'sensor:',
      '  ring_buffer_size: 64MiB',
      '  watches: [ "prefix:/srv/secrets/", "name:id_rsa" ]',
      '  connect_inet: true',
      '  failed_exec: true',
      'containers:',
      '  patterns:',
      '    - { runtime: docker, regex: "/mycorp/(?<id>[0-9a-f]{12,})$" }',
      'default_targets: [ "k8s.namespace=prod" ]',
      'rules:',
      '  hosts: { kubernetes.default.svc.cluster.local: [ 10.96.0.1, "fd00::1" ] }',
    ].join('\n'),
    'c.yaml',
  );
  assert.equal(c.dataDir, '/srv/vigil');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.httpListen, '[::1]:9999');
  assert.equal(c.httpTokenFile, '/etc/vigil/token');
  assert.equal(c.metrics.intervalMs, 10_000);
  assert.deepEqual(c.metrics.retention, { raw: 12 * 3600e3, '1m': 3 * 86400e3, '1h': 30 * 86400e3 });
  assert.equal(c.sensor.ringBufferBytes, 64 << 20);
  assert.deepEqual(c.sensor.watches, ['prefix:/srv/secrets/', 'name:id_rsa']);
  assert.equal(c.sensor.connectInet, true);
  assert.equal(c.sensor.failedExec, true);
  assert.deepEqual(c.containers.patterns, [{ runtime: 'docker', regex: '/mycorp/(?<id>[0-9a-f]{12,})$' }]);
  assert.deepEqual(c.defaultTargets, ['k8s.namespace=prod']);
  assert.deepEqual(c.ruleHosts, { 'kubernetes.default.svc.cluster.local': ['10.96.0.1', 'fd00::1'] });
});

const errors: Array<[string, string, RegExp]> = [
  ['unknown top-level key', 'data_dir: /x\nfrobnicate: 1\n', /^c\.yaml:2:1: unknown key "frobnicate" in the config/],
  ['unknown nested key', 'metrics:\n  intervl: 5s\n', /^c\.yaml:2:3: unknown key "intervl" in metrics/],
  ['bad duration', 'metrics:\n  interval: soon\n', /^c\.yaml:2:13: metrics.interval must be a duration/],
  ['ring buffer not a power of two', 'sensor:\n  ring_buffer_size: 3MiB\n', /^c\.yaml:2:21: sensor.ring_buffer_size must be a power of two/],
  ['wrong type', 'sensor:\n  connect_inet: "yes"\n', /^c\.yaml:2:17: sensor.connect_inet must be true or false/],
  ['bad listen address', 'http:\n  listen: nowhere\n', /^c\.yaml:2:11: http\.listen must be host:port, not "nowhere"/],
  ['unknown runtime', 'containers:\n  patterns:\n    - { runtime: rkt, regex: x }\n', /^c\.yaml:3:18: containers\.patterns\[0\]\.runtime must be one of/],
  [
    'host entry not an address',
    'rules:\n  hosts:\n    api.local: [ api.example ]\n',
    /^c\.yaml:3:18: rules\.hosts\.api\.local\[0\] must be an IPv4 or IPv6 address, not "api\.example"/,
  ],
  ['host entries not a mapping', 'rules:\n  hosts: [ 10.0.0.1 ]\n', /^c\.yaml:2:10: rules\.hosts must be a mapping/],
  ['not a mapping', '- a\n- b\n', /^c\.yaml:1:1: the config must be a mapping/],
  ['YAML syntax', 'a: [1, 2\n', /^c\.yaml:\d+:\d+: /],
  ['bad log level', 'log_level: loud\n', /^c\.yaml:1:12: log_level must be one of/],
  ['alerts.max_waiting out of range', 'alerts:\n  max_waiting: 0\n', /^c\.yaml:2:16: alerts.max_waiting must be a whole number from 1 to 1000000/],
];
for (const [name, text, re] of errors) {
  test(`config error: ${name}, with file:line:column`, () => {
    assert.throws(
      () => parseConfig(text, 'c.yaml'),
      (err: unknown) => err instanceof ConfigError && err.code === 'VIGIL_CONFIG' && re.test(err.message),
    );
  });
}

// Durations: common/duration.test.ts (one grammar for config, rules and the CLI).
test('sizes and listen addresses', () => {
  assert.equal(parseSize('16MiB'), 16 << 20);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('1 GB'), undefined);
  assert.equal(checkListen('127.0.0.1:9470'), '127.0.0.1:9470');
  assert.throws(() => checkListen('127.0.0.1:70000'), ConfigError);
});

test('api: the socket by default, TCP only with TLS and a token or insecure on loopback', () => {
  const d = defaultConfig();
  assert.equal(d.api.socket, '/run/vigil/vigil.sock');
  assert.equal(d.api.listen, undefined);
  const c = parseConfig(
    [
      'api:',
      '  socket: /tmp/v.sock',
      '  socket_group: adm',
      '  listen: 0.0.0.0:9471',
      '  tls: { cert: /etc/vigil/api.crt, key: /etc/vigil/api.key, client_ca: /etc/vigil/ca.crt }',
      '  token_file: /etc/vigil/api.token',
      '  max_subscribers: 16',
      '  max_queued_messages: 4096',
    ].join('\n'),
    'c.yaml',
  );
  assert.deepEqual(c.api, {
    socket: '/tmp/v.sock',
    socketGroup: 'adm',
    listen: '0.0.0.0:9471',
    tls: { cert: '/etc/vigil/api.crt', key: '/etc/vigil/api.key', clientCa: '/etc/vigil/ca.crt' },
    tokenFile: '/etc/vigil/api.token',
    insecure: false,
    maxSubscribers: 16,
    maxQueuedMessages: 4096,
  });
  assert.equal(parseConfig('api:\n  listen: 127.0.0.1:9471\n  insecure: true\n', 'c.yaml').api.insecure, true);
  const bad: Array<[string, RegExp]> = [
    ['api:\n  listen: 0.0.0.0:9471\n', /^c\.yaml:2:3: api\.listen 0\.0\.0\.0:9471: plain TCP is refused/],
    ['api:\n  listen: 0.0.0.0:9471\n  insecure: true\n', /plain TCP is refused/],
    ['api:\n  listen: 0.0.0.0:9471\n  tls: { cert: a, key: b }\n', /needs api\.token_file/],
    ['api:\n  tls: { cert: a }\n', /^c\.yaml:2:8: api\.tls needs key/],
    ['api:\n  socket: relative.sock\n', /^c\.yaml:2:11: api\.socket must be an absolute path/],
    ['api:\n  max_subscribers: 0\n', /max_subscribers must be a whole number/],
    ['api:\n  sockets: /x\n', /unknown key "sockets" in api/],
    ['http:\n  listen: 0.0.0.0:9470\n  auth: none\n', /^c\.yaml:2:3: http\.auth: none is only allowed on a loopback http\.listen/],
    ['http:\n  auth: maybe\n', /^c\.yaml:2:9: http\.auth must be token or none/],
  ];
  assert.equal(parseConfig('', 'c.yaml').httpAuth, 'token');
  assert.equal(parseConfig('http:\n  auth: none\n', 'c.yaml').httpAuth, 'none');
  for (const [text, re] of bad)
    assert.throws(
      () => parseConfig(text, 'c.yaml'),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
      text,
    );
});

test('alerts: dedup window, rate and the queue kept while the store cannot write', () => {
  assert.deepEqual(parseConfig('', 'c.yaml').alerts, { dedupWindowMs: 60_000, ratePerMinute: 20, maxWaiting: 10_000 });
  assert.deepEqual(parseConfig('alerts:\n  dedup_window: 5s\n  rate_per_minute: 3\n  max_waiting: 500\n', 'c.yaml').alerts, {
    dedupWindowMs: 5000,
    ratePerMinute: 3,
    maxWaiting: 500,
  });
});
