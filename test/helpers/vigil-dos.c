// vigil-dos: denial-of-service techniques for the integration tests, each bounded in time.
//
// Usage: vigil-dos SUBCOMMAND SECONDS [ARGS...]
//
// Every subcommand stops by itself after SECONDS (an alarm ends the process even when it is stuck
// in the kernel), prints one JSON line on stdout with what it achieved, and exits 0; exit 2 is bad
// usage, 1 a step it depends on failed (message on stderr). Busybox has no tool for these: threads,
// descriptor tables filled to the limit, a datagram flood at full speed, a write+fdatasync loop.
//
//   threads SECONDS [MAX]     pthread_create until EAGAIN (the pids limit), then hold the threads
//                             and keep trying; with MAX, a pool of at most MAX threads that waits
//   fds SECONDS               raise RLIMIT_NOFILE's soft limit to its hard limit, open /dev/null until
//                             EMFILE, then keep trying a few times a second while holding them
//   udp SECONDS [PORT [SIZE]] send SIZE-byte UDP datagrams (default 64) to 127.0.0.1:PORT (default
//                             9999, a bound socket that never reads) with sendmmsg, as fast as it can
//   fsync SECONDS PATH [WRITERS [KIB]]
//                             WRITERS processes (default 1) each write KIB KiB (default 64) to
//                             PATH (PATH.1, ...) and fdatasync it, over and over, within 32 MiB
//   oom SECONDS               fork a child that allocates and touches memory until the OOM killer
//                             kills it; again, and again
//   alloc SECONDS MIB         allocate and touch MIB MiB once, hold it, free it
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "vigil-dos: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: vigil-dos threads|fds|udp|fsync|oom|alloc SECONDS [ARGS]\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *parked(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int do_threads(double secs, long max)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	long n = 0;
	int err = 0;
	while (max <= 0 || n < max) {
		pthread_t t;
		err = pthread_create(&t, &attr, parked, NULL);
		if (err != 0)
			break;
		n++;
	}
	printf("{\"op\":\"threads\",\"pid\":%d,\"threads\":%ld,\"errno\":%d}\n", getpid(), n, err);
	fflush(stdout);
	// Keep trying, as a bomb does, while the threads hold the limit (a bounded pool just waits).
	double end = now() + secs;
	while (now() < end) {
		pthread_t t;
		if (err != 0 && pthread_create(&t, &attr, parked, NULL) == 0)
			n++;
		usleep(100000);
	}
	return 0;
}

static int do_fds(double secs)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	long n = 0;
	int err = 0;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			err = errno;
			break;
		}
		n++;
	}
	printf("{\"op\":\"fds\",\"pid\":%d,\"fds\":%ld,\"limit\":%llu,\"errno\":%d}\n", getpid(), n,
	       (unsigned long long)rl.rlim_cur, err);
	fflush(stdout);
	// Keep the table full: any descriptor that frees up is taken again.
	double end = now() + secs;
	while (now() < end) {
		(void)open("/dev/null", O_RDONLY);
		usleep(50000);
	}
	return 0;
}

static int do_udp(double secs, int port, size_t size)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0)
		die("socket");
	if (bind(rx, (struct sockaddr *)&to, sizeof to) < 0)
		die("bind");
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (tx < 0)
		die("socket");
	if (connect(tx, (struct sockaddr *)&to, sizeof to) < 0)
		die("connect");
	enum { BATCH = 64 };
	static char payload[65000];
	if (size < 1 || size > sizeof payload)
		usage();
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = payload;
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	double end = now() + secs;
	unsigned long long sent = 0;
	while (now() < end) {
		for (int k = 0; k < 64; k++) {
			int r = sendmmsg(tx, msgs, BATCH, 0);
			if (r > 0)
				sent += r;
		}
	}
	printf("{\"op\":\"udp\",\"pid\":%d,\"sent\":%llu}\n", getpid(), sent);
	return 0;
}

static unsigned long long fsync_loop(double end, const char *path, size_t block)
{
	char *buf = malloc(block);
	if (!buf)
		die("malloc");
	memset(buf, 'v', block);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	unsigned long long syncs = 0;
	off_t off = 0;
	while (now() < end) {
		if (pwrite(fd, buf, block, off) != (ssize_t)block)
			die("pwrite");
		if (fdatasync(fd) < 0)
			die("fdatasync");
		syncs++;
		off += block;
		if (off >= 32 << 20)
			off = 0; // each writer stays within 32 MiB of disk
	}
	close(fd);
	unlink(path);
	free(buf);
	return syncs;
}

static int do_fsync(double secs, const char *path, int writers, long kib)
{
	double end = now() + secs;
	if (writers < 1 || writers > 16 || kib < 1 || kib > 4096)
		usage();
	for (int i = 1; i < writers; i++) {
		pid_t c = fork();
		if (c < 0)
			die("fork");
		if (c == 0) {
			char p[4096];
			snprintf(p, sizeof p, "%s.%d", path, i);
			fsync_loop(end, p, (size_t)kib << 10);
			_exit(0);
		}
	}
	unsigned long long syncs = fsync_loop(end, path, (size_t)kib << 10);
	while (wait(NULL) > 0)
		;
	printf("{\"op\":\"fsync\",\"pid\":%d,\"writers\":%d,\"syncs\":%llu}\n", getpid(), writers, syncs);
	return 0;
}

static void touch_forever(void)
{
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p)
			continue;
		memset(p, 1, 1 << 20);
	}
}

static int do_oom(double secs)
{
	double end = now() + secs;
	long killed = 0, runs = 0;
	while (now() < end) {
		pid_t c = fork();
		if (c < 0) {
			usleep(100000);
			continue;
		}
		if (c == 0) {
			alarm((unsigned)secs + 1);
			touch_forever();
		}
		runs++;
		int st;
		if (waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			killed++;
		usleep(100000); // a crash loop's restart delay
	}
	printf("{\"op\":\"oom\",\"pid\":%d,\"runs\":%ld,\"killed\":%ld}\n", getpid(), runs, killed);
	return 0;
}

static int do_alloc(double secs, long mib)
{
	size_t n = (size_t)mib << 20;
	char *p = malloc(n);
	if (!p)
		die("malloc");
	memset(p, 1, n);
	printf("{\"op\":\"alloc\",\"pid\":%d,\"mib\":%ld}\n", getpid(), mib);
	fflush(stdout);
	usleep((useconds_t)(secs * 1e6));
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	const char *cmd = argv[1];
	double secs = atof(argv[2]);
	if (!(secs > 0) || secs > 3600)
		usage();
	// The bound: whatever happens, the process is gone a little after SECONDS.
	alarm((unsigned)secs + 5);
	if (!strcmp(cmd, "threads"))
		return do_threads(secs, argc > 3 ? atol(argv[3]) : 0);
	if (!strcmp(cmd, "fds"))
		return do_fds(secs);
	if (!strcmp(cmd, "udp"))
		return do_udp(secs, argc > 3 ? atoi(argv[3]) : 9999, argc > 4 ? (size_t)atol(argv[4]) : 64);
	if (!strcmp(cmd, "fsync") && argc > 3)
		return do_fsync(secs, argv[3], argc > 4 ? atoi(argv[4]) : 1, argc > 5 ? atol(argv[5]) : 64);
	if (!strcmp(cmd, "oom"))
		return do_oom(secs);
	if (!strcmp(cmd, "alloc") && argc > 3)
		return do_alloc(secs, atol(argv[3]));
	usage();
	return 2;
}
