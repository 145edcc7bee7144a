// The real daemon for end-to-end tests: `bin/vigild` on its embedded defaults (default targets, the
// default rule pack from rules/, the 5 s metrics interval) with only the data dir, the API socket and
// the HTTP port of the test's own, plus any config text a test adds; the `vigil` CLI against it; and
// `vigil tail -o json` with every alert line parsed as it arrives.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild } from './net.js';

const REPO = join(import.meta.dirname, '../../..');
const VIGILD = join(REPO, 'bin/vigild');
const VIGIL = join(REPO, 'bin/vigil');

export const WARNING_OR_ABOVE = new Set(['SEVERITY_WARNING', 'SEVERITY_ERROR', 'SEVERITY_CRITICAL', 'SEVERITY_ALERT', 'SEVERITY_EMERGENCY']);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface AlertLine {
  /** When the line reached the test. */
  at: number;
  change: string;
  id: string;
  rule: string;
  severity: string;
  container: string;
  message: string;
}

/** A running `bin/vigild` in a temp dir of its own. */
export class Vigild {
  /** A clean environment for bin/vigil: no VIGIL_* of the caller, no colour. */
  readonly env: NodeJS.ProcessEnv;
  private log = '';

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
    readonly sock: string,
    /** The HTTP listener (/metrics, /healthz), host:port. */
    readonly http: string,
  ) {
    this.env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', VIGIL_ADDR: `unix://${sock}` };
    child.stderr!.on('data', (d: Buffer) => {
      this.log += d.toString();
      if (this.log.length > 1 << 20) this.log = this.log.slice(-(1 << 19));
    });
  }

  /** Starts the daemon (config: YAML added to the embedded defaults) and waits until `vigil status` answers. */
  static async start(config = '', readyMs = 30_000): Promise<Vigild> {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vigild-')));
    // Only this file: the embedded defaults, whatever /etc/vigil/vigild.yaml says on this host.
    writeFileSync(join(dir, 'vigild.yaml'), config);
    const sock = join(dir, 'vigil.sock');
    const http = `127.0.0.1:${await freePort()}`;
    const child = spawn(VIGILD, ['--config', join(dir, 'vigild.yaml'), '--data-dir', join(dir, 'data'), '--http', http, '--api-socket', sock], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const d = new Vigild(dir, child, sock, http);
    const ready = Date.now() + readyMs;
    for (;;) {
      const r = d.cli(['status']);
      if (r.code === 0) return d;
      if (child.exitCode !== null) assert.fail(`vigild exited (${child.exitCode}): ${d.logTail()}`);
      if (Date.now() > ready) assert.fail(`vigild did not answer on ${sock}: ${r.stderr}\n${d.logTail()}`);
      await sleep(300);
    }
  }

  /** The daemon's process id (bin/vigild execs node, so it is node's). */
  get pid(): number {
    return this.child.pid!;
  }

  /** The HTTP bearer token the daemon made at start (http.token_file's default, docs/config.md). */
  get httpTokenFile(): string {
    return join(this.dir, 'data', 'http.token');
  }

  cli(args: string[], timeoutMs = 20_000): CliResult {
    const r = spawnSync(VIGIL, args, { env: this.env, encoding: 'utf8', timeout: timeoutMs });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.error ? r.error.message : (r.stderr ?? '') };
  }

  /** The last lines of the daemon's log, for a failure message. */
  logTail(lines = 40): string {
    return this.log.split('\n').slice(-lines).join('\n');
  }

  /** `vigil tail -o json`, resolved once the daemon counts it as a subscriber. */
  async tail(): Promise<AlertTail> {
    const t = new AlertTail(this.env);
    for (let i = 0; ; i++) {
      const s = this.cli(['status', '-o', 'json']);
      if (s.code === 0 && (JSON.parse(s.stdout) as { subscribers: unknown[] }).subscribers.length > 0) return t;
      if (i > 100) assert.fail(`tail never subscribed: ${t.stderr}`);
      await sleep(100);
    }
  }

  /** Container id -> running, from `vigil ps -o json`. */
  ps(): Map<string, boolean> {
    const r = this.cli(['ps', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const s = JSON.parse(l) as { info: { ref: { id: string } }; running: boolean };
          return [s.info.ref.id, s.running] as const;
        }),
    );
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `vigil tail -o json`, every alert line parsed as it arrives. */
export class AlertTail {
  readonly alerts: AlertLine[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private rest = '';

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(VIGIL, ['tail', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout!.on('data', (d: Buffer) => {
      const at = Date.now();
      const lines = (this.rest + d.toString()).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        const m = JSON.parse(line) as {
          alert?: { id: string; rule: string; severity: string; container?: { id: string }; message?: string };
          alert_change?: string;
        };
        if (!m.alert) continue;
        this.alerts.push({
          at,
          change: m.alert_change ?? '',
          id: m.alert.id,
          rule: m.alert.rule,
          severity: m.alert.severity,
          container: m.alert.container?.id ?? '',
          message: (m.alert.message ?? '').trim(),
        });
      }
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The first opened alert of `rule` for `container`, waiting until `deadline` (unix ms). */
  async opened(rule: string, container: string, deadline: number): Promise<AlertLine | undefined> {
    for (;;) {
      const a = this.alerts.find((x) => x.change === 'ALERT_CHANGE_OPENED' && x.rule === rule && x.container === container);
      if (a || Date.now() > deadline) return a;
      if (this.exited) assert.fail(`vigil tail exited: ${this.stderr}`);
      await sleep(100);
    }
  }

  /** One line per opened alert: severity, rule and container. */
  summary(): string {
    return this.alerts
      .filter((x) => x.change === 'ALERT_CHANGE_OPENED')
      .map((x) => `${x.severity} ${x.rule} [${x.container}]`)
      .join('; ');
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
