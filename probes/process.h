/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records of the process life-cycle probe (process.bpf.c): exec, fork, exit. */
#ifndef VIGIL_PROBES_PROCESS_H
#define VIGIL_PROBES_PROCESS_H

#include "common.h"

#define VG_EXEC_FILELESS (1u << 0)       /* executable is a memfd or has no link left (deleted) */
#define VG_EXEC_SETUID (1u << 1)         /* euid raised by a setuid executable */
#define VG_EXEC_SETGID (1u << 2)         /* egid raised by a setgid executable */
#define VG_EXEC_FILECAPS (1u << 3)       /* permitted capabilities gained through file capabilities */
#define VG_EXEC_ARGS_TRUNCATED (1u << 4) /* argv had more than VG_ARGC_MAX entries or VG_ARGS_MAX bytes */
#define VG_EXEC_PATH_TRUNCATED (1u << 5) /* resolved path longer than VG_PATH_MAX or deeper than the walk */
#define VG_EXEC_NO_PRIOR_CREDS (1u << 6) /* no entry saved at execve entry: the raise flags are unknown */
#define VG_EXEC_HOST_FS (1u << 8)        /* the executable is on a host filesystem mounted into the container */

/* vg_exec.stdio: what each of fds 0-2 is */
#define VG_STDIO_UNKNOWN 0 /* not read (a failed exec) */
#define VG_STDIO_CLOSED 1
#define VG_STDIO_FILE 2 /* a regular file, directory or non-tty device */
#define VG_STDIO_PIPE 3 /* a pipe or FIFO */
#define VG_STDIO_TTY 4
#define VG_STDIO_ANON 5 /* an anonymous inode (eventfd, epoll, ...) */
#define VG_STDIO_SOCKET_INET 6 /* TCP or UDP, v4 or v6 */
#define VG_STDIO_SOCKET_UNIX 7
#define VG_STDIO_SOCKET_OTHER 8 /* netlink, packet, vsock, ... */

/* Followed by path_len bytes of the kernel-resolved executable path (no NUL), then args_len bytes of
 * argv, each argument NUL-terminated. A failed exec (retval < 0) carries the path argument as given. */
struct vg_exec {
	struct vg_header hdr;
	__s32 retval;
	__u32 flags; /* VG_EXEC_* */
	struct vg_creds creds; /* after the exec */
	__u64 exe_ino;
	__u32 exe_dev;
	__u16 path_len;
	__u16 args_len;
	__u16 argc;
	__u16 _pad0;
	__u8 stdio[4]; /* fds 0, 1 and 2 after the exec as VG_STDIO_*; [3] is 0 */
};

/* hdr describes the parent. Threads are not reported, only new processes. */
struct vg_fork {
	struct vg_header hdr;
	__u32 child_pid;
	__u32 child_vpid;
	__u64 clone_flags; /* from the clone/clone3 arguments saved at entry; 0 for fork/vfork */
};

struct vg_exit {
	struct vg_header hdr;
	__s32 exit_code; /* (status >> 8) & 0xff */
	__u32 signal;    /* status & 0x7f; 0 when the process exited normally */
	__u32 core_dumped;
	__u32 _pad0;
};

VG_STATIC_ASSERT(sizeof(struct vg_exec) == 96 + 88, "vg_exec layout");
VG_STATIC_ASSERT(sizeof(struct vg_fork) == 96 + 16, "vg_fork layout");
VG_STATIC_ASSERT(sizeof(struct vg_exit) == 96 + 16, "vg_exit layout");

#endif /* VIGIL_PROBES_PROCESS_H */
