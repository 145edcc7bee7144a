// eventgen: a paced generator of file events for the ingest benchmark (bench/ingest.ts).
//
// Usage: eventgen PATH RATE SECONDS [FILES]
//
// Opens PATH for writing (open + close) RATE times a second for SECONDS, paced in 1 ms steps so the
// load is even rather than one burst, and prints {"ops", "seconds", "rate"} as one JSON line: what it
// really did, since at high rates one core may not keep up with the target. With FILES > 1 it opens
// PATH0 .. PATH<FILES-1> in turn instead: the probes coalesce repeated identical opens (one record a
// second per process and file), so a benchmark of events that reach user space needs many files.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: eventgen PATH RATE SECONDS [FILES]\n");
		return 2;
	}
	const char *path = argv[1];
	double rate = atof(argv[2]);
	double seconds = atof(argv[3]);
	long files = argc == 5 ? atol(argv[4]) : 1;
	if (rate <= 0 || seconds <= 0 || files <= 0) {
		fprintf(stderr, "eventgen: RATE, SECONDS and FILES must be positive\n");
		return 2;
	}
	char name[4096];
	long long ops = 0, failed = 0;
	double start = now(), t = start;
	const struct timespec step = {0, 1000000}; // 1 ms
	while ((t = now()) - start < seconds) {
		long long due = (long long)((t - start) * rate);
		// Catch up to the schedule, then sleep a step. A burst is at most 2 ms of the target rate, so
		// a generator that falls behind still stops on time.
		long long burst_max = (long long)(rate * 0.002) + 1;
		if (due - ops > burst_max)
			due = ops + burst_max;
		while (ops < due) {
			const char *target = path;
			if (files > 1) {
				snprintf(name, sizeof name, "%s%lld", path, ops % files);
				target = name;
			}
			int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd < 0)
				failed++;
			else
				close(fd);
			ops++;
		}
		nanosleep(&step, NULL);
	}
	double took = now() - start;
	printf("{\"ops\":%lld,\"failed\":%lld,\"seconds\":%.3f,\"rate\":%.0f}\n", ops, failed, took,
	       ops / took);
	return failed ? 1 : 0;
}
