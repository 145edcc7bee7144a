// `vigil` argument parsing as a table: each command line and what it parses to, or the usage error
// (message and whose usage) it raises.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMON, DEFAULT_ADDR, DEFAULT_HTTP, DEFAULT_HTTP_TOKEN_FILE, parseCommandLine, SPECS, splitHostPort, type ParseContext } from './args.js';
import { isLoopback } from '../../common/listen.js';
import { UsageError } from './errors.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const ctx = (over: Partial<ParseContext> = {}): ParseContext => ({ env: {}, stdoutIsTty: false, now: NOW, ...over });
const parse = (line: string[], over: Partial<ParseContext> = {}) => parseCommandLine(line, ctx(over));

const OK: Array<[string, string[], Record<string, unknown>, Partial<ParseContext>?]> = [
  ['tail defaults to alerts, json when piped', ['tail'], { name: 'tail', events: false, output: 'json', allow: [], deny: [] }],
  [
    'tail filter: fields joined by ;',
    ['tail', '--allow', 'kind=exec,file; container.name=web-*;severity=warning;rule=A;container=abcd;namespace=prod;exe=/usr/**'],
    {
      allow: [
        {
          kinds: ['EVENT_KIND_EXEC', 'EVENT_KIND_FILE'],
          container_names: ['web-*'],
          min_severity: 'SEVERITY_WARNING',
          rules: ['A'],
          container_ids: ['abcd'],
          pod_namespaces: ['prod'],
          exe_globs: ['/usr/**'],
        },
      ],
    },
  ],
  ['tail compact on a terminal', ['tail'], { output: 'compact' }, { stdoutIsTty: true }],
  ["tail as Falco's JSON alerts", ['tail', '-o', 'falco'], { name: 'tail', events: false, output: 'falco' }],
  [
    'tail events with filters and resume',
    ['tail', '--events', '--allow', 'kind=exec', '--allow', 'container.name=web-*', '--deny', 'exe=/bin/sh', '--since', '42', '-o', 'wide'],
    {
      name: 'tail',
      events: true,
      output: 'wide',
      since: '42',
      allow: [{ kinds: ['EVENT_KIND_EXEC'] }, { container_names: ['web-*'] }],
      deny: [{ exe_globs: ['/bin/sh'] }],
    },
  ],
  ['alerts ls defaults', ['alerts', 'ls'], { name: 'alerts ls', output: 'table', state: 'open', limit: 100 }],
  [
    'alerts list alias, all states',
    ['alerts', 'list', '--state', 'all', '--severity', 'critical', '--since', '1h', '--limit', '5', '-o', 'json'],
    { name: 'alerts ls', output: 'json', state: undefined, severity: 'critical', since: NOW - 3600e3, limit: 5 },
  ],
  ['alerts show', ['alerts', 'show', '01JABC'], { name: 'alerts show', id: '01JABC', output: 'text' }],
  ['alerts ack with comment', ['alerts', 'ack', 'a1', 'a2', '--comment', 'on it'], { name: 'alerts ack', ids: ['a1', 'a2'], comment: 'on it' }],
  ['alerts resolve -m', ['alerts', 'resolve', 'a1', '-m', 'fixed'], { name: 'alerts resolve', ids: ['a1'], comment: 'fixed' }],
  [
    'targets add from arguments',
    ['targets', 'add', 'name:web-*', 'host', '--metrics', 'memory_usage_bytes,pids_current'],
    { name: 'targets add', selectors: ['name:web-*', 'host'], files: [], metrics: ['memory_usage_bytes', 'pids_current'] },
  ],
  ['targets add from a file', ['targets', 'add', '-f', 'targets.txt'], { name: 'targets add', selectors: [], files: ['targets.txt'] }],
  ['targets rm', ['targets', 'remove', 'name:web-*'], { name: 'targets rm', selectors: ['name:web-*'], files: [] }],
  ['targets ls', ['targets', 'ls', '-o', 'json'], { name: 'targets ls', output: 'json' }],
  ['metrics defaults to the last hour', ['metrics', 'web'], { name: 'metrics', target: 'web', metrics: [], since: NOW - 3600e3, output: 'text' }],
  [
    'metrics with metric, since, step',
    ['metrics', 'host', '--metric', 'memory_usage_bytes', '--since', '6h', '--step', '5m'],
    { target: 'host', metrics: ['memory_usage_bytes'], since: NOW - 6 * 3600e3, stepMs: 300e3 },
  ],
  ['forecast', ['forecast', 'abc123', '--metric', 'pids_current'], { name: 'forecast', target: 'abc123', metrics: ['pids_current'], output: 'text' }],
  ['rules ls', ['rules', 'ls'], { name: 'rules ls', output: 'table' }],
  ['rules check files', ['rules', 'check', 'a.yaml', 'b.yaml'], { name: 'rules check', files: ['a.yaml', 'b.yaml'] }],
  ['rules reload', ['rules', 'reload'], { name: 'rules reload' }],
  ['status', ['status'], { name: 'status', output: 'text' }],
  ['ps: running only, a table', ['ps'], { name: 'ps', all: false, output: 'table' }],
  ['ps -a -o wide', ['ps', '-a', '-o', 'wide'], { name: 'ps', all: true, output: 'wide' }],
  ['ps --all -o json', ['ps', '--all', '--output', 'json'], { name: 'ps', all: true, output: 'json' }],
  ["dashboard: the daemon's defaults", ['dashboard'], { name: 'dashboard', http: DEFAULT_HTTP, tokenFile: DEFAULT_HTTP_TOKEN_FILE }],
  [
    'dashboard elsewhere with a token file',
    ['dashboard', '--http', '[::1]:8080', '--token-file', '/etc/vigil/http.token'],
    { name: 'dashboard', http: '[::1]:8080', tokenFile: '/etc/vigil/http.token' },
  ],
  [
    'dashboard --token-file none: no token',
    ['dashboard', '--http', 'localhost:9470', '--token-file', 'none'],
    { name: 'dashboard', http: 'localhost:9470', tokenFile: null },
  ],
  ['version asks the daemon too', ['version'], { name: 'version', output: 'text', clientOnly: false }],
  ['version --client -o json', ['version', '--client', '-o', 'json'], { name: 'version', output: 'json', clientOnly: true }],
  ['--version: this vigil only', ['--version'], { name: 'version', output: 'text', clientOnly: true }],
  ['completion bash', ['completion', 'bash'], { name: 'completion', shell: 'bash' }],
  ['completion fish', ['completion', 'fish'], { name: 'completion', shell: 'fish' }],
  ['help', ['--help'], { name: 'help' }],
  ['command help', ['tail', '--help'], { name: 'help' }],
  ['group help', ['alerts', '-h'], { name: 'help' }],
];

for (const [what, line, want, over] of OK) {
  test(`parses: ${what}`, () => {
    const { command } = parse(line, over);
    for (const [k, v] of Object.entries(want)) assert.deepEqual((command as unknown as Record<string, unknown>)[k], v, `${k} of ${line.join(' ')}`);
  });
}

const BAD: Array<[string[], RegExp, RegExp]> = [
  // [command line, message, usage it carries]
  [[], /missing command/, /^Usage: vigil COMMAND/],
  [['frobnicate'], /unknown command "frobnicate"/, /^Usage: vigil COMMAND/],
  [['alerts'], /missing alerts subcommand \(ls, show, ack, resolve\)/, /^Usage: vigil alerts/],
  [['alerts', 'zap'], /unknown alerts subcommand "zap"/, /^Usage: vigil alerts/],
  [['tail', '--bogus'], /unknown option '--bogus'/, /^Usage: vigil tail/],
  [['tail', '-o', 'xml'], /--output must be one of compact, json, wide/, /^Usage: vigil tail/],
  [['tail', '--since', 'yesterday'], /--since must be a sequence number/, /^Usage: vigil tail/],
  [['tail', '--since', '9223372036854775808'], /--since 9223372036854775808 is at or above 2\^63/, /^Usage: vigil tail/],
  [['tail', '--since', '18446744073709551621'], /at or above 2\^63/, /^Usage: vigil tail/],
  [['tail', 'extra'], /unexpected argument "extra"/, /^Usage: vigil tail/],
  [['tail', '--allow', ''], /empty filter/, /^Usage: vigil tail/],
  [['tail', '--allow', 'comm=sh'], /unknown filter field "comm" \(fields: kind, rule, severity/, /^Usage: vigil tail/],
  [['tail', '--allow', 'kind=exec,bogus'], /unknown event kind "bogus" \(kinds: exec, fork/, /^Usage: vigil tail/],
  [['tail', '--deny', 'severity=critical,error'], /severity takes one of emergency, alert, critical/, /^Usage: vigil tail/],
  [['tail', '--allow', 'exe'], /is not FIELD=VALUE/, /^Usage: vigil tail/],
  [['tail', '--allow', 'exe=/bin/sh,'], /has an empty value/, /^Usage: vigil tail/],
  [['rules', 'check'], /missing rule FILE/, /^Usage: vigil rules check/],
  [['alerts', 'show'], /missing alert ID/, /^Usage: vigil alerts show/],
  [['alerts', 'show', 'a', 'b'], /unexpected argument "b"/, /^Usage: vigil alerts show/],
  [['alerts', 'ack'], /missing alert ID/, /^Usage: vigil alerts ack/],
  [['alerts', 'ack', '../x'], /not an alert id/, /^Usage: vigil alerts ack/],
  [['alerts', 'ls', '--state', 'sleeping'], /--state must be one of open, acknowledged, resolved, all/, /^Usage: vigil alerts ls/],
  [['alerts', 'ls', '--severity', 'meh'], /--severity must be one of emergency/, /^Usage: vigil alerts ls/],
  [['alerts', 'ls', '--limit', '0'], /--limit must be a positive number/, /^Usage: vigil alerts ls/],
  [['alerts', 'ls', '--since', 'last week'], /--since must be a duration/, /^Usage: vigil alerts ls/],
  [['targets', 'add'], /nothing to add/, /^Usage: vigil targets add/],
  [['targets', 'rm'], /nothing to remove/, /^Usage: vigil targets rm/],
  [['metrics'], /missing TARGET/, /^Usage: vigil metrics/],
  [['metrics', 'web', '--step', 'often'], /--step must be a duration/, /^Usage: vigil metrics/],
  [['metrics', 'web', '--since', '1h', '--until', '2h'], /--until must be after --since/, /^Usage: vigil metrics/],
  [['forecast'], /missing TARGET/, /^Usage: vigil forecast/],
  [['rules', 'reload', 'now'], /unexpected argument "now"/, /^Usage: vigil rules reload/],
  [['status', '--addr', 'nowhere'], /neither unix:\/\/\/path nor host:port/, /^Usage: vigil status/],
  [['status', '--addr', 'unix:relative.sock'], /unix:\/\/\/absolute\/path\.sock/, /^Usage: vigil status/],
  [['status', '--addr', '10.0.0.5:9471', '--insecure'], /--insecure is allowed only to a loopback address, not 10\.0\.0\.5/, /^Usage: vigil status/],
  [['status', '--timeout', 'soon'], /--timeout must be a duration/, /^Usage: vigil status/],
  [['ps', 'web'], /unexpected argument "web"/, /^Usage: vigil ps/],
  [['ps', '-o', 'yaml'], /--output must be one of table, wide, json/, /^Usage: vigil ps/],
  [['ps', '--quiet'], /unknown option '--quiet'/, /^Usage: vigil ps/],
  [['dashboard', '--http', 'http://127.0.0.1:9470/'], /--http must be HOST:PORT, e\.g\. 127\.0\.0\.1:9470 \(got "http:/, /^Usage: vigil dashboard/],
  [['dashboard', '--http', '127.0.0.1'], /--http must be HOST:PORT/, /^Usage: vigil dashboard/],
  [['dashboard', '--token-file', ''], /--token-file must name a file \(or none\)/, /^Usage: vigil dashboard/],
  [['dashboard', '--open'], /unknown option '--open'/, /^Usage: vigil dashboard/],
  [['dashboard', 'now'], /unexpected argument "now"/, /^Usage: vigil dashboard/],
  [['--nope', 'status'], /unknown option "--nope" before the command/, /^Usage: vigil COMMAND/],
  [['--addr'], /option --addr needs a value/, /^Usage: vigil COMMAND/],
  [['--version', 'status'], /unexpected argument "status" after --version/, /^Usage: vigil COMMAND/],
  [['version', 'now'], /unexpected argument "now"/, /^Usage: vigil version/],
  [['version', '-o', 'wide'], /--output must be one of text, json/, /^Usage: vigil version/],
  [['completion'], /missing shell \(bash, zsh or fish\)/, /^Usage: vigil completion/],
  [['completion', 'bash', 'zsh'], /unexpected argument "zsh"/, /^Usage: vigil completion/],
  [['completion', 'csh'], /the shell must be one of bash, zsh, fish/, /^Usage: vigil completion/],
  [['ps', '--color', 'yes'], /--color must be one of auto, always, never \(got "yes"\)/, /^Usage: vigil ps/],
  [['--color', 'rainbow', 'status'], /--color must be one of auto, always, never/, /^Usage: vigil status/],
  [['tail', '--events', '-o', 'falco'], /-o falco prints alerts as Falco's JSON; events have no Falco form/, /^Usage: vigil tail/],
];

for (const [line, message, usage] of BAD) {
  test(`usage error: vigil ${line.join(' ')}`, () => {
    assert.throws(
      () => parse(line),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.match(err.message, message);
        assert.equal(err.message.includes('\n'), false, 'one line');
        assert.match(err.usage ?? '', usage);
        return true;
      },
    );
  });
}

test('connection: default socket, VIGIL_ADDR, --addr wins, connection options before the command, VIGIL_CA', () => {
  assert.equal(parse(['status']).connection.addr, DEFAULT_ADDR);
  assert.equal(parse(['status'], { env: { VIGIL_ADDR: 'unix:///tmp/v.sock' } }).connection.addr, 'unix:///tmp/v.sock');
  assert.equal(parse(['status', '--addr', 'h.example:9471'], { env: { VIGIL_ADDR: 'unix:///tmp/v.sock' } }).connection.addr, 'h.example:9471');
  const lead = parse(['--addr', '127.0.0.1:9471', '--insecure', '--debug', 'status']);
  assert.deepEqual(lead.connection, { addr: '127.0.0.1:9471', insecure: true, timeoutMs: 10_000, debug: true });
  assert.equal(parse(['--addr=[::1]:9471', 'status', '--insecure']).connection.addr, '[::1]:9471');
  assert.equal(parse(['status'], { env: { VIGIL_CA: '/etc/vigil/ca.pem' } }).connection.ca, '/etc/vigil/ca.pem');
  assert.equal(parse(['status', '--ca', 'x.pem'], { env: { VIGIL_CA: '/etc/vigil/ca.pem' } }).connection.ca, 'x.pem');
  assert.equal(parse(['status', '--timeout', '2s']).connection.timeoutMs, 2000);
});

test('host:port and loopback', () => {
  assert.deepEqual(splitHostPort('vigil.example:9471'), { host: 'vigil.example', port: 9471 });
  assert.deepEqual(splitHostPort('[::1]:1'), { host: '[::1]', port: 1 });
  assert.equal(splitHostPort('host:99999'), undefined);
  assert.equal(splitHostPort('host'), undefined);
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['10.0.0.1', 'example.com', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('the top-level usage lists ps and dashboard; their help carries the column and token notes', () => {
  const top = parse(['--help']).command;
  assert.ok(top.name === 'help');
  assert.match(top.text, /^ {2}ps {2,}containers \(and the host\)/m);
  assert.match(top.text, /^ {2}dashboard {2,}the web dashboard's URL/m);
  const ps = parse(['ps', '--help']).command;
  assert.ok(ps.name === 'help');
  assert.match(ps.text, /^Usage: vigil ps/);
  assert.match(ps.text, /PRIV/);
  const dash = parse(['help', 'dashboard']).command;
  assert.ok(dash.name === 'help');
  assert.match(dash.text, new RegExp(`default ${DEFAULT_HTTP_TOKEN_FILE.replace(/\./g, '\\.')}`));
});

test('--color: auto unless given, before or after the command', () => {
  const cases: Array<[string[], string]> = [
    [['status'], 'auto'],
    [['status', '--color', 'always'], 'always'],
    [['status', '--color=never'], 'never'],
    [['--color', 'always', 'ps'], 'always'],
    [['tail', '--color', 'auto'], 'auto'],
  ];
  for (const [line, want] of cases) assert.equal(parse(line).colour, want, line.join(' '));
});

// The completions offer an option's fixed values from the same table the parser checks them against:
// every offered value must parse, and a value outside the set must not.
test('every fixed set of option values in the tables is what the parser accepts', () => {
  const needs: Record<string, string[]> = {
    'alerts show': ['ID1'],
    'alerts ack': ['ID1'],
    'alerts resolve': ['ID1'],
    'targets add': ['host'],
    'targets rm': ['host'],
    metrics: ['host'],
    forecast: ['host'],
    'rules check': ['a.yaml'],
    completion: ['bash'],
  };
  let checked = 0;
  for (const [name, spec] of Object.entries(SPECS)) {
    for (const [long, def] of Object.entries({ ...spec.options, ...COMMON })) {
      if (!Array.isArray(def.value)) continue;
      const base = [...name.split(' '), ...(needs[name] ?? [])];
      for (const v of def.value as readonly string[]) {
        assert.doesNotThrow(() => parse([...base, `--${long}`, v]), `${name} --${long} ${v}`);
        checked++;
      }
      assert.throws(() => parse([...base, `--${long}`, 'no-such-value']), UsageError, `${name} --${long} no-such-value`);
    }
    if (Array.isArray(spec.positionals))
      for (const p of spec.positionals as readonly string[]) assert.doesNotThrow(() => parse([...name.split(' '), p]), `${name} ${p}`);
  }
  assert.ok(checked > 40, `only ${checked} values checked`);
});

test('the top-level usage names version, completion and --color', () => {
  const top = parse(['--help']).command;
  assert.ok(top.name === 'help');
  assert.match(top.text, /^ {2}version {2,}/m);
  assert.match(top.text, /^ {2}completion bash\|zsh\|fish {2,}/m);
  assert.match(top.text, /--color WHEN/);
});
