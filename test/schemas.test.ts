// The JSON Schemas in docs/schemas/ against the parsers they are generated from.
// - Each committed file is what its generator prints now (regenerate: bin/vigild config schema
//   vigild|rules > docs/schemas/..., bin/vigil-forward --schema > docs/schemas/forward.schema.json).
// - Every shipped config and rule file (deploy/, the docs' examples, rules/) validates, checked by
//   ajv, an independent draft 2020-12 validator; broken copies of them do not.
// - Schema and parser give the same answer on a table of good and bad documents for each file kind,
//   so a rule the parser holds that the schema misses (or the reverse) shows up here.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { schemaText, type JsonSchema } from '../common/json-schema.js';
import { configSchema as forwardSchema, parseConfig as parseForward } from '../clients/forwarder/config.js';
import { configSchema as vigildSchema, parseConfig as parseVigild } from '../daemon/config.js';
import { compileRuleFiles } from '../daemon/detect/loader.js';
import { rulesSchema } from '../daemon/detect/schema.js';

const REPO = join(import.meta.dirname, '../../..');
const read = (p: string): string => readFileSync(join(REPO, p), 'utf8');

type Kind = 'vigild' | 'forward' | 'rules';
const GENERATED: Record<Kind, () => JsonSchema> = { vigild: vigildSchema, forward: forwardSchema, rules: rulesSchema };

// Strict, but if/then branches name keys (required, properties) that the enclosing object defines,
// which strictRequired and strictTypes count as undefined there.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
const validators = Object.fromEntries(
  (Object.keys(GENERATED) as Kind[]).map((k) => [k, ajv.compile(JSON.parse(read(`docs/schemas/${k}.schema.json`)) as object)]),
) as Record<Kind, ReturnType<typeof ajv.compile>>;

/** The schema's errors for a YAML text, as one line; '' when it validates. */
function schemaErrors(kind: Kind, text: string): string {
  const v = validators[kind];
  return v(parseYaml(text) ?? null) ? '' : ajv.errorsText(v.errors);
}

/** The parser's error for a YAML text; '' when it accepts it. */
function parserError(kind: Kind, text: string): string {
  try {
    if (kind === 'vigild') parseVigild(text, 'x.yaml');
    else if (kind === 'forward') parseForward(text, 'x.yaml');
    else {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-schema-'));
      try {
        writeFileSync(join(dir, 'x.yaml'), text);
        compileRuleFiles([dir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('docs/schemas are generated from the parsers', () => {
  for (const kind of Object.keys(GENERATED) as Kind[]) {
    test(`docs/schemas/${kind}.schema.json is the generated one`, () => {
      assert.equal(
        read(`docs/schemas/${kind}.schema.json`),
        schemaText(GENERATED[kind]()),
        `regenerate docs/schemas/${kind}.schema.json (see the head of test/schemas.test.ts)`,
      );
    });
  }

  test('every key the vigild parser knows is in the schema with a description', () => {
    const walk = (s: JsonSchema, path: string, out: string[]): void => {
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
        assert.ok(typeof v.description === 'string' && v.description.length > 0, `${path}${k} has no description`);
        const inner = (v.type === 'array' ? v.items : v) as JsonSchema;
        if (inner.properties) walk(inner, `${path}${k}${v.type === 'array' ? '[]' : ''}.`, out);
        else out.push(`${path}${k}`);
      }
    };
    const keys: string[] = [];
    walk(vigildSchema(), '', keys);
    // The same walk as test/config-doc.test.ts does over the parser: every documented key is here.
    const doc = read('docs/config.md');
    const documented = [...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!).filter((k) => /^[a-z_]/.test(k) && !k.startsWith('--'));
    assert.deepEqual(
      keys.filter((k) => !documented.includes(k)),
      [],
      'schema keys missing from docs/config.md',
    );
    assert.deepEqual(
      documented.filter((k) => !keys.includes(k)),
      [],
      'docs/config.md keys missing from the schema',
    );
  });

  test('each default the schema states is the built-in default', () => {
    const defaults: Array<[string[], unknown]> = [];
    const walk = (s: JsonSchema, path: string[]): void => {
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
        if (v.type === 'object') walk(v, [...path, k]);
        else if (v.default !== undefined) defaults.push([[...path, k], v.default]);
      }
    };
    walk(vigildSchema(), []);
    assert.ok(defaults.length >= 20, `only ${defaults.length} defaults`);
    const base = parseVigild('', 'x.yaml');
    for (const [path, value] of defaults) {
      const doc = path.reduceRight<unknown>((inner, k) => ({ [k]: inner }), value);
      assert.deepEqual(
        parseVigild(JSON.stringify(doc), 'x.yaml'),
        base,
        `${path.join('.')}: the schema's default ${JSON.stringify(value)} is not the built-in one`,
      );
    }
  });
});

// ---- the shipped examples ------------------------------------------------------------------------

/** The ```yaml blocks of a markdown file, in order. */
function yamlBlocks(file: string): string[] {
  return [...read(file).matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/** A ConfigMap's data keys, from a multi-document YAML file. */
function configMapData(file: string, name: string): Record<string, string> {
  for (const d of parseAllDocuments(read(file))) {
    const o = d.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> };
    if (o?.kind === 'ConfigMap' && o.metadata?.name === name) return o.data ?? {};
  }
  throw new Error(`${file}: no ConfigMap ${name}`);
}

// What each ```yaml block of the docs is. A new block must be added here: an unlisted block fails.
// 'forward-part': a piece of forward.yaml shown alone; a placeholder sink is added where it has none.
const DOC_BLOCKS: Record<string, Array<Kind | 'forward-part' | 'other'>> = {
  'docs/config.md': ['vigild'],
  'docs/api.md': ['vigild'],
  'docs/tuning.md': ['rules', 'vigild'],
  'docs/rules.md': ['rules', 'rules', 'rules'],
  'docs/forwarder.md': ['forward', 'forward-part', 'forward-part', 'forward-part', 'forward-part', 'forward-part', 'forward-part', 'forward-part'],
  'clients/forwarder/README.md': ['forward'],
  'docs/falco.md': ['vigild', 'forward'],
  // A Prometheus scrape job, not a vigil file.
  'deploy/README.md': ['other'],
};

function shipped(): Array<{ where: string; kind: Kind; text: string }> {
  const out: Array<{ where: string; kind: Kind; text: string }> = [
    { where: 'deploy/systemd/vigild.yaml', kind: 'vigild', text: read('deploy/systemd/vigild.yaml') },
    { where: 'deploy/systemd/forward.yaml', kind: 'forward', text: read('deploy/systemd/forward.yaml') },
    { where: 'vigil-config/vigild.yaml', kind: 'vigild', text: configMapData('deploy/kubernetes/configmap.yaml', 'vigil-config')['vigild.yaml']! },
    {
      where: 'vigil-forward/forward.yaml',
      kind: 'forward',
      text: configMapData('deploy/kubernetes/components/forwarder/forward-config.yaml', 'vigil-forward')['forward.yaml']!,
    },
  ];
  for (const [k, v] of Object.entries(configMapData('deploy/kubernetes/configmap.yaml', 'vigil-rules')))
    out.push({ where: `vigil-rules/${k}`, kind: 'rules', text: v });
  for (const f of readdirSync(join(REPO, 'rules')).filter((f) => f.endsWith('.yaml')))
    out.push({ where: `rules/${f}`, kind: 'rules', text: read(`rules/${f}`) });
  for (const f of readdirSync(join(REPO, 'test/fixtures/rules/good')))
    out.push({ where: `test/fixtures/rules/good/${f}`, kind: 'rules', text: read(`test/fixtures/rules/good/${f}`) });
  for (const [file, kinds] of Object.entries(DOC_BLOCKS)) {
    const blocks = yamlBlocks(file);
    assert.equal(blocks.length, kinds.length, `${file} has ${blocks.length} yaml blocks; say what each is in DOC_BLOCKS (test/schemas.test.ts)`);
    blocks.forEach((text, i) => {
      const kind = kinds[i]!;
      if (kind === 'other') return;
      if (kind === 'forward-part') {
        const doc = parseYaml(text) as Record<string, unknown>;
        doc.sinks ??= [{ type: 'webhook', url: 'https://example.com' }];
        out.push({ where: `${file} block ${i + 1}`, kind: 'forward', text: JSON.stringify(doc) });
      } else out.push({ where: `${file} block ${i + 1}`, kind, text });
    });
  }
  return out;
}

describe('the shipped configs and rule files validate against the schemas', () => {
  test('every example validates', () => {
    const all = shipped();
    assert.ok(all.length >= 25, `only ${all.length} examples found`);
    for (const { where, kind, text } of all) assert.equal(schemaErrors(kind, text), '', `${where} (${kind})`);
  });

  test('the standalone example configs also pass their parsers', () => {
    for (const { where, kind, text } of shipped().filter((e) => e.where.startsWith('deploy/systemd/'))) assert.equal(parserError(kind, text), '', where);
    assert.equal(parserError('rules', read('docs/rules.md').match(/^```yaml\n([\s\S]*?)^```/m)![1]!), '', 'docs/rules.md block 1');
  });

  // Broken copies of shipped files: one change each, which the schema must refuse.
  const broken: Array<[string, Kind, string, (t: string) => string]> = [
    ['misspelt key', 'vigild', 'deploy/systemd/vigild.yaml', (t) => t.replace('log_level:', 'log_levl:')],
    ['bad listen', 'vigild', 'deploy/systemd/vigild.yaml', (t) => t.replace('listen: 127.0.0.1:9470', 'listen: 127.0.0.1')],
    ['relative socket', 'vigild', 'deploy/systemd/vigild.yaml', (t) => t.replace('socket: /run/vigil/vigil.sock', 'socket: vigil.sock')],
    ['unknown sink type', 'forward', 'deploy/systemd/forward.yaml', (t) => t.replace('type: syslog', 'type: kafka')],
    ['key of another sink type', 'forward', 'deploy/systemd/forward.yaml', (t) => t.replace('format: rfc5424', 'url: http://x')],
    ['bad severity in a filter', 'forward', 'deploy/systemd/forward.yaml', (t) => t.replace('min_severity: warning', 'min_severity: loud')],
    ['unknown rule key', 'rules', 'rules/escape.yaml', (t) => t.replace('  desc: ', '  descr: ')],
    ['bad severity', 'rules', 'rules/escape.yaml', (t) => t.replace(/severity: critical/, 'severity: dire')],
    ['window on an event rule', 'rules', 'rules/escape.yaml', (t) => t.replace(/severity: critical/, 'severity: critical\n  window: 10s')],
  ];
  for (const [name, kind, file, mutate] of broken) {
    test(`a broken ${file} is refused: ${name}`, () => {
      const text = mutate(read(file));
      assert.notEqual(text, read(file), 'the mutation changed nothing');
      assert.notEqual(schemaErrors(kind, text), '', 'the schema accepted it');
      assert.notEqual(parserError(kind, text), '', 'the parser accepted it');
    });
  }
});

// ---- schema and parser agree ---------------------------------------------------------------------

const SINK = 'sinks: [{type: webhook, url: "https://h.example"}]';
const RULE = (extra: string): string => `- rule: r\n  condition: evt.kind = exec\n  output: x\n  severity: warning\n${extra}`;
const AGREE: Array<[Kind, string, boolean]> = [
  ['vigild', '', true],
  ['vigild', 'data_dir: /srv/v\nlog_level: debug', true],
  ['vigild', 'log_level: loud', false],
  ['vigild', 'data_dir: 5', false],
  ['vigild', 'frobnicate: 1', false],
  ['vigild', '- a', false],
  ['vigild', 'metrics: {interval: 10s, retention: {raw: 1.5h, 1m: 3d}}', true],
  ['vigild', 'metrics: {interval: 0s}', false],
  ['vigild', 'metrics: {interval: 5}', false],
  ['vigild', 'metrics: {interval: soon}', false],
  ['vigild', 'metrics:', false],
  ['vigild', 'sensor: {ring_buffer_size: 16MiB}', true],
  ['vigild', 'sensor: {ring_buffer_size: 4k}', true],
  ['vigild', 'sensor: {ring_buffer_size: 4096}', true],
  ['vigild', 'sensor: {ring_buffer_size: "2gib"}', true],
  ['vigild', 'sensor: {ring_buffer_size: 3MiB}', false],
  ['vigild', 'sensor: {ring_buffer_size: 2k}', false],
  ['vigild', 'sensor: {ring_buffer_size: 4GiB}', false],
  ['vigild', 'sensor: {ring_buffer_size: 16MB}', false],
  ['vigild', 'sensor: {connect_inet: "yes"}', false],
  ['vigild', 'sensor: {watches: [a, 1]}', false],
  ['vigild', 'http: {listen: "[::1]:9999"}', true],
  ['vigild', 'http: {listen: nowhere}', false],
  ['vigild', 'http: {listen: "h:65536"}', false],
  ['vigild', 'http: {listen: "h:65535"}', true],
  ['vigild', 'http: {auth: none}', true],
  ['vigild', 'http: {auth: none, listen: "localhost:1"}', true],
  ['vigild', 'http: {auth: none, listen: "0.0.0.0:9470"}', false],
  ['vigild', 'http: {auth: maybe}', false],
  ['vigild', 'containers: {patterns: [{runtime: docker, regex: x}]}', true],
  ['vigild', 'containers: {patterns: [{runtime: rkt, regex: x}]}', false],
  ['vigild', 'containers: {patterns: [{runtime: docker}]}', false],
  ['vigild', 'alerts: {rate_per_minute: 0}', false],
  ['vigild', 'alerts: {rate_per_minute: 1.5}', false],
  ['vigild', 'api: {socket: ""}', true],
  ['vigild', 'api: {socket: rel.sock}', false],
  ['vigild', 'api: {socket_group: 2470}', true],
  ['vigild', 'api: {socket_group: "vigil"}', true],
  ['vigild', 'api: {socket_group: 1.5}', false],
  ['vigild', 'api: {socket_group: "a b"}', false],
  ['vigild', 'api: {listen: "0.0.0.0:9471"}', false],
  ['vigild', 'api: {listen: "127.0.0.1:9471", insecure: true}', true],
  ['vigild', 'api: {listen: "0.0.0.0:9471", insecure: true}', false],
  ['vigild', 'api: {listen: "0.0.0.0:9471", tls: {cert: a, key: b}}', false],
  ['vigild', 'api: {listen: "0.0.0.0:9471", tls: {cert: a, key: b}, token_file: t}', true],
  ['vigild', 'api: {tls: {cert: a}}', false],
  ['vigild', 'api: {max_subscribers: 10001}', false],
  ['vigild', 'responses: {webhooks: [{url: "https://h/x", timeout: 5s, headers: {A: b}}]}', true],
  ['vigild', 'responses: {webhooks: [{url: "ftp://h/x"}]}', false],
  ['vigild', 'responses: {webhooks: [{timeout: 5s}]}', false],
  ['vigild', 'responses: {webhooks: [{url: "https://h", headers: {A: 1}}]}', false],
  ['vigild', 'responses: {enforce: {enabled: true, syscalls: [init_module]}}', true],

  ['forward', SINK, true],
  ['forward', '', false],
  ['forward', 'sinks: []', false],
  ['forward', `daemon: {address: "h:1", token: t, insecure: true}\n${SINK}`, true],
  ['forward', `daemon: {token: t, token_file: /f}\n${SINK}`, false],
  ['forward', `daemon: {adress: x}\n${SINK}`, false],
  ['forward', `daemon:\nhostname:\n${SINK}`, true],
  ['forward', `shutdown_timeout_ms: -1\n${SINK}`, false],
  ['forward', 'sinks: [{type: kafka}]', false],
  ['forward', 'sinks: [{url: "https://h"}]', false],
  ['forward', 'sinks: [{type: syslog, host: h, transport: tls, port: 6514, facility: AUTH, sd_id: "a@1"}]', true],
  ['forward', 'sinks: [{type: syslog, host: h, facility: 23}]', true],
  ['forward', 'sinks: [{type: syslog, host: h, facility: "016"}]', true],
  ['forward', 'sinks: [{type: syslog, host: h, facility: 24}]', false],
  ['forward', 'sinks: [{type: syslog, host: h, facility: mars}]', false],
  ['forward', 'sinks: [{type: syslog, host: h, sd_id: "a=b"}]', false],
  ['forward', 'sinks: [{type: syslog}]', false],
  ['forward', 'sinks: [{type: syslog, host: h, transport: sctp}]', false],
  ['forward', 'sinks: [{type: syslog, host: h, port: 0}]', false],
  ['forward', 'sinks: [{type: syslog, host: ""}]', false],
  ['forward', 'sinks: [{type: hec, url: "https://h", token: t}]', true],
  ['forward', 'sinks: [{type: hec, url: "https://h"}]', false],
  ['forward', 'sinks: [{type: hec, url: "ftp://h", token: t}]', false],
  ['forward', 'sinks: [{type: bulk, url: "http://h", auth: {api_key: k}}]', true],
  ['forward', 'sinks: [{type: bulk, url: "http://h", auth: {username: u, bearer: b}}]', false],
  ['forward', 'sinks: [{type: bulk, url: "http://h", index: Bad}]', false],
  ['forward', 'sinks: [{type: bulk, url: "http://h", index: "a b"}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", headers: {A: 1}}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", color: red}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", alerts: false}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", alerts: false, events: true}]', true],
  ['forward', 'sinks: [{type: webhook, url: "https://h", name: "a b"}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", batch: {max_items: 0}}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", batch:, queue: {max_items: 5}, retry: {initial_ms: 1}}]', true],
  ['forward', 'sinks: [{type: webhook, url: "https://h", filter: {allow: [{kinds: [exec], min_severity: error, container_ids: [host, abcd]}]}}]', true],
  ['forward', 'sinks: [{type: webhook, url: "https://h", filter: {allow: [{kinds: [exek]}]}}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", filter: {deny: [{container_ids: [ab]}]}}]', false],
  ['forward', 'sinks: [{type: webhook, url: "https://h", filter: {deny: [{colour: [x]}]}}]', false],
  ['forward', 'sinks: [{type: nats, servers: "nats://a:4222", subject: "vigil.{host}.{rule}"}]', true],
  ['forward', 'sinks: [{type: nats, servers: []}]', false],
  ['forward', 'sinks: [{type: nats, servers: n, subject: "a.{pod}"}]', false],
  ['forward', 'sinks: [{type: nats, servers: n, subject: "a.>"}]', false],
  ['forward', 'sinks: [{type: nats, servers: n, subject: "a..b"}]', false],
  ['forward', 'sinks: [{type: nats, servers: n, create_stream: true}]', false],
  ['forward', 'sinks: [{type: nats, servers: n, create_stream: true, stream: S}]', true],

  ['rules', '', true],
  ['rules', RULE(''), true],
  ['rules', RULE('  severity: WARNING\n').replace('  severity: warning\n', ''), true],
  ['rules', RULE('  tags: [a]\n  actions: [notify]\n  enabled: false\n'), true],
  ['rules', RULE('  actions: [explode]\n'), false],
  ['rules', RULE('  colour: red\n'), false],
  ['rules', RULE('  window: 10s\n'), false],
  ['rules', RULE('  type: weird\n'), false],
  ['rules', RULE('  type: threshold\n  window: 10s\n  count: 5\n  by: proc.name\n'), true],
  ['rules', RULE('  type: threshold\n  window: 10s\n  count: 0\n'), false],
  ['rules', RULE('  type: threshold\n  window: 0s\n  count: 3\n'), false],
  ['rules', RULE('  type: threshold\n  window: 10s\n  count: 3\n  for: 5s\n'), false],
  [
    'rules',
    '- rule: s\n  type: sequence\n  window: 10s\n  by: container\n  severity: notice\n  steps:\n    - condition: evt.kind = exec\n    - condition: evt.kind = file\n',
    true,
  ],
  [
    'rules',
    '- rule: s\n  type: sequence\n  window: 10s\n  by: pod\n  severity: notice\n  steps:\n    - condition: evt.kind = exec\n    - condition: evt.kind = file\n',
    false,
  ],
  ['rules', '- rule: s\n  type: sequence\n  window: 10s\n  severity: notice\n  steps:\n    - condition: evt.kind = exec\n', false],
  [
    'rules',
    '- rule: s\n  type: sequence\n  window: 10s\n  severity: notice\n  steps:\n    - condition: evt.kind = exec\n      when: now\n    - condition: evt.kind = file\n',
    false,
  ],
  ['rules', '- rule: m\n  type: metric\n  condition: metric.pids_current > 5\n  for: 0s\n  severity: warning\n', true],
  ['rules', RULE('  exceptions:\n    - name: e\n      fields: [proc.name]\n      comps: [in]\n      values: [[[sh, bash]]]\n'), true],
  ['rules', RULE('  exceptions:\n    - name: e\n      field: proc.name\n'), false],
  ['rules', '- macro: m\n  condition: evt.kind = exec\n- list: l\n  items: [a, 1]\n', true],
  ['rules', '- macro: m\n  items: [a]\n', false],
  ['rules', '- list: l\n  items: [a]\n- list: l\n  items: [b]\n  append: true\n', true],
  ['rules', '- list: l\n  items: [a]\n- list: l\n  items: [b]\n  append: true\n  override: {items: append}\n', false],
  ['rules', '- list: l\n  items: [a]\n  append: maybe\n', false],
  ['rules', `${RULE('')}- rule: r\n  tags: [b]\n  override: {tags: replace}\n`, true],
  ['rules', `${RULE('')}- rule: r\n  tags: [b]\n  override: {tags: merge}\n`, false],
  ['rules', '- required_engine_version: 10\n', true],
  ['rules', '- something: else\n', false],
  ['rules', 'rule: r\n', false],
  ['rules', '- rule: ""\n  severity: warning\n', false],
];

describe('the schemas and the parsers agree on good and bad documents', () => {
  for (const [kind, text, good] of AGREE) {
    test(`${kind}: ${good ? 'accepts' : 'refuses'} ${JSON.stringify(text)}`, () => {
      const p = parserError(kind, text);
      const s = schemaErrors(kind, text);
      assert.equal(p === '', good, `the parser ${p ? `refuses it: ${p}` : 'accepts it'}`);
      assert.equal(s === '', good, `the schema ${s ? `refuses it: ${s}` : 'accepts it'}`);
    });
  }
});
