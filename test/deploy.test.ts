// The Kubernetes manifests (deploy/kubernetes), checked without a cluster and without kubectl:
//
// - every YAML document is parsed as Kubernetes parses it (YAML 1.1: `0400` is octal) and validated
//   by kind against the official OpenAPI schemas (kubernetes-models: Ajv over the Kubernetes
//   OpenAPI definitions; @kubernetes-models/prometheus-operator for the ServiceMonitor). A kind
//   without a schema is an error, not a pass.
// - unknown fields, which the API server refuses under kubectl's strict field validation but the
//   JSON schemas let through, are found by type-checking each object against the same library's
//   TypeScript interfaces (excess property checks).
// - what kustomize would build is rebuilt from kustomization.yaml: the listed resources, the
//   generated Secret, and each component (the forwarder's RFC 6902 patch applied with
//   fast-json-patch); the results are validated again.
// - references across objects and files: the ServiceAccount, ConfigMaps, Secret keys and paths the
//   DaemonSet uses exist; the Service selects the pods and names their metrics port; the
//   ServiceMonitor selects the Service; the daemon and forwarder configs in the ConfigMaps parse
//   with the programs' own parsers and agree with the pod (listen port, socket, group, state
//   paths); the local rules load with the rule engine; the capabilities match the systemd unit's.
// Deliberately broken inputs show each check can fail.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import jsonpatch from 'fast-json-patch';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { parseConfig as parseForwarderConfig } from '../clients/forwarder/config.js';
import { parseConfig } from '../daemon/config.js';
import { isLoopback, splitListen } from '../common/listen.js';
import { RuleSet } from '../daemon/detect/ruleset.js';

/** This file runs as dist/js/test/deploy.test.js. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const K8S = join(ROOT, 'deploy/kubernetes');

type Obj = Record<string, unknown>;
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface Located {
  obj: Manifest;
  where: string;
}

/** apiVersion/kind -> the library's model (validation) and interface (unknown fields). */
const KINDS: Record<string, { validate: (o: Obj) => void; iface: [string, string] }> = {
  'v1/Namespace': { validate: (o) => new Namespace(o as never).validate(), iface: ['kubernetes-models/v1/Namespace', 'INamespace'] },
  'v1/ServiceAccount': { validate: (o) => new ServiceAccount(o as never).validate(), iface: ['kubernetes-models/v1/ServiceAccount', 'IServiceAccount'] },
  'v1/ConfigMap': { validate: (o) => new ConfigMap(o as never).validate(), iface: ['kubernetes-models/v1/ConfigMap', 'IConfigMap'] },
  'v1/Secret': { validate: (o) => new Secret(o as never).validate(), iface: ['kubernetes-models/v1/Secret', 'ISecret'] },
  'v1/Service': { validate: (o) => new Service(o as never).validate(), iface: ['kubernetes-models/v1/Service', 'IService'] },
  'apps/v1/DaemonSet': { validate: (o) => new DaemonSet(o as never).validate(), iface: ['kubernetes-models/apps/v1/DaemonSet', 'IDaemonSet'] },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    validate: (o) => new ServiceMonitor(o as never).validate(),
    iface: ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'],
  },
};

function kindKey(o: Obj): string {
  return `${String(o.apiVersion)}/${String(o.kind)}`;
}

/** Schema validation of one object; throws with the kind and the schema's message. */
function validateSchema(o: Obj, where: string): void {
  const k = KINDS[kindKey(o)];
  if (!k) throw new Error(`${where}: no schema for ${kindKey(o)} (a kind the deployment does not know)`);
  try {
    k.validate(o);
  } catch (err) {
    throw new Error(`${where}: ${kindKey(o)} is invalid: ${(err as Error).message}`);
  }
}

/**
 * Unknown fields: each object becomes a typed constant in a generated module, type-checked with the
 * compiler; an excess property (a misspelt key) is an error that names the property. Returns the
 * messages, each with the object it is in.
 */
function unknownFields(objs: readonly Located[]): string[] {
  const imports = new Map<string, string>();
  const lines = objs.map((l, i) => {
    const k = KINDS[kindKey(l.obj)];
    if (!k) return `export const m${i} = null; // ${kindKey(l.obj)}`;
    imports.set(k.iface[1], k.iface[0]);
    return `export const m${i}: ${k.iface[1]} = ${JSON.stringify(l.obj)};`;
  });
  const head = [...imports].map(([name, from]) => `import type { ${name} } from '${from}';`);
  const source = [...head, ...lines].join('\n');
  const file = join(K8S, '__manifests__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest));
  host.fileExists = (f) => f === file || fileExists(f);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 400);
    if (d.file?.fileName !== file || d.start === undefined) return `${d.file?.fileName ?? ''}: ${text}`;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line - head.length;
    const o = objs[line];
    return `${o ? `${o.where} (${o.obj.kind} ${o.obj.metadata?.name})` : `line ${line}`}: ${text}`;
  });
}

/** Every YAML document of a file, parsed with Kubernetes' YAML 1.1 rules; a syntax error names its line. */
function readYaml(file: string): unknown[] {
  const rel = relative(ROOT, file);
  return parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1', prettyErrors: true }).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${rel}: ${doc.errors[0]!.message}`);
    const v: unknown = doc.toJS();
    if (v === null) throw new Error(`${rel}: document ${i + 1} is empty`);
    return v;
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e) ? [p] : [];
  });
}

interface Kustomization {
  kind: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: Array<{ path: string; target: { group?: string; version?: string; kind: string; name: string } }>;
  secretGenerator?: Array<{ name: string; files: string[]; options?: { disableNameSuffixHash?: boolean } }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
}

function readKustomization(dir: string): Kustomization {
  const [k] = readYaml(join(dir, 'kustomization.yaml')) as [Kustomization];
  return k;
}

/** What `kustomize build` makes of deploy/kubernetes, plus the given components (by folder). */
function build(components: readonly string[] = []): Located[] {
  const base = readKustomization(K8S);
  assert.equal(base.kind, 'Kustomization');
  const out: Located[] = [];
  for (const r of base.resources ?? []) {
    readYaml(join(K8S, r)).forEach((o, i) => {
      const m = structuredClone(o) as Manifest;
      if (base.namespace && m.kind !== 'Namespace') m.metadata.namespace = base.namespace;
      out.push({ obj: m, where: `${r}#${i + 1}` });
    });
  }
  // The generator's files are the operator's (the token is never committed): a stand-in value of
  // the right shape is generated here; the name and keys are what the checks need.
  for (const g of base.secretGenerator ?? []) {
    assert.equal(g.options?.disableNameSuffixHash, true, `${g.name}: a hashed name would break the ServiceMonitor's reference`);
    const data = Object.fromEntries(g.files.map((f) => [f.split('=')[0]!, Buffer.from('x'.repeat(44)).toString('base64')]));
    out.push({
      obj: { apiVersion: 'v1', kind: 'Secret', metadata: { name: g.name, ...(base.namespace ? { namespace: base.namespace } : {}) }, type: 'Opaque', data },
      where: `kustomization.yaml secretGenerator ${g.name}`,
    });
  }
  for (const c of components) {
    const dir = join(K8S, c);
    const comp = readKustomization(dir);
    assert.equal(comp.kind, 'Component', `${c}/kustomization.yaml is not a Component`);
    for (const r of comp.resources ?? []) readYaml(join(dir, r)).forEach((o, i) => out.push({ obj: o as Manifest, where: `${c}/${r}#${i + 1}` }));
    for (const p of comp.patches ?? []) {
      const target = out.find((l) => l.obj.kind === p.target.kind && l.obj.metadata.name === p.target.name);
      assert.ok(target, `${c}: patch target ${p.target.kind}/${p.target.name} does not exist`);
      const [ops] = readYaml(join(dir, p.path)) as [jsonpatch.Operation[]];
      assert.ok(Array.isArray(ops), `${c}/${p.path} is not a JSON patch (a list of operations)`);
      target.obj = jsonpatch.applyPatch(structuredClone(target.obj), ops, true).newDocument;
      target.where += ` + ${c}/${p.path}`;
    }
  }
  return out;
}

function find(objs: readonly Located[], kind: string, name: string): Manifest {
  const l = objs.find((x) => x.obj.kind === kind && x.obj.metadata.name === name);
  assert.ok(l, `no ${kind} named ${name}`);
  return l.obj;
}

function all(objs: readonly Located[], kind: string): Manifest[] {
  return objs.filter((x) => x.obj.kind === kind).map((x) => x.obj);
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: { runAsUser?: number; capabilities?: { add?: string[]; drop?: string[] } };
  startupProbe?: { exec?: { command: string[] } };
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: { exec?: { command: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  hostPath?: { path: string };
  emptyDir?: Obj;
}
interface PodSpec {
  serviceAccountName?: string;
  hostPID?: boolean;
  securityContext?: { supplementalGroups?: number[] };
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}

function podOf(ds: Manifest): { labels: Record<string, string>; spec: PodSpec; selector: Record<string, string> } {
  const spec = ds.spec as { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
  return { labels: spec.template.metadata.labels, spec: spec.template.spec, selector: spec.selector.matchLabels };
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The volume and the key behind a file path in a container: configMap and secret keys, host paths. */
function resolveFile(pod: PodSpec, c: Container, path: string): { volume: Volume; rest: string } {
  const mount = (c.volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  assert.ok(mount, `${c.name}: nothing is mounted where ${path} is`);
  const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume, `${c.name}: volumeMount ${mount.name} has no volume`);
  return { volume, rest: path.slice(mount.mountPath.length).replace(/^\//, '') };
}

function configMapKey(objs: readonly Located[], pod: PodSpec, c: Container, path: string): string {
  const { volume, rest } = resolveFile(pod, c, path);
  assert.ok(volume.configMap, `${path} is not in a ConfigMap volume`);
  const data = (find(objs, 'ConfigMap', volume.configMap.name).data ?? {}) as Record<string, string>;
  assert.ok(rest in data, `ConfigMap ${volume.configMap.name} has no key ${rest} (for ${path})`);
  return data[rest]!;
}

function unitCapabilities(): string[] {
  const unit = readFileSync(join(ROOT, 'deploy/systemd/vigild.service'), 'utf8');
  const m = /^CapabilityBoundingSet=(.+)$/m.exec(unit);
  assert.ok(m, 'vigild.service has no CapabilityBoundingSet');
  return m[1]!
    .trim()
    .split(/\s+/)
    .map((c) => c.replace(/^CAP_/, ''));
}

const COMPONENTS = ['components/servicemonitor', 'components/forwarder'];

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  test('every YAML file is a listed resource, a kustomization, or a listed patch (nothing is left out)', () => {
    const listed = new Set<string>([join(K8S, 'kustomization.yaml')]);
    const base = readKustomization(K8S);
    for (const r of base.resources ?? []) listed.add(join(K8S, r));
    for (const c of COMPONENTS) {
      const comp = readKustomization(join(K8S, c));
      listed.add(join(K8S, c, 'kustomization.yaml'));
      for (const r of comp.resources ?? []) listed.add(join(K8S, c, r));
      for (const p of comp.patches ?? []) listed.add(join(K8S, c, p.path));
    }
    const present = yamlFiles(K8S);
    assert.deepEqual(
      present.filter((f) => !listed.has(f)).map((f) => relative(K8S, f)),
      [],
      'YAML files no kustomization uses',
    );
    assert.deepEqual(
      [...listed].filter((f) => !present.includes(f)).map((f) => relative(K8S, f)),
      [],
      'files the kustomizations name but do not exist',
    );
    const compDirs = readdirSync(join(K8S, 'components'))
      .map((d) => `components/${d}`)
      .sort();
    assert.deepEqual(compDirs, [...COMPONENTS].sort(), 'components this test does not build');
  });

  for (const [name, comps] of [
    ['the base', []],
    ['the base with every component', COMPONENTS],
  ] as const) {
    test(`${name}: every object is valid against its kind's OpenAPI schema and has no unknown field`, () => {
      const objs = build(comps);
      for (const l of objs) validateSchema(l.obj, l.where);
      assert.deepEqual(unknownFields(objs), []);
      const kinds = objs.map((l) => l.obj.kind).sort();
      assert.deepEqual(
        [...new Set(kinds)],
        comps.length
          ? ['ConfigMap', 'DaemonSet', 'Namespace', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor']
          : ['ConfigMap', 'DaemonSet', 'Namespace', 'Secret', 'Service', 'ServiceAccount'],
      );
    });
  }

  test('the checks reject an unknown kind, a malformed DaemonSet and a misspelt field', () => {
    const objs = build(COMPONENTS);
    const ds = find(objs, 'DaemonSet', 'vigil');
    assert.throws(() => validateSchema({ ...ds, kind: 'DaemonSett' }, 'test'), /no schema for apps\/v1\/DaemonSett/);
    assert.throws(
      () => validateSchema({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, 'test'),
      /no schema for example.com\/v1\/Widget/,
    );
    const broken = structuredClone(ds) as Manifest & { spec: { template: { spec: { containers: unknown } } } };
    broken.spec.template.spec.containers = 'vigild';
    assert.throws(() => validateSchema(broken, 'test'), /containers must be array/);
    const noSelector = structuredClone(ds) as Manifest & { spec: { selector?: unknown } };
    delete noSelector.spec.selector;
    assert.throws(() => validateSchema(noSelector, 'test'), /must have required property selector/);
    const typo = structuredClone(ds);
    // readonly for readOnly: the API server refuses it (strict field validation); left unchecked,
    // the mount would silently be writable.
    const mounts = podOf(typo).spec.containers[0]!.volumeMounts as unknown as Obj[];
    mounts[0] = { name: 'config', mountPath: '/etc/vigil/config', readonly: true };
    validateSchema(typo, 'test'); // the JSON schemas let unknown fields through ...
    const errors = unknownFields([{ obj: typo, where: 'test' }]);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /'"readonly"' does not exist in type/); // ... the types do not
  });

  test('references: account, ConfigMaps, Secret, volumes, selectors and the metrics port agree', () => {
    for (const comps of [[], COMPONENTS]) {
      const objs = build(comps);
      const ds = find(objs, 'DaemonSet', 'vigil');
      const pod = podOf(ds);
      assert.ok(selects(pod.selector, pod.labels), 'the DaemonSet selector does not match its pod labels');
      find(objs, 'ServiceAccount', pod.spec.serviceAccountName ?? 'default');
      const namespaces = new Set(all(objs, 'Namespace').map((n) => n.metadata.name));
      for (const l of objs)
        if (l.obj.kind !== 'Namespace')
          assert.ok(namespaces.has(l.obj.metadata.namespace ?? ''), `${l.where}: namespace ${l.obj.metadata.namespace} is not created here`);
      const volumes = pod.spec.volumes ?? [];
      const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
      for (const v of volumes) {
        if (v.configMap) find(objs, 'ConfigMap', v.configMap.name);
        if (v.secret) find(objs, 'Secret', v.secret.secretName);
        assert.ok(
          containers.some((c) => (c.volumeMounts ?? []).some((m) => m.name === v.name)),
          `volume ${v.name} is mounted by no container`,
        );
      }
      for (const c of containers) {
        for (const m of c.volumeMounts ?? [])
          assert.ok(
            volumes.some((v) => v.name === m.name),
            `${c.name}: volumeMount ${m.name} has no volume`,
          );
        // kustomization.yaml's images: rewrites only the images it names.
        const images = (readKustomization(K8S).images ?? []).map((i) => i.name);
        assert.ok(images.includes(c.image.split(':')[0]!), `${c.name}: image ${c.image} is not in kustomization.yaml images`);
      }
      const vigild = pod.spec.containers.find((c) => c.name === 'vigild');
      assert.ok(vigild, 'no vigild container');
      const svc = find(objs, 'Service', 'vigil-metrics');
      const sspec = svc.spec as {
        clusterIP?: string;
        selector: Record<string, string>;
        ports: Array<{ name: string; port: number; targetPort: string | number }>;
      };
      assert.equal(sspec.clusterIP, 'None', 'the metrics Service is headless (one endpoint per node)');
      assert.ok(selects(sspec.selector, pod.labels), 'the Service does not select the DaemonSet pods');
      const metrics = sspec.ports.find((p) => p.name === 'metrics');
      assert.ok(metrics, 'the Service has no port named metrics');
      const cport = (vigild.ports ?? []).find((p) => p.name === metrics.targetPort);
      assert.ok(cport, `the Service's targetPort ${metrics.targetPort} is not a named port of vigild`);
      assert.equal(metrics.port, cport.containerPort);
      for (const sm of all(objs, 'ServiceMonitor')) {
        const smspec = sm.spec as {
          selector: { matchLabels: Record<string, string> };
          namespaceSelector?: { matchNames?: string[] };
          endpoints: Array<{ port: string; authorization?: { credentials?: { name: string; key: string } } }>;
        };
        assert.ok(selects(smspec.selector.matchLabels, svc.metadata.labels), 'the ServiceMonitor does not select the Service');
        assert.ok(smspec.namespaceSelector?.matchNames?.includes(svc.metadata.namespace!), 'the ServiceMonitor does not look in the Service namespace');
        for (const ep of smspec.endpoints) {
          assert.equal(ep.port, 'metrics');
          const cred = ep.authorization?.credentials;
          assert.ok(cred, 'the ServiceMonitor sends no token, but /metrics needs one off loopback');
          const secret = find(objs, 'Secret', cred.name);
          assert.equal(secret.metadata.namespace, sm.metadata.namespace, 'the token Secret must be in the ServiceMonitor namespace');
          assert.ok(cred.key in (secret.data as Obj), `Secret ${cred.name} has no key ${cred.key}`);
        }
      }
    }
  });

  test('vigild: its config parses and agrees with the pod (listener, token, socket, group, data); probes and capabilities', () => {
    const objs = build(COMPONENTS);
    const pod = podOf(find(objs, 'DaemonSet', 'vigil'));
    const c = pod.spec.containers.find((x) => x.name === 'vigild')!;
    assert.equal(pod.spec.hostPID, true, 'vigild reads /proc of the host (there is no host-proc-root option)');
    const cmd = c.command ?? [];
    const cfgPath = cmd[cmd.indexOf('--config') + 1]!;
    assert.ok(cmd.includes('--config') && cfgPath, 'vigild is not given --config');
    const cfg = parseConfig(configMapKey(objs, pod.spec, c, cfgPath), 'vigil-config/vigild.yaml');
    const { host, port } = splitListen(cfg.httpListen);
    assert.ok(!isLoopback(host), 'Prometheus scrapes the pod IP: the listener cannot be loopback');
    const named = (c.ports ?? []).find((p) => p.name === 'metrics');
    assert.ok(named, 'vigild has no port named metrics');
    assert.equal(port, named.containerPort, 'http.listen is not the metrics port');
    assert.ok(cfg.httpTokenFile, 'off loopback the daemon needs http.token_file');
    const token = resolveFile(pod.spec, c, cfg.httpTokenFile);
    assert.ok(token.volume.secret, 'the token file is not from a Secret');
    assert.ok(token.rest in (find(objs, 'Secret', token.volume.secret.secretName).data as Obj));
    assert.ok(resolveFile(pod.spec, c, cfg.dataDir).volume.hostPath, 'data_dir is not on the host: alerts would not outlive the pod');
    const sockVol = resolveFile(pod.spec, c, cfg.api.socket).volume;
    assert.ok(sockVol.emptyDir, 'the API socket is not in a shared emptyDir');
    assert.ok(pod.spec.securityContext?.supplementalGroups?.includes(Number(cfg.api.socketGroup)), 'api.socket_group is not in the pod supplementalGroups');
    // The rules ConfigMap loads after the image's rules, with the rule engine itself.
    const rules = pod.spec.volumes!.find((v) => v.name === (c.volumeMounts ?? []).find((m) => m.mountPath === '/etc/vigil/rules.d')?.name);
    assert.ok(rules?.configMap, 'no rules ConfigMap at /etc/vigil/rules.d (a default rules.dirs entry)');
    const dir = mkdtempSync(join(tmpdir(), 'vigil-k8s-rules-'));
    try {
      for (const [k, v] of Object.entries(find(objs, 'ConfigMap', rules.configMap.name).data as Record<string, string>)) writeFileSync(join(dir, k), v);
      const rs = RuleSet.load([join(ROOT, 'rules'), dir]);
      assert.ok(rs.rules().length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Probes: one script; the variables it reads are set, and name this listener and Secret.
    const probes = [c.startupProbe, c.readinessProbe, c.livenessProbe].map((p) => p?.exec?.command);
    assert.ok(
      probes.every((p) => p !== undefined),
      'each probe is an exec probe',
    );
    assert.deepEqual(probes[1], probes[0]);
    assert.deepEqual(probes[2], probes[0]);
    const script = probes[0]!.join(' ');
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
    for (const v of script.match(/process\.env\.(\w+)/g) ?? []) assert.ok(v.slice(12) in env, `the probe reads ${v} but the container does not set it`);
    assert.equal(new URL(env.VIGIL_HEALTHZ_URL!).port, String(port));
    assert.equal(new URL(env.VIGIL_HEALTHZ_URL!).pathname, '/healthz');
    assert.equal(env.VIGIL_HTTP_TOKEN_FILE, cfg.httpTokenFile);
    // Capabilities: the systemd unit's, plus what nsenter and setpriv need before vigild runs,
    // which the command drops again.
    const caps = c.securityContext?.capabilities;
    assert.deepEqual(caps?.drop, ['ALL']);
    assert.deepEqual([...(caps?.add ?? [])].sort(), [...unitCapabilities(), 'SYS_ADMIN', 'SETPCAP'].sort());
    const drop = cmd.find((a) => a.startsWith('--bounding-set='));
    assert.equal(drop, '--bounding-set=-sys_admin,-setpcap');
    assert.equal(cmd.indexOf('nsenter'), 0);
    // Memory: the design budget is 200 MB at 100k events/s; the limit must leave room above it.
    const mi = (q: string): number => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
    assert.ok(mi(c.resources?.limits?.memory ?? '') >= 256, 'the memory limit leaves no room above the 200 MB budget');
  });

  test('the forwarder sidecar: its config parses, reaches the daemon socket through the group, keeps its cursors on the host', () => {
    const objs = build(COMPONENTS);
    const pod = podOf(find(objs, 'DaemonSet', 'vigil'));
    const vigild = pod.spec.containers.find((x) => x.name === 'vigild')!;
    const fwd = pod.spec.containers.find((x) => x.name === 'vigil-forward');
    assert.ok(fwd, 'the forwarder component adds no vigil-forward container');
    const cmd = fwd.command ?? [];
    const cfgPath = cmd[cmd.indexOf('-c') + 1]!;
    const cfg = parseForwarderConfig(configMapKey(objs, pod.spec, fwd, cfgPath), 'vigil-forward/forward.yaml');
    const daemonCfg = parseConfig(configMapKey(objs, pod.spec, vigild, (vigild.command ?? [])[(vigild.command ?? []).indexOf('--config') + 1]!), 'vigild.yaml');
    assert.equal(cfg.daemon.address, `unix://${daemonCfg.api.socket}`);
    assert.equal(
      resolveFile(pod.spec, fwd, daemonCfg.api.socket).volume.name,
      resolveFile(pod.spec, vigild, daemonCfg.api.socket).volume.name,
      'the two containers do not share the socket volume',
    );
    const state = resolveFile(pod.spec, fwd, cfg.stateFile).volume;
    assert.ok(state.hostPath, 'the cursors are not on the host: a new pod would restart from the live stream and skip alerts');
    assert.ok((fwd.securityContext?.runAsUser ?? 0) > 0, 'the forwarder runs as root');
    assert.deepEqual(fwd.securityContext?.capabilities, { drop: ['ALL'] });
    // The init container hands the cursors' directory to exactly that uid and the socket's group.
    const init = (pod.spec.initContainers ?? []).find((i) => (i.volumeMounts ?? []).some((m) => m.name === state.name));
    assert.ok(init, 'nothing prepares the cursors directory');
    const chown = /chown (\d+):(\d+) (\S+)/.exec((init.command ?? []).join(' '));
    assert.ok(chown, 'the init container does not chown the state directory');
    assert.equal(Number(chown[1]), fwd.securityContext?.runAsUser);
    assert.equal(chown[2], daemonCfg.api.socketGroup);
    assert.equal(chown[3], dirname(cfg.stateFile));
  });
});
