// vigil-act: do one real thing to the kernel that no shell tool does, for the integration tests.
//
// Usage: vigil-act [--chdir DIR] SUBCOMMAND [ARGS...]
//
// Prints one JSON line on stdout with at least {"op", "pid"} and what the test needs to find the
// event (child pids, return values). Exits 0 when the action was performed, even when the kernel
// refused the call: the tests check the retval the sensor reports against "ret" printed here
// (a raw syscall return value: negative errno on failure). Exits 2 on bad usage, 1 when a step
// the action depends on failed (so the test fails with the message on stderr).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

static void die(const char *what)
{
	fprintf(stderr, "vigil-act: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vigil-act [--chdir DIR] SUBCOMMAND [ARGS]\n"
		"  memfd-exec                 memfd_create(\"vgl-fileless\"), copy /bin/true, fexecve\n"
		"  init-module                init_module on garbage bytes\n"
		"  finit-module PATH          finit_module on an fd of PATH\n"
		"  bpf-prog-load              BPF_PROG_LOAD of a socket filter (mov r0,0; exit)\n"
		"  ptrace-attach [--seize]    fork a sleeping child, attach, detach, kill it\n"
		"  ptrace-traceme             PTRACE_TRACEME (the anti-debugging trick)\n"
		"  tty-exec PROG [ARGS]       a child in a new session with a new pseudo-terminal as its\n"
		"                             controlling terminal on fds 0-2 execs PROG; the parent waits\n"
		"  io-uring-setup             io_uring_setup(8, ...)\n"
		"  connect-unix PATH          connect a stream socket to a unix socket path\n"
		"  open-write PATH            openat(AT_FDCWD, PATH, O_WRONLY|O_CREAT)\n"
		"  rename FROM TO             rename(2)\n"
		"  fork-exit CODE             fork a child that exits with CODE, reap it\n"
		"  exit CODE                  exit with CODE\n"
		"  mount-tmpfs DIR            unshare a mount namespace, mount a tmpfs on DIR\n"
		"  open-by-handle DIR         open_by_handle_at of inode 2 (an ext4 root) on DIR's filesystem\n"
		"  read-after SECS PATH       sleep SECS, open PATH for reading, stay one more second\n"
		"  connect-tcp ADDR PORT SECS connect a TCP socket to an IPv4 ADDR:PORT, hold it SECS\n");
	exit(2);
}

// A raw syscall result as the kernel returned it: -errno on failure.
static long kret(long r)
{
	return r < 0 ? -errno : r;
}

static int act_memfd_exec(void)
{
	int mfd = memfd_create("vgl-fileless", 0);
	if (mfd < 0)
		die("memfd_create");
	int src = open("/bin/true", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		die("open /bin/true");
	char buf[65536];
	ssize_t n;
	while ((n = read(src, buf, sizeof buf)) > 0) {
		if (write(mfd, buf, n) != n)
			die("write memfd");
	}
	if (n < 0)
		die("read /bin/true");
	close(src);
	printf("{\"op\":\"memfd-exec\",\"pid\":%d,\"memfd\":%d}\n", getpid(), mfd);
	fflush(stdout);
	char *argv[] = {"vgl-fileless", NULL};
	char *envp[] = {NULL};
	fexecve(mfd, argv, envp);
	die("fexecve");
	return 1;
}

static int act_init_module(void)
{
	// Not an ELF module: the kernel refuses it (EPERM without CAP_SYS_MODULE, else ENOEXEC).
	static const char garbage[] = "vigil-not-a-module";
	long r = kret(syscall(SYS_init_module, garbage, sizeof garbage, ""));
	printf("{\"op\":\"init-module\",\"pid\":%d,\"ret\":%ld,\"len\":%zu}\n", getpid(), r, sizeof garbage);
	return 0;
}

static int act_finit_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open module");
	long r = kret(syscall(SYS_finit_module, fd, "", 0));
	printf("{\"op\":\"finit-module\",\"pid\":%d,\"ret\":%ld,\"fd\":%d}\n", getpid(), r, fd);
	return 0;
}

static int act_bpf_prog_load(void)
{
	struct bpf_insn insns[2];
	memset(insns, 0, sizeof insns);
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; // r0 = 0
	insns[0].dst_reg = BPF_REG_0;
	insns[1].code = BPF_JMP | BPF_EXIT;
	static const char license[] = "GPL";
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insn_cnt = 2;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.license = (uint64_t)(uintptr_t)license;
	strncpy(attr.prog_name, "vgl_test_prog", sizeof attr.prog_name - 1);
	long r = kret(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
	printf("{\"op\":\"bpf-prog-load\",\"pid\":%d,\"ret\":%ld,\"prog_type\":%d}\n", getpid(), r,
	       BPF_PROG_TYPE_SOCKET_FILTER);
	if (r >= 0)
		close((int)r);
	return 0;
}

static int act_ptrace_attach(int seize)
{
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		for (;;)
			pause();
	}
	long r = kret(ptrace(seize ? PTRACE_SEIZE : PTRACE_ATTACH, child, 0, 0));
	if (r == 0 && !seize) {
		int st;
		if (waitpid(child, &st, 0) < 0) // the SIGSTOP that PTRACE_ATTACH sends
			die("waitpid");
	}
	if (r == 0)
		ptrace(PTRACE_DETACH, child, 0, 0); // fails harmlessly for a running seized tracee
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("{\"op\":\"ptrace-attach\",\"pid\":%d,\"ret\":%ld,\"child\":%d,\"request\":\"%s\"}\n",
	       getpid(), r, child, seize ? "PTRACE_SEIZE" : "PTRACE_ATTACH");
	return 0;
}

// Malware asks to be traced by its parent so that no debugger can attach to it.
static int act_ptrace_traceme(void)
{
	long r = kret(ptrace(PTRACE_TRACEME, 0, 0, 0));
	printf("{\"op\":\"ptrace-traceme\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	return 0;
}

// What `kubectl exec -it` or `docker exec -it` gives a shell: a session whose controlling terminal is
// a pseudo-terminal. `runc exec` makes vigil-act a process-group leader, which cannot start a
// session, so a child does and execs PROG; the parent waits for it.
static int act_tty_exec(char **argv)
{
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child > 0) {
		int st = 0;
		waitpid(child, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (setsid() < 0)
		die("setsid");
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		die("posix_openpt");
	const char *name = ptsname(m);
	int s = name ? open(name, O_RDWR) : -1;
	if (s < 0)
		die("open pts");
	if (ioctl(s, TIOCSCTTY, 0) < 0)
		die("TIOCSCTTY");
	dup2(s, 0);
	dup2(s, 1);
	dup2(s, 2);
	execv(argv[0], argv);
	die("execv");
	return 1;
}

static int act_io_uring_setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	long r = kret(syscall(SYS_io_uring_setup, 8, &p));
	printf("{\"op\":\"io-uring-setup\",\"pid\":%d,\"ret\":%ld,\"entries\":8}\n", getpid(), r);
	if (r >= 0)
		close((int)r);
	return 0;
}

static int act_connect_unix(const char *path)
{
	struct sockaddr_un sa;
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "vigil-act: unix path too long\n");
		return 2;
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	long r = kret(connect(s, (struct sockaddr *)&sa, sizeof sa));
	printf("{\"op\":\"connect-unix\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	close(s);
	return 0;
}

// Falco tells a server reading credentials at startup from one reading them later by the process's
// age when the open is evaluated: the process lingers so that age is read, not guessed.
static int act_read_after(unsigned secs, const char *path)
{
	sleep(secs);
	long r = kret(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
	printf("{\"op\":\"read-after\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	fflush(stdout);
	if (r >= 0)
		close((int)r);
	sleep(1);
	return 0;
}

// Rules on outbound connections look the socket up in /proc/<pid>/net (its protocol): the
// connection is held open for a while so it is still there when the connect is evaluated.
static int act_connect_tcp(const char *addr, int port, unsigned secs)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "vigil-act: not an IPv4 address: %s\n", addr);
		return 2;
	}
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	long r = kret(connect(s, (struct sockaddr *)&sa, sizeof sa));
	printf("{\"op\":\"connect-tcp\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	fflush(stdout);
	if (r == 0)
		sleep(secs);
	close(s);
	return 0;
}

static int act_open_write(const char *path)
{
	long r = kret(syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	printf("{\"op\":\"open-write\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	if (r >= 0)
		close((int)r);
	return 0;
}

static int act_rename(const char *from, const char *to)
{
	long r = kret(rename(from, to));
	printf("{\"op\":\"rename\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	return 0;
}

static int act_fork_exit(int code)
{
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0)
		_exit(code);
	int st;
	if (waitpid(child, &st, 0) < 0)
		die("waitpid");
	printf("{\"op\":\"fork-exit\",\"pid\":%d,\"child\":%d,\"status\":%d}\n", getpid(), child,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int act_mount_tmpfs(const char *dir)
{
	// A private mount namespace, so the tmpfs never shows on the host.
	if (unshare(CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	long r = kret(mount("vgl-tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m"));
	printf("{\"op\":\"mount-tmpfs\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	return 0;
}

// The "shocker" escape: a handle names an inode of the filesystem behind the mount fd, whatever the
// caller's root, so inode 2 of the filesystem a container's root lives on is the host's root there.
static int act_open_by_handle(const char *dir)
{
	int mfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		die("open the mount directory");
	union {
		struct file_handle h;
		char bytes[sizeof(struct file_handle) + 8];
	} fh;
	unsigned int ino_gen[2] = { 2, 0 };
	fh.h.handle_bytes = 8;
	fh.h.handle_type = 1; // FILEID_INO32_GEN: 32-bit inode number and generation
	memcpy(fh.h.f_handle, ino_gen, sizeof ino_gen);
	long r = kret(syscall(SYS_open_by_handle_at, mfd, &fh.h, O_RDONLY | O_DIRECTORY));
	printf("{\"op\":\"open-by-handle\",\"pid\":%d,\"ret\":%ld}\n", getpid(), r);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--chdir") == 0) {
		if (chdir(argv[i + 1]) < 0)
			die("chdir");
		i += 2;
	}
	if (i >= argc)
		usage();
	const char *cmd = argv[i];
	int nargs = argc - i - 1;
	char **a = argv + i + 1;

	if (strcmp(cmd, "memfd-exec") == 0)
		return act_memfd_exec();
	if (strcmp(cmd, "init-module") == 0)
		return act_init_module();
	if (strcmp(cmd, "finit-module") == 0 && nargs == 1)
		return act_finit_module(a[0]);
	if (strcmp(cmd, "bpf-prog-load") == 0)
		return act_bpf_prog_load();
	if (strcmp(cmd, "ptrace-attach") == 0)
		return act_ptrace_attach(nargs == 1 && strcmp(a[0], "--seize") == 0);
	if (strcmp(cmd, "tty-exec") == 0 && nargs >= 1)
		return act_tty_exec(a);
	if (strcmp(cmd, "ptrace-traceme") == 0)
		return act_ptrace_traceme();
	if (strcmp(cmd, "io-uring-setup") == 0)
		return act_io_uring_setup();
	if (strcmp(cmd, "connect-unix") == 0 && nargs == 1)
		return act_connect_unix(a[0]);
	if (strcmp(cmd, "open-write") == 0 && nargs == 1)
		return act_open_write(a[0]);
	if (strcmp(cmd, "rename") == 0 && nargs == 2)
		return act_rename(a[0], a[1]);
	if (strcmp(cmd, "fork-exit") == 0 && nargs == 1)
		return act_fork_exit(atoi(a[0]));
	if (strcmp(cmd, "exit") == 0 && nargs == 1)
		return atoi(a[0]);
	if (strcmp(cmd, "mount-tmpfs") == 0 && nargs == 1)
		return act_mount_tmpfs(a[0]);
	if (strcmp(cmd, "open-by-handle") == 0 && nargs == 1)
		return act_open_by_handle(a[0]);
	if (strcmp(cmd, "read-after") == 0 && nargs == 2)
		return act_read_after((unsigned)atoi(a[0]), a[1]);
	if (strcmp(cmd, "connect-tcp") == 0 && nargs == 3)
		return act_connect_tcp(a[0], atoi(a[1]), (unsigned)atoi(a[2]));
	usage();
	return 2;
}
