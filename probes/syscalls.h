/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records of the system-call probe (syscalls.bpf.c): namespace and credential changes, privileged
 * calls, watched files and connects. Only calls marked in the interesting-syscalls table reach it. */
#ifndef VIGIL_PROBES_SYSCALLS_H
#define VIGIL_PROBES_SYSCALLS_H

#include "common.h"

/*
 * Value of each entry of the interesting-syscalls table (vg_syscalls, indexed by syscall number).
 * User space owns the architecture's syscall numbers and says what each traced call is; the probe
 * stays architecture-neutral and dispatches on the handler. VG_H_IGNORE leaves the probe at once.
 */
enum vg_sc_handler {
	VG_H_IGNORE = 0,
	VG_H_GENERIC = 1,  /* syscall record with raw arguments (process_vm_writev, kexec_load,
	                    * userfaultfd, open_by_handle_at, io_uring_setup, keyctl, ...) */
	VG_H_EXECVE = 2,
	VG_H_EXECVEAT = 3,
	VG_H_CLONE = 4,
	VG_H_CLONE3 = 5,
	VG_H_FORK = 6,     /* fork, vfork */
	VG_H_UNSHARE = 7,
	VG_H_SETNS = 8,
	VG_H_MOUNT = 9,
	VG_H_UMOUNT2 = 10,
	VG_H_PIVOT_ROOT = 11,
	VG_H_CHROOT = 12,
	VG_H_INIT_MODULE = 13,
	VG_H_FINIT_MODULE = 14,
	VG_H_DELETE_MODULE = 15,
	VG_H_BPF = 16,
	VG_H_PTRACE = 17,
	VG_H_PERF_EVENT_OPEN = 18,
	VG_H_MEMFD_CREATE = 19,
	VG_H_MKNOD = 20,
	VG_H_MKNODAT = 21,
	VG_H_KEXEC_FILE_LOAD = 22,
	VG_H_CRED = 23,    /* setuid family, capset: only a cred_change is expected */
	VG_H_OPEN = 24,
	VG_H_OPENAT = 25,
	VG_H_OPENAT2 = 26,
	VG_H_CREAT = 27,
	VG_H_RENAME = 28,
	VG_H_RENAMEAT = 29, /* renameat, renameat2 */
	VG_H_LINK = 30,
	VG_H_LINKAT = 31,
	VG_H_SYMLINK = 32,
	VG_H_SYMLINKAT = 33,
	VG_H_UNLINK = 34,
	VG_H_UNLINKAT = 35,
	VG_H_CONNECT = 36,
	VG_H_SOCKET = 37,   /* only AF_PACKET and raw inet sockets are sent */
	VG_H_DUP = 38,      /* dup, dup2, dup3: only an inet socket landing on fd 0, 1 or 2 */
	VG_H_CHMOD = 39,    /* chmod: only modes with a setuid, setgid or execute bit */
	VG_H_FCHMOD = 40,
	VG_H_FCHMODAT = 41, /* fchmodat, fchmodat2 */
	VG_H_MKDIR = 42,   /* mkdir, mkdirat: all but those that failed with EEXIST */
	VG_H_MKDIRAT = 43,
	VG_H_OPEN_BY_HANDLE = 48, /* open_by_handle_at: a syscall record (str 0: the mount fd's path)
	                           * and, like any open, a file record when the file is watched */
	VG_H_MAX = 64,
};

/* ns_change: old and new namespace inodes of the calling task (unshare, setns) or of the parent and
 * the new child (clone, clone3 with CLONE_NEW*). The pid slot holds pid_ns_for_children here, which
 * is what unshare(CLONE_NEWPID) and setns into a pid namespace change. unshare/setns send one when a
 * namespace inode changed or the call failed (an unchanged successful call, e.g. setns into the
 * namespace the task is already in, sends none); clone/clone3 send one per child with CLONE_NEW*. */
struct vg_ns_change {
	struct vg_header hdr;
	__u32 syscall_nr;
	__s32 retval;
	__u64 flags;       /* unshare/clone flags, or setns's nstype argument */
	__u32 changed;     /* bit (1 << enum vg_ns_index) for each namespace whose inode changed */
	__u32 child_pid;   /* clone/clone3: the new process; 0 otherwise */
	__u32 old_ns[VG_NS_COUNT];
	__u32 new_ns[VG_NS_COUNT];
};

/* cred_change: credentials before a traced system call (saved at entry) and after it (at exit). */
struct vg_cred_change {
	struct vg_header hdr;
	__u32 syscall_nr;
	__s32 retval;
	struct vg_creds old_creds;
	struct vg_creds new_creds;
};

#define VG_SC_STR_TRUNCATED (1u << 0)     /* a string argument was longer than VG_STR_MAX */
#define VG_SC_TARGET_VALID (1u << 1)      /* target_* fields are filled (ptrace attach/seize) */
#define VG_SC_NS_TARGET_VALID (1u << 2)   /* target_ns_* fields are filled (setns on a namespace fd) */
#define VG_SC_STR0_RESOLVED (1u << 3)     /* str 0 is a kernel-resolved path of an fd argument */
#define VG_SC_STR0_JOINED (1u << 4)       /* str 0 is the dirfd's (or cwd's) resolved path joined with
                                           * the path argument as given (chmod, mkdir families) */
#define VG_SC_ROOT_HOST_FS (1u << 8)      /* chroot, pivot_root: the new root is on a host filesystem (vg_host_fs) */

/* syscall: a privileged or escape-relevant call with its raw arguments, decoded in user space by
 * syscall number, and up to three string arguments read at entry. Followed by str_len[0..2] bytes. */
struct vg_syscall {
	struct vg_header hdr;
	__u32 nr;
	__u32 flags; /* VG_SC_* */
	__s64 retval;
	__u64 args[6];
	__u32 target_pid;       /* ptrace: the traced process (initial pid namespace) */
	__u32 target_pid_ns;    /* ptrace: its active pid namespace inode */
	__u64 target_cgroup_id; /* ptrace: its cgroup v2 id */
	__u32 target_ns_type;   /* setns: CLONE_NEW* type of the namespace behind the fd */
	__u32 target_ns_ino;    /* setns: inode number of that namespace */
	__u32 detail;           /* bpf: attr.prog_type (PROG_LOAD) or attr.map_type (MAP_CREATE);
	                         * perf_event_open: attr.type; dup family: the socket's family */
	__u16 str_len[3];
	__u16 _pad0;
	__u32 _pad1;
};

enum vg_file_op {
	VG_FILE_OP_UNSPECIFIED = 0,
	VG_FILE_OP_OPEN = 1,
	VG_FILE_OP_RENAME = 2,
	VG_FILE_OP_LINK = 3,
	VG_FILE_OP_SYMLINK = 4,
	VG_FILE_OP_UNLINK = 5,
};

#define VG_FILE_WRITE (1u << 0)          /* opened for writing (O_WRONLY, O_RDWR, O_TRUNC, O_APPEND, O_CREAT) */
#define VG_FILE_CREATE (1u << 1)         /* O_CREAT or creat() */
#define VG_FILE_PATH_RESOLVED (1u << 2)  /* path is the kernel's: a dentry and mount walk from the new fd */
#define VG_FILE_PATH_TRUNCATED (1u << 3) /* walk or copy was cut at the bounds */
#define VG_FILE_MATCH_PATH (1u << 4)     /* path matched the watch table */
#define VG_FILE_MATCH_DEST (1u << 5)     /* dest matched the watch table */
#define VG_FILE_CREATED (1u << 6)        /* the open created the file (the kernel's FMODE_CREATED) */
#define VG_FILE_FS_PATH (1u << 8)        /* opens: fs_magic and the path within the filesystem are filled */
#define VG_FILE_HOST_MOUNT (1u << 9)     /* opens: the file is on a host filesystem mounted into the container */
#define VG_FILE_MATCH_IDENT (1u << 10)   /* opens: the identity (fs_magic, fs path) matched an identity watch */
#define VG_FILE_RAW (1u << 11)           /* opens: the traversal class; raw_len bytes of the argument as written */

/* file: a watched path was opened, or named as source or destination of rename/link/symlink/unlink;
 * or an open created a file that is hidden (name starts with '.'), executable, or directly in /dev
 * (VG_FILE_CREATED, watch_id 0, mode: the new inode's permission bits).
 * Opens carry the kernel-resolved path of the returned fd, and the file's identity: the magic of its
 * filesystem and its path within that filesystem (VG_FILE_FS_PATH). The others carry the directory
 * (the dirfd's or the cwd's, resolved by the kernel) joined with the argument as given; user space
 * normalises "." and "..". Followed by path_len, dest_len, fs_path_len, then raw_len bytes. */
struct vg_file {
	struct vg_header hdr;
	__u32 nr;
	__s32 retval;
	__u32 op;         /* enum vg_file_op */
	__u32 open_flags; /* open, openat, openat2, creat */
	__u32 mode;
	__u32 flags;      /* VG_FILE_* */
	__u32 watch_id;   /* vg_watch_value.id of the entry that matched */
	__u32 dev;        /* st_dev of the opened file */
	__u64 ino;        /* inode of the opened file */
	__u16 path_len;
	__u16 dest_len;   /* rename, link, symlink: the new name */
	__u32 fs_magic;   /* opens: s_magic of the file's superblock */
	__u16 fs_path_len; /* opens: the path within the filesystem's root */
	__u16 raw_len;    /* opens of the traversal class: the path argument as written */
	__u32 repeats;    /* opens: identical opens coalesced since the last record of this key was sent
	                   * (VG_COALESCE_WINDOW_NS; common.h) */
};

#define VG_CONN_PATH_RESOLVED (1u << 0) /* unix path is the kernel's: the peer socket's bound path */

/* connect: unix sockets whose path matches the watch table, and inet/inet6 when enabled in
 * vg_config. Followed by path_len bytes of the unix socket path. */
struct vg_connect {
	struct vg_header hdr;
	__u32 nr;
	__s32 retval;
	__u16 family; /* AF_UNIX, AF_INET, AF_INET6 */
	__u16 port;   /* host byte order */
	__u32 flags;  /* VG_CONN_* */
	__u8 addr[16]; /* inet: 4 bytes, inet6: 16 bytes, network order */
	__u32 watch_id;
	__u16 path_len;
	__u16 _pad0;
};

VG_STATIC_ASSERT(sizeof(struct vg_ns_change) == 96 + 80, "vg_ns_change layout");
VG_STATIC_ASSERT(sizeof(struct vg_cred_change) == 96 + 120, "vg_cred_change layout");
VG_STATIC_ASSERT(sizeof(struct vg_syscall) == 96 + 104, "vg_syscall layout");
VG_STATIC_ASSERT(sizeof(struct vg_file) == 96 + 56, "vg_file layout");
VG_STATIC_ASSERT(sizeof(struct vg_connect) == 96 + 40, "vg_connect layout");

#endif /* VIGIL_PROBES_SYSCALLS_H */
