// Detection-test harness: the real pipeline (live sensor -> process and container enrichers -> the
// default rule pack's detector), as the daemon composes it, plus static helpers that containers run.
//
//   const h = await DetectHarness.start();           // loads rules/, attaches the probes
//   const m = await h.waitMatch('Rule name', (m) => m.container.id === c.id);
//   await h.stop();
//
// Helpers: busybox has no applet for several system calls the techniques need, so two static
// programs are built at setup (test/helpers/vigil-act.c, and vigil-tech below) into a host
// directory that containers bind-mount read-only at /opt/vigil: written before any container
// starts, so they never look like files a container dropped.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerRegistry } from '../../daemon/containers/registry.js';
import { Detector } from '../../daemon/detect/detector.js';
import { RuleSet } from '../../daemon/detect/ruleset.js';
import type { RuleMatch } from '../../daemon/detect/rule-match.js';
import { ProcessEnricher } from '../../daemon/process/process-enricher.js';
import type { VigilEvent } from '../../daemon/sensor/events.js';
import { Sensor } from '../../daemon/sensor/sensor.js';
import { VG_CFG_CONNECT_INET } from '../../daemon/sensor/layout.js';
import { hostArch } from '../../daemon/sensor/syscalls.js';
import { ROOT, assertPrerequisites, sleep } from './harness.js';

export const RULES_DIR = join(ROOT, 'rules');
/** Where containers see the helpers. */
export const HELPER_MOUNT = '/opt/vigil';

const TECH_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile char target_buf[64] = "vigil-target";

static void die(const char *w) { fprintf(stderr, "vigil-tech: %s: %s\n", w, strerror(errno)); exit(1); }

static pid_t sleeper(void) {
	pid_t c = fork();
	if (c < 0) die("fork");
	if (c == 0) { for (;;) pause(); }
	return c;
}

int main(int argc, char **argv) {
	if (argc < 2) { fprintf(stderr, "usage: vigil-tech CMD\n"); return 2; }
	const char *cmd = argv[1];
	if (!strcmp(cmd, "uffd")) {
		long r = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		printf("{\"op\":\"uffd\",\"ret\":%ld}\n", r < 0 ? -errno : r);
		return 0;
	}
	if (!strcmp(cmd, "pvm-write")) {
		pid_t c = sleeper();
		char src[] = "vigil-injected";
		struct iovec l = { src, sizeof src }, r = { (void *)target_buf, sizeof src };
		long n = syscall(SYS_process_vm_writev, c, &l, 1, &r, 1, 0);
		printf("{\"op\":\"pvm-write\",\"child\":%d,\"ret\":%ld}\n", c, n < 0 ? -errno : n);
		kill(c, SIGKILL); waitpid(c, NULL, 0);
		return 0;
	}
	if (!strcmp(cmd, "mem-write")) {
		pid_t c = sleeper();
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", c);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		long n = -1;
		if (fd >= 0) { n = pwrite(fd, "vigil", 5, (off_t)(unsigned long)target_buf); close(fd); }
		printf("{\"op\":\"mem-write\",\"child\":%d,\"fd\":%d,\"ret\":%ld}\n", c, fd, n < 0 ? -errno : n);
		kill(c, SIGKILL); waitpid(c, NULL, 0);
		return 0;
	}
	if (!strcmp(cmd, "ptrace-pid") && argc == 3) {
		pid_t p = atoi(argv[2]);
		long r = ptrace(PTRACE_SEIZE, p, 0, 0);
		printf("{\"op\":\"ptrace-pid\",\"target\":%d,\"ret\":%ld}\n", p, r < 0 ? -errno : r);
		if (r == 0) ptrace(PTRACE_DETACH, p, 0, 0);
		return 0;
	}
	if (!strcmp(cmd, "uid-dance")) {
		/* euid 1000 with saved uid 0, then back to euid 0: a non-root effective uid becoming root. */
		if (setresuid(-1, 1000, 0) < 0) die("setresuid(-1,1000,0)");
		long r = setresuid(-1, 0, -1);
		printf("{\"op\":\"uid-dance\",\"ret\":%ld}\n", r < 0 ? -errno : r);
		return 0;
	}
	if (!strcmp(cmd, "setuid-root")) {
		/* a non-root process asking for root: refused without CAP_SETUID */
		long r = setuid(0);
		printf("{\"op\":\"setuid-root\",\"uid\":%d,\"ret\":%ld}\n", getuid(), r < 0 ? -errno : r);
		return 0;
	}
	if (!strcmp(cmd, "as-user") && argc >= 4) {
		uid_t u = atoi(argv[2]);
		if (setgroups(0, NULL) < 0) die("setgroups");
		if (setresgid(u, u, u) < 0) die("setresgid");
		if (setresuid(u, u, u) < 0) die("setresuid");
		execv(argv[3], argv + 3);
		die("execv");
	}
	if (!strcmp(cmd, "handle-open") && argc == 4) {
		/* the "shocker" read: a handle of argv[3], opened through the mount of argv[2] */
		struct { struct file_handle fh; unsigned char buf[MAX_HANDLE_SZ]; } h;
		int mnt_id, n = -1;
		h.fh.handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(AT_FDCWD, argv[3], &h.fh, &mnt_id, 0) < 0) die("name_to_handle_at");
		int mfd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (mfd < 0) die("open mount");
		int fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
		char b[64];
		if (fd >= 0) { n = read(fd, b, sizeof b); close(fd); }
		printf("{\"op\":\"handle-open\",\"fd\":%d,\"read\":%d}\n", fd < 0 ? -errno : fd, n);
		return 0;
	}
	if (!strcmp(cmd, "sleep") && argc == 3) {
		usleep((useconds_t)(atof(argv[2]) * 1e6));
		printf("{\"op\":\"sleep\",\"euid\":%d,\"uid\":%d}\n", geteuid(), getuid());
		return 0;
	}
	fprintf(stderr, "vigil-tech: unknown command %s\n", cmd);
	return 2;
}
`;

function cc(src: string, out: string): void {
  const r = spawnSync('cc', ['-static', '-O2', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc -static ${src}: ${r.error?.message ?? r.stderr}`);
}

export interface Helpers {
  /** Host directory to bind-mount at HELPER_MOUNT. */
  dir: string;
  remove(): void;
}

/** Builds static vigil-act and vigil-tech (and a setuid-root copy of vigil-tech) into a fresh directory. */
export function buildHelpers(): Helpers {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vgt-helpers-')));
  chmodSync(dir, 0o755);
  cc(join(ROOT, 'test/helpers/vigil-act.c'), join(dir, 'vigil-act'));
  writeFileSync(join(dir, 'vigil-tech.c'), TECH_C);
  cc(join(dir, 'vigil-tech.c'), join(dir, 'vigil-tech'));
  copyFileSync(join(dir, 'vigil-tech'), join(dir, 'suid-tech'));
  chmodSync(join(dir, 'suid-tech'), 0o4755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The mount to give startContainer so the helpers appear at /opt/vigil. */
export function helperMount(h: Helpers): { destination: string; source: string; options: string[] } {
  return { destination: HELPER_MOUNT, source: h.dir, options: ['rbind', 'ro'] };
}

/** A match as the tests keep it: the rule match and when it reached us. */
export interface SeenMatch {
  match: RuleMatch;
  at: number;
}

/** Severity ranks: warning and above are what the benign test forbids. */
export const WARNING_OR_ABOVE = new Set(['emergency', 'alert', 'critical', 'error', 'warning']);

// ---- the pipeline ------------------------------------------------------------------------------

export class DetectHarness {
  readonly matches: SeenMatch[] = [];
  private waiters = new Set<() => void>();
  private closeFns: Array<() => Promise<void> | void> = [];
  stats: () => unknown = () => ({});
  detector!: Detector;
  containers!: ContainerRegistry;

  private constructor() {}

  /**
   * Loads the rule pack and attaches the sensor with the syscalls and watches the rules need.
   * connectInet reports inet connects (sensor.connect_inet); hosts are the detector's static host
   * entries, so a rule's host name can stand for a test address without touching the host's files.
   */
  static async start(opts: { rulesDirs?: string[]; connectInet?: boolean; hosts?: ReadonlyMap<string, readonly string[]> } = {}): Promise<DetectHarness> {
    assertPrerequisites();
    const h = new DetectHarness();
    const rules = RuleSet.load(opts.rulesDirs ?? [RULES_DIR]);
    const containers = new ContainerRegistry();
    const detector = new Detector({
      rules,
      onMatch: (m) => {
        h.matches.push({ match: m, at: Date.now() });
        h.wake();
      },
      resolveContainer: (cg) => (cg === undefined ? undefined : containers.resolve(cg)),
      ...(opts.hosts ? { hosts: opts.hosts } : {}),
    });
    containers.onLifecycle((ev) => detector.evaluateLifecycle(ev));
    const arch = hostArch();
    if (!arch) throw new Error('no syscall table for this architecture');
    const { loadNative } = await import('../../daemon/sensor/addon.js');
    const sensor = Sensor.live((await loadNative()).createSensor(), {
      syscalls: rules.requiredSyscalls(arch),
      watches: rules.requiredWatches(),
      defaultWatches: true,
      configFlags: opts.connectInet ? VG_CFG_CONNECT_INET : 0,
      enrichers: [new ProcessEnricher(), containers],
    });
    await sensor.open();
    sensor.subscribe((ev) => detector.evaluate(ev));
    h.detector = detector;
    h.containers = containers;
    h.stats = () => ({ sensor: sensor.stats(), detector: { ...detector.stats(), rules: undefined } });
    h.closeFns.push(() => sensor.close());
    return h;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Matches of a rule (by name), optionally filtered. */
  find(rule: string, pred: (m: RuleMatch) => boolean = () => true): SeenMatch[] {
    return this.matches.filter((s) => s.match.rule.name === rule && pred(s.match));
  }

  /** The first match of a rule that satisfies pred, waiting up to timeoutMs. */
  waitMatch(rule: string, pred: (m: RuleMatch) => boolean, timeoutMs = 3000): Promise<SeenMatch> {
    return new Promise((res, rej) => {
      const check = (): boolean => {
        const hit = this.matches.find((s) => s.match.rule.name === rule && pred(s.match));
        if (hit) {
          done();
          res(hit);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.matches
          .slice(-30)
          .map((s) => `  ${s.match.rule.name} [${s.match.container.id}] ${s.match.message}`)
          .join('\n');
        rej(new Error(`no match of "${rule}" within ${timeoutMs} ms; last matches:\n${seen || '  (none)'}\nsensor: ${JSON.stringify(this.stats())}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    for (const f of this.closeFns) await f();
    await sleep(10);
  }
}

/** The exe and parent of a match's (last) triggering event, for lineage assertions. */
export function lineage(m: RuleMatch): { exe?: string; comm?: string; parentComm?: string; parentExe?: string; pid?: number } {
  const ev = m.events[m.events.length - 1] as (VigilEvent & { exe?: string }) | undefined;
  if (!ev || !('pid' in ev)) return {};
  const exe = ev.kind === 'exec' ? ev.exe : ev.proc?.exe;
  const parent = ev.proc?.ancestors[0];
  return { exe, comm: ev.comm, parentComm: parent?.comm, parentExe: parent?.exe, pid: ev.pid };
}

/** Creates a file (and its directories) in a container's root filesystem from the host. */
export function plant(rootfs: string, path: string, content: string, mode = 0o600): void {
  const full = join(rootfs, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content, { mode });
}
