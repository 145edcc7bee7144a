// Response actions: what vigil does about an alert besides recording it. The alerts manager calls the
// runner once per new alert with the rule's actions and records the outcomes on the alert.
//
//   notify   POST the alert as JSON to each configured webhook (http or https URLs of the config only,
//            never one taken from an event). Retried with exponential backoff and jitter, a bounded
//            number of times; deliveries wait in a bounded queue and are dropped (counted) when it is
//            full. One outcome per webhook: status and tries.
//   kill     SIGKILL the offending process (alert.lineage[0].pid), only after checking that the pid
//            still names the same process: it started no later than the event that raised the alert
//            (/proc/<pid>/stat start time against the event's kernel time) and it is in the event's
//            cgroup. Never pid 1, never a kernel thread, never this daemon, and never a host process
//            unless the config allows it.
//   freeze   The container's cgroup: v2 cgroup.freeze = 1 when its v2 cgroup has that file, else the v1
//            freezer's freezer.state = FROZEN (the freezer path is read from /proc/<pid>/cgroup of one
//            of the container's processes, since v1 paths can differ per controller). Never the host,
//            never a cgroup that holds this daemon. The outcome names the path.
//   enforce  Done in the kernel (probes/enforce.bpf.c) when enforcement is on: the outcome says whether
//            the alert's events show the kernel's kill.
//
// Nothing here executes a program, and nothing taken from an event or a request is used as a URL or a
// path other than a pid (checked as above) and a container id (looked up in the registry).
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { cgroupIdOf, parseProcCgroup, readCgroupMounts, type CgroupMounts } from '../containers/cgroupfs.js';
import { ConfigError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { KTIME, type EnforceEvent, type VigilEvent } from '../sensor/events.js';
import { bootToWallOffsetNs } from '../core/clock.js';
import { EnforceSpoil, VG_ENF_CONTAINERS_ONLY, VG_ENF_KILL, VG_ENF_SPOIL, type EnforceEntry } from '../core/enforce.js';
import type { SyscallTable } from '../sensor/syscalls.js';
import type { ActionName } from '../core/severity.js';
import type { ActionOutcome, Alert } from './alert.js';

/** What the alerts manager calls: one call per new alert, the rule's actions, the outcomes back. */
export type ResponseRunner = (alert: Alert, actions: ActionName[]) => Promise<ActionOutcome[]>;

export interface WebhookConfig {
  /** http:// or https:// only. */
  url: string;
  /** Extra request headers (e.g. Authorization); never logged and never put in an outcome. */
  headers?: Record<string, string>;
  /** Per-attempt timeout in ms (connect to end of response). Default 5000. */
  timeout?: number;
}

export interface NotifyConfig {
  /** Attempts per delivery, the first included. Default 5. */
  maxAttempts?: number;
  /** Backoff before the second attempt, doubled for each further one. Default 500 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff. Default 30 s. */
  maxDelayMs?: number;
  /** Deliveries waiting or running, over all webhooks; more are dropped (counted). Default 256. */
  maxPending?: number;
  /** Deliveries running at once. Default 4. */
  concurrency?: number;
}

export interface ResponseConfig {
  webhooks?: WebhookConfig[];
  notify?: NotifyConfig;
  /** kill: also host processes (default false: container processes only). */
  killHost?: boolean;
  /** freeze: which mechanism; 'auto' (default) uses v2 cgroup.freeze when the container has it. */
  freezer?: 'auto' | 'v2' | 'v1';
  /** Whether kernel enforcement is on (only used to word the enforce outcome). */
  enforce?: boolean;
}

/** What the runner needs from the rest of the daemon; tests hand in their own. */
export interface ContainerLookup {
  /** The container's v2 cgroup path (relative to the v2 mount) and a process of it, when known. */
  (id: string): { cgroupPath?: string; initPid?: number } | undefined;
}

export interface ResponseDeps {
  logger?: Logger;
  lookupContainer?: ContainerLookup;
  /** cgroup mounts (default: this process's mountinfo). */
  mounts?: CgroupMounts;
  procRoot?: string;
  /** This daemon's pid (never killed, its cgroups never frozen). Default process.pid. */
  selfPid?: number;
  /** Random in [0, 1) for the backoff jitter. */
  random?: () => number;
  /** How long kill and freeze wait to see their effect. Default 2000 ms. */
  settleMs?: number;
}

export interface ResponseStats {
  notifyDelivered: number;
  notifyFailed: number;
  /** Deliveries dropped because the queue was full. */
  notifyDropped: number;
  notifyRetries: number;
  notifyPending: number;
  killed: number;
  killRefused: number;
  frozen: number;
  freezeRefused: number;
}

/** USER_HZ: /proc/<pid>/stat counts start time in these ticks on every Linux ABI. */
const USER_HZ_NS = 10_000_000n;
const PF_KTHREAD = 0x00200000;

function ensureWebhooks(hooks: WebhookConfig[] | undefined): WebhookConfig[] {
  const out: WebhookConfig[] = [];
  for (const [i, h] of (hooks ?? []).entries()) {
    let u: URL;
    try {
      u = new URL(h.url);
    } catch {
      throw new ConfigError(`responses.webhooks[${i}].url is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`responses.webhooks[${i}].url must be http or https, not ${u.protocol}`);
    if (h.timeout !== undefined && !(Number.isFinite(h.timeout) && h.timeout > 0))
      throw new ConfigError(`responses.webhooks[${i}].timeout must be a positive number of ms`);
    for (const [k, v] of Object.entries(h.headers ?? {})) {
      if (typeof v !== 'string' || /[\r\n]/.test(k) || /[\r\n]/.test(v))
        throw new ConfigError(`responses.webhooks[${i}].headers.${k} must be a one-line string`);
    }
    out.push({ url: u.href, headers: { ...(h.headers ?? {}) }, timeout: h.timeout ?? 5000 });
  }
  return out;
}

/** A URL as outcomes and logs show it: no credentials, no query (tokens live there). */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`responses.notify.${name} must be a positive number`);
  return v;
}

// ---- notify ----------------------------------------------------------------------------------------

interface PostResult {
  status?: number;
  error?: string;
  retryAfterMs?: number;
}

function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal): Promise<PostResult> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
      method: 'POST',
      headers: { 'user-agent': 'vigild', ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: timeoutMs,
      signal,
    });
    let done = false;
    const finish = (r: PostResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    // `timeout` above is idle time; this bounds the whole attempt.
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => finish({ error: err.message }));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const ra = Number(res.headers['retry-after']);
      res.resume(); // the body is not needed
      res.on('end', () => finish({ status, ...(Number.isFinite(ra) && ra >= 0 ? { retryAfterMs: ra * 1000 } : {}) }));
      res.on('error', (err) => finish({ status, error: err.message }));
    });
    req.end(body);
  });
}

function retryable(r: PostResult): boolean {
  if (r.status === undefined) return true; // network error or timeout
  return r.status === 408 || r.status === 429 || r.status >= 500;
}

interface Delivery {
  hook: WebhookConfig;
  body: string;
  resolve: (o: ActionOutcome) => void;
}

class WebhookQueue {
  private readonly queue: Delivery[] = [];
  private running = 0;
  private readonly abort = new AbortController();
  readonly counters = { delivered: 0, failed: 0, dropped: 0, retries: 0 };

  constructor(
    private readonly cfg: Required<NotifyConfig>,
    private readonly random: () => number,
    private readonly log: Logger,
  ) {}

  get pending(): number {
    return this.queue.length + this.running;
  }

  deliver(hook: WebhookConfig, body: string): Promise<ActionOutcome> {
    const shown = redactUrl(hook.url);
    if (this.abort.signal.aborted) return Promise.resolve(outcome('notify', false, `POST ${shown} not sent: responses closed`));
    if (this.pending >= this.cfg.maxPending) {
      this.counters.dropped++;
      this.log.warn({ url: shown, pending: this.pending }, 'notify queue full: delivery dropped');
      return Promise.resolve(outcome('notify', false, `POST ${shown} dropped: ${this.pending} deliveries pending`));
    }
    return new Promise((resolve) => {
      this.queue.push({ hook, body, resolve });
      this.pump();
    });
  }

  close(): void {
    this.abort.abort();
  }

  private pump(): void {
    while (this.running < this.cfg.concurrency && this.queue.length > 0) {
      const d = this.queue.shift()!;
      this.running++;
      void this.run(d).then((o) => {
        this.running--;
        d.resolve(o);
        this.pump();
      });
    }
  }

  /** Backoff before attempt n+1 (n >= 1): base * 2^(n-1), capped, with half of it random. */
  backoffMs(n: number, retryAfterMs?: number): number {
    const d = Math.min(this.cfg.maxDelayMs, this.cfg.baseDelayMs * 2 ** (n - 1));
    const jittered = d / 2 + this.random() * (d / 2);
    return retryAfterMs !== undefined ? Math.min(this.cfg.maxDelayMs, Math.max(jittered, retryAfterMs)) : jittered;
  }

  private async run(d: Delivery): Promise<ActionOutcome> {
    const shown = redactUrl(d.hook.url);
    let last: PostResult = {};
    let tries = 0;
    const signal = this.abort.signal;
    for (let n = 1; n <= this.cfg.maxAttempts && !signal.aborted; n++) {
      tries = n;
      last = await post(d.hook.url, d.hook.headers ?? {}, d.body, d.hook.timeout ?? 5000, signal);
      if (last.status !== undefined && last.status >= 200 && last.status < 300) {
        this.counters.delivered++;
        return outcome('notify', true, `POST ${shown} ${last.status} after ${plural(n, 'try', 'tries')}`);
      }
      if (!retryable(last) || n === this.cfg.maxAttempts) break;
      this.counters.retries++;
      if (!(await sleep(this.backoffMs(n, last.retryAfterMs), signal))) break;
    }
    this.counters.failed++;
    const why = last.status !== undefined ? `${last.status}` : `failed (${last.error ?? 'no response'})`;
    const end = signal.aborted ? 'stopped at shutdown' : retryable(last) ? 'gave up' : 'not retried';
    this.log.warn({ url: shown, status: last.status, error: last.error, tries }, 'webhook delivery failed');
    return outcome('notify', false, `POST ${shown} ${why} after ${plural(tries, 'try', 'tries')}: ${end}`);
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Resolves true after ms, false at once when aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function outcome(action: ActionName, ok: boolean, detail: string): ActionOutcome {
  return { action, ok, detail, at: new Date().toISOString() };
}

/** The alert as the webhook receives it (bigints, should any appear, as strings). */
export function alertJson(alert: Alert): string {
  return JSON.stringify(alert, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

// ---- /proc ------------------------------------------------------------------------------------------

export interface ProcStat {
  comm: string;
  state: string;
  flags: number;
  /** Start time in ticks of USER_HZ after boot (CLOCK_BOOTTIME). */
  startTicks: bigint;
}

/** Fields of /proc/<pid>/stat (comm may hold spaces and parentheses: split after the last ')'). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); flags is field 9, starttime field 22.
  const state = rest[0];
  const flags = Number(rest[6]);
  const start = rest[19];
  if (!state || !Number.isFinite(flags) || !start || !/^\d+$/.test(start)) return undefined;
  return { comm: text.slice(open + 1, close), state, flags, startTicks: BigInt(start) };
}

function isoToNs(iso: string): bigint | undefined {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

// ---- the runner -------------------------------------------------------------------------------------

export class Responses {
  private readonly log: Logger;
  private readonly webhooks: WebhookConfig[];
  private readonly queue: WebhookQueue;
  private readonly proc: string;
  private readonly selfPid: number;
  private readonly settleMs: number;
  private readonly counters = { killed: 0, killRefused: 0, frozen: 0, freezeRefused: 0 };
  private mountsCache: CgroupMounts | undefined;

  constructor(
    private readonly config: ResponseConfig = {},
    private readonly deps: ResponseDeps = {},
  ) {
    this.log = deps.logger ?? silentLogger();
    this.webhooks = ensureWebhooks(config.webhooks);
    const n = config.notify ?? {};
    const cfg: Required<NotifyConfig> = {
      maxAttempts: Math.floor(positive(n.maxAttempts, 5, 'maxAttempts')),
      baseDelayMs: positive(n.baseDelayMs, 500, 'baseDelayMs'),
      maxDelayMs: positive(n.maxDelayMs, 30_000, 'maxDelayMs'),
      maxPending: Math.floor(positive(n.maxPending, 256, 'maxPending')),
      concurrency: Math.floor(positive(n.concurrency, 4, 'concurrency')),
    };
    if (config.freezer !== undefined && !['auto', 'v1', 'v2'].includes(config.freezer)) throw new ConfigError(`responses.freezer must be auto, v1 or v2`);
    this.queue = new WebhookQueue(cfg, deps.random ?? Math.random, this.log);
    this.proc = deps.procRoot ?? '/proc';
    this.selfPid = deps.selfPid ?? process.pid;
    this.settleMs = deps.settleMs ?? 2000;
  }

  /** The ResponseRunner (bound: hand it around as a function). */
  readonly run: ResponseRunner = async (alert, actions) => {
    const out: ActionOutcome[] = [];
    const seen = new Set<ActionName>();
    for (const a of actions) {
      if (seen.has(a)) continue;
      seen.add(a);
      try {
        switch (a) {
          case 'notify':
            out.push(...(await this.notify(alert)));
            break;
          case 'kill':
            out.push(await this.kill(alert));
            break;
          case 'freeze':
            out.push(await this.freeze(alert));
            break;
          case 'enforce':
            out.push(this.enforce(alert));
            break;
          default:
            out.push(outcome(a, false, `unknown action ${String(a)}`));
        }
      } catch (err) {
        out.push(outcome(a, false, `failed: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    return out;
  };

  stats(): ResponseStats {
    const q = this.queue.counters;
    return {
      notifyDelivered: q.delivered,
      notifyFailed: q.failed,
      notifyDropped: q.dropped,
      notifyRetries: q.retries,
      notifyPending: this.queue.pending,
      ...this.counters,
    };
  }

  /** Stops retries and refuses new deliveries; those in flight resolve with a failed outcome. */
  close(): void {
    this.queue.close();
  }

  // ---- notify ----

  async notify(alert: Alert): Promise<ActionOutcome[]> {
    if (this.webhooks.length === 0) return [outcome('notify', false, 'no webhook configured')];
    const body = alertJson(alert);
    return Promise.all(this.webhooks.map((h) => this.queue.deliver(h, body)));
  }

  // ---- kill ----

  async kill(alert: Alert): Promise<ActionOutcome> {
    const pid = alert.lineage[0]?.pid;
    const refuse = (why: string): ActionOutcome => {
      this.counters.killRefused++;
      this.log.warn({ alert: alert.id, pid, reason: why }, 'kill refused');
      return outcome('kill', false, `refused${pid !== undefined ? ` pid ${pid}` : ''}: ${why}`);
    };
    if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return refuse('the alert names no process');
    const checked = this.checkProcess(alert, pid, this.config.killHost ?? false);
    if (typeof checked === 'string') return refuse(checked);
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return outcome('kill', true, `pid ${pid} had already exited`);
      return refuse(`kill: ${code ?? String(err)}`);
    }
    const gone = await this.waitFor(() => this.goneOrOther(pid, checked.startTicks));
    this.counters.killed++;
    this.log.info({ alert: alert.id, pid, comm: checked.comm }, 'killed');
    return outcome(
      'kill',
      gone,
      gone ? `killed pid ${pid} (${checked.comm})` : `sent SIGKILL to pid ${pid} (${checked.comm}); still running after ${this.settleMs} ms`,
    );
  }

  private readStat(pid: number): ProcStat | undefined {
    try {
      return parseProcStat(readFileSync(join(this.proc, String(pid), 'stat'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  private goneOrOther(pid: number, startTicks: bigint): boolean {
    const s = this.readStat(pid);
    return s === undefined || s.state === 'Z' || s.state === 'X' || s.startTicks !== startTicks;
  }

  private async waitFor(done: () => boolean): Promise<boolean> {
    const end = Date.now() + this.settleMs;
    for (;;) {
      if (done()) return true;
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private nsInode(pid: number | 'self', ns: string): string | undefined {
    try {
      return readlinkSync(join(this.proc, String(pid), 'ns', ns));
    } catch {
      return undefined;
    }
  }

  private mounts(): CgroupMounts {
    this.mountsCache ??= this.deps.mounts ?? readCgroupMounts(this.proc);
    return this.mountsCache;
  }

  private procCgroups(pid: number | 'self'): ReturnType<typeof parseProcCgroup> {
    try {
      return parseProcCgroup(readFileSync(join(this.proc, String(pid), 'cgroup'), 'utf8'));
    } catch {
      return [];
    }
  }

  /**
   * Checks that `pid` is still the alert's process and may be acted on. Returns its stat, or why not.
   * Identity: the process started no later than the event (or, without one, the alert) that names it,
   * and is still in the event's v2 cgroup. A pid reused since then started later.
   */
  private checkProcess(alert: Alert, pid: number, allowHost: boolean): ProcStat | string {
    if (pid === 1) return 'pid 1';
    if (pid === this.selfPid) return 'the daemon itself';
    const st = this.readStat(pid);
    if (!st) return 'no such process';
    if (st.state === 'Z' || st.state === 'X') return 'the process has exited';
    if ((st.flags & PF_KTHREAD) !== 0) return 'a kernel thread';
    const ev = alert.events.find((e) => e.pid === pid);
    const eventBootNs = this.eventBootNs(ev, alert);
    if (eventBootNs === undefined) return 'the alert carries no time to check the process against';
    // /proc counts in ticks (truncated); a time from the wall clock is only good to /proc/uptime's 10 ms.
    const slack = ev && typeof ev[KTIME] === 'bigint' ? USER_HZ_NS : 10n * USER_HZ_NS;
    if (st.startTicks * USER_HZ_NS > eventBootNs + slack) return `pid reused: the process started after the alert's event (${st.comm})`;
    if (ev && this.mounts().v2) {
      const path = this.procCgroups(pid).find((l) => l.hierarchy === 0)?.path;
      const id = path !== undefined ? cgroupIdOf(join(this.mounts().v2!, path)) : undefined;
      if (id !== undefined && ev.cgroup_id !== 0 && id !== ev.cgroup_id) return `the process is no longer in the event's cgroup (${st.comm})`;
    }
    if (!allowHost && !this.inContainer(alert, pid)) return 'a host process (the config allows container processes only)';
    return st;
  }

  private eventBootNs(ev: VigilEvent | undefined, alert: Alert): bigint | undefined {
    const k = ev?.[KTIME];
    if (typeof k === 'bigint' && k > 0n) return k;
    const wall = isoToNs(ev?.time ?? alert.time);
    return wall === undefined ? undefined : wall - bootToWallOffsetNs();
  }

  /** The alert is attributed to a container, and the process is in it: another pid namespace than
   * the daemon's, or (host-pid containers) under the container's cgroup. */
  private inContainer(alert: Alert, pid: number): boolean {
    if (isHostRef(alert.container.id)) return false;
    const own = this.nsInode('self', 'pid');
    const theirs = this.nsInode(pid, 'pid');
    if (own !== undefined && theirs !== undefined && own !== theirs) return true;
    const cg = this.deps.lookupContainer?.(alert.container.id)?.cgroupPath;
    if (!cg || cg === '/') return false;
    const path = this.procCgroups(pid).find((l) => l.hierarchy === 0)?.path;
    return path !== undefined && (path === cg || path.startsWith(`${cg}/`));
  }

  // ---- freeze ----

  async freeze(alert: Alert): Promise<ActionOutcome> {
    const refuse = (why: string): ActionOutcome => {
      this.counters.freezeRefused++;
      this.log.warn({ alert: alert.id, container: alert.container.id, reason: why }, 'freeze refused');
      return outcome('freeze', false, `refused: ${why}`);
    };
    if (isHostRef(alert.container.id)) return refuse(`container '${alert.container.id}' is not a container`);
    const target = this.freezeTarget(alert);
    if (typeof target === 'string') return refuse(target);
    const { dir, kind } = target;
    if (kind === 'v2') {
      writeFileSync(join(dir, 'cgroup.freeze'), '1');
      const frozen = await this.waitFor(() => /^frozen 1$/m.test(readText(join(dir, 'cgroup.events'))));
      this.counters.frozen++;
      this.log.info({ alert: alert.id, container: alert.container.id, dir }, 'froze');
      return outcome('freeze', frozen, frozen ? `froze ${dir}` : `wrote cgroup.freeze=1 in ${dir}; not frozen after ${this.settleMs} ms`);
    }
    writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
    const frozen = await this.waitFor(() => readText(join(dir, 'freezer.state')).trim() === 'FROZEN');
    this.counters.frozen++;
    this.log.info({ alert: alert.id, container: alert.container.id, dir }, 'froze');
    return outcome(
      'freeze',
      frozen,
      frozen ? `froze ${dir}` : `wrote FROZEN in ${dir}; state ${readText(join(dir, 'freezer.state')).trim()} after ${this.settleMs} ms`,
    );
  }

  /** The container's freezer: its v2 cgroup directory (cgroup.freeze) or its v1 freezer directory. */
  private freezeTarget(alert: Alert): { dir: string; kind: 'v1' | 'v2' } | string {
    const mounts = this.mounts();
    const info = this.deps.lookupContainer?.(alert.container.id);
    const known = info?.cgroupPath && info.cgroupPath !== '/' ? info.cgroupPath : undefined;
    // A process of the container: the registry's, else the alert's own (checked as kill checks it).
    const candidates = [info?.initPid, ...alert.lineage.slice(0, 1).map((l) => l.pid), ...alert.events.map((e) => e.pid)];
    let pid: number | undefined;
    for (const c of candidates) {
      if (c === undefined || c <= 1 || c === this.selfPid) continue;
      if (known) {
        const p = this.procCgroups(c).find((l) => l.hierarchy === 0)?.path;
        if (p !== undefined && (p === known || p.startsWith(`${known}/`))) {
          pid = c;
          break;
        }
      } else if (typeof this.checkProcess(alert, c, false) !== 'string') {
        pid = c;
        break;
      }
    }
    const lines = pid !== undefined ? this.procCgroups(pid) : [];
    const mode = this.config.freezer ?? 'auto';
    if (mode !== 'v1' && mounts.v2) {
      const path = known ?? lines.find((l) => l.hierarchy === 0)?.path;
      if (path && path !== '/') {
        const dir = join(mounts.v2, path);
        const held = this.holdsSelf(0, path);
        if (held) return held;
        if (existsSync(join(dir, 'cgroup.freeze'))) return { dir, kind: 'v2' };
      }
      if (mode === 'v2') return `no v2 cgroup.freeze for container ${alert.container.id}`;
    }
    const freezerMount = Object.entries(mounts.v1).find(([ctl]) => ctl.split(',').includes('freezer'))?.[1];
    if (!freezerMount) return 'no v2 cgroup.freeze and no v1 freezer hierarchy';
    if (pid === undefined) return `no live process of container ${alert.container.id} to find its freezer cgroup`;
    const line = lines.find((l) => l.hierarchy !== 0 && l.controllers.split(',').includes('freezer'));
    if (!line || line.path === '/' || line.path === '') return `the container's process ${pid} is in the root freezer cgroup (the host)`;
    const held = this.holdsSelf(line.hierarchy, line.path);
    if (held) return held;
    const dir = join(freezerMount, line.path);
    if (!isFile(join(dir, 'freezer.state'))) return `${dir} has no freezer.state`;
    return { dir, kind: 'v1' };
  }

  /** Refuses a cgroup that holds this daemon (its own or an ancestor of it). */
  private holdsSelf(hierarchy: number, path: string): string | undefined {
    const own = this.procCgroups(this.selfPid).find((l) => l.hierarchy === hierarchy)?.path;
    if (own !== undefined && (own === path || own.startsWith(`${path}/`))) return `cgroup ${path} holds the daemon itself`;
    return undefined;
  }

  // ---- enforce ----

  enforce(alert: Alert): ActionOutcome {
    const e = alert.events.find((ev): ev is EnforceEvent => ev.kind === 'enforce');
    if (e) {
      const fate = e.spoiled ? 'the call failed (argument spoiled)' : 'the call may have completed (not spoiled)';
      return outcome(
        'enforce',
        e.signal_sent,
        `the kernel ${e.signal_sent ? 'killed' : `failed to kill (${e.signal_ret})`} pid ${e.pid} at ${e.syscall}; ${fate}`,
      );
    }
    if (!this.config.enforce) return outcome('enforce', false, 'kernel enforcement is off (responses.enforce)');
    return outcome('enforce', false, 'enforcement is on, but the alert carries no enforce event (the call is not enforced)');
  }
}

function isHostRef(id: string): boolean {
  return id === 'host' || id === 'unknown' || id === '';
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Thaws a cgroup that freeze froze (the directory its outcome names): v2 or v1, whichever it is. */
export function thawCgroup(dir: string): void {
  if (existsSync(join(dir, 'cgroup.freeze'))) writeFileSync(join(dir, 'cgroup.freeze'), '0');
  else writeFileSync(join(dir, 'freezer.state'), 'THAWED');
}

// ---- enforce: the kernel table ------------------------------------------------------------------

/**
 * How each call is made to fail in the kernel (probes/enforce.bpf.c): which argument is the user
 * pointer and how it is spoiled. Calls not listed are killed only (the call may complete).
 */
export const ENFORCE_SPOILS: Readonly<Record<string, { spoil: number; arg: number }>> = Object.freeze({
  mount: { spoil: EnforceSpoil.BYTE0, arg: 1 }, // target: "" -> ENOENT
  umount2: { spoil: EnforceSpoil.BYTE0, arg: 0 },
  pivot_root: { spoil: EnforceSpoil.BYTE0, arg: 0 },
  chroot: { spoil: EnforceSpoil.BYTE0, arg: 0 },
  init_module: { spoil: EnforceSpoil.BYTE0, arg: 0 }, // image: broken ELF magic -> ENOEXEC
  delete_module: { spoil: EnforceSpoil.BYTE0, arg: 0 },
  bpf: { spoil: EnforceSpoil.BPF_ATTR, arg: 1 }, // MAP_CREATE, PROG_LOAD: UNSPEC type -> EINVAL
  open: { spoil: EnforceSpoil.BYTE0, arg: 0 },
  openat: { spoil: EnforceSpoil.BYTE0, arg: 1 },
  openat2: { spoil: EnforceSpoil.BYTE0, arg: 1 },
  mknod: { spoil: EnforceSpoil.BYTE0, arg: 0 },
  mknodat: { spoil: EnforceSpoil.BYTE0, arg: 1 },
  // finit_module: an fd and a params string (spoiling params does not stop the load): kill only.
});

/** The vg_enforce table for syscall names (sensor option `enforce`). Unknown names are ConfigErrors. */
export function enforceEntries(names: readonly string[], table: SyscallTable, o: { containersOnly?: boolean } = {}): EnforceEntry[] {
  const out: EnforceEntry[] = [];
  for (const name of new Set(names)) {
    const nr = table.nr(name);
    if (nr === undefined) throw new ConfigError(`enforce: no system call '${name}' on ${table.arch}`);
    const s = ENFORCE_SPOILS[name];
    const flags = VG_ENF_KILL | ((o.containersOnly ?? true) ? VG_ENF_CONTAINERS_ONLY : 0) | (s ? VG_ENF_SPOIL : 0);
    out.push({ nr, flags, ...(s ? { spoil: s.spoil, spoilArg: s.arg } : {}) });
  }
  return out;
}
