/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel-to-user contract shared by every probe, native/ and (through the BTF of the compiled
 * objects) the TypeScript decoders. Plain fixed-width types only: this header is included by BPF C
 * (with vmlinux.h) and by ordinary C/C++ (with <linux/types.h>).
 *
 * Every record in the ring buffer starts with struct vg_header. Records with variable data end with a
 * fixed struct followed by the variable bytes; the fixed struct names their lengths. hdr.size is the
 * length the probe wrote (fixed part plus variable bytes); readers step to the next record at
 * hdr.size rounded up to 8.
 */
#ifndef VIGIL_PROBES_COMMON_H
#define VIGIL_PROBES_COMMON_H

#define VG_TASK_COMM_LEN 16
/* Bounds on what one record may carry, so every record fits one ring-buffer reservation. */
#define VG_PATH_MAX 512      /* resolved paths; longer paths are cut and flagged */
#define VG_ARGS_MAX 1024     /* argv bytes of an exec, NUL-separated */
#define VG_ARGC_MAX 16       /* argv entries of an exec */
#define VG_STR_MAX 256       /* each string argument of a traced syscall */
#define VG_UNIX_PATH_MAX 108 /* sizeof(sun_path) */
#define VG_NAME_MAX 64       /* a watched basename */
#define VG_WATCH_PATH_MAX 256 /* a watched path prefix: the kernel's LPM_TRIE keys hold at most 256 data bytes */
#define VG_SYSCALL_MAX 512   /* size of the interesting-syscalls table */

enum vg_kind {
	VG_KIND_UNSPECIFIED = 0,
	VG_KIND_EXEC = 1,
	VG_KIND_FORK = 2,
	VG_KIND_EXIT = 3,
	VG_KIND_NS_CHANGE = 4,
	VG_KIND_CRED_CHANGE = 5,
	VG_KIND_SYSCALL = 6,
	VG_KIND_FILE = 7,
	VG_KIND_CONNECT = 8,
	VG_KIND_CGROUP_MKDIR = 9,
	VG_KIND_CGROUP_RMDIR = 10,
	VG_KIND_ENFORCE = 11, /* enforce.h: an enforced call was stopped */
	VG_KIND_MAX = 16, /* size of the per-kind counter arrays; kinds stay below it */
};

/* Index of each namespace in the ns arrays of records (and bit in vg_ns_change.changed). */
enum vg_ns_index {
	VG_NS_MNT = 0,
	VG_NS_PID = 1,
	VG_NS_NET = 2,
	VG_NS_USER = 3,
	VG_NS_UTS = 4,
	VG_NS_IPC = 5,
	VG_NS_CGROUP = 6,
	VG_NS_COUNT = 7,
};

struct vg_header {
	__u16 kind;      /* enum vg_kind */
	__u16 size;      /* bytes written by the probe, this header included */
	__u32 vpid;      /* tgid as seen from the task's own pid namespace */
	__u64 ktime_ns;  /* bpf_ktime_get_boot_ns(); user space adds the boot-to-wall offset */
	__u32 pid;       /* tgid in the initial pid namespace */
	__u32 tid;
	__u32 ppid;      /* real_parent's tgid */
	__u32 uid;       /* real uid */
	__u32 gid;       /* real gid */
	__u32 loginuid;  /* audit login uid, 0xffffffff when unset */
	__u64 cgroup_id; /* cgroup v2 id of the task (bpf_get_current_cgroup_id) */
	__u32 ns[VG_NS_COUNT]; /* namespace inode numbers, indexed by enum vg_ns_index; pid = active */
	__u32 _pad0;
	char comm[VG_TASK_COMM_LEN];
};

struct vg_creds {
	__u32 uid, euid, suid, fsuid;
	__u32 gid, egid, sgid, fsgid;
	__u64 cap_effective;
	__u64 cap_permitted;
	__u64 cap_inheritable;
};

/* Per-CPU counters (one entry of a PERCPU_ARRAY); user space sums the CPUs. */
struct vg_counters {
	__u64 emitted[VG_KIND_MAX];
	__u64 dropped[VG_KIND_MAX]; /* ring buffer full (or past the kind's share of it, below) */
	/* The part of dropped the probes chose to shed (a kind's share of the ring, a cgroup's budget),
	 * not what a full ring refused. */
	__u64 shed[VG_KIND_MAX];
	/* Records not sent because they repeated one sent moments before (VG_COALESCE_WINDOW_NS):
	 * neither sent nor dropped; each repeat is counted in the next record sent for its key. */
	__u64 coalesced[VG_KIND_MAX];
};

/*
 * Shares of the ring buffer: fork and exit records are sent only while the ring is less than 3/4
 * full, exec records while it is less than 7/8 full. A storm of short processes then fills at most
 * that much, and the records an attack is made of (file, syscall, namespace, credential, connect)
 * still find room. Sheds count as drops of their kind.
 */
#define VG_RING_SHARE_BULK_EIGHTHS 6
#define VG_RING_SHARE_EXEC_EIGHTHS 7

/*
 * Fairness between cgroups: each cgroup may send exec, fork and exit records at VG_CGROUP_RATE a
 * second on average (bursts of VG_CGROUP_BURST). Over that budget its records are shed only while
 * the reader is behind (the ring more than 1/8 full), so a host that keeps up loses nothing, and a
 * container flooding the sensor neither fills the ring nor delays everyone else's records behind
 * its own. A build or a forking server stays well under 5,000 records (1,700 programs) a second.
 */
#define VG_CGROUP_RATE 5000
#define VG_CGROUP_BURST 20000
#define VG_CGROUP_BUDGETS_MAX 4096

/*
 * The same for file records, by cgroup and watch (the watch id a rule's path became), while the
 * ring is more than half full: each pair earns VG_FILE_RATE tokens a second (at most
 * VG_FILE_BURST), and may fill the second half of the ring in proportion to the tokens it has left
 * (syscalls.bpf.c vg_file_budget_take). A storm of opens over one class of watched files then
 * sheds that class of that container only, and keeps to the first half: its other acts (another
 * watched file) and every other container keep the rest. Identical opens are coalesced before
 * this (VG_COALESCE_WINDOW_NS), so only distinct records spend tokens.
 */
#define VG_FILE_RATE 1000
#define VG_FILE_BURST 2000

/*
 * Coalescing of identical opens, per CPU: an open by the same process (tgid, credentials and comm),
 * of the same file (dentry, mount and inode), with the same flags and watch, within
 * VG_COALESCE_WINDOW_NS of the last one sent, is counted (vg_counters.coalesced) and not sent; the
 * next one sent for that key after the window carries the count (vg_file.repeats). A direct-mapped
 * table of VG_COALESCE_SLOTS: a colliding key replaces the slot (its pending count then reaches
 * user space only in the counter), so a first occurrence is never coalesced away.
 */
#define VG_COALESCE_WINDOW_NS 1000000000ULL
#define VG_COALESCE_SLOTS 1024

/* Drops by the cgroup (v2 id, as in the record header) of the task whose record was dropped: the
 * container flooding the sensor. An LRU hash of this many cgroups. */
#define VG_DROPPED_CGROUPS_MAX 1024

/* Global settings, one entry of an ARRAY map, written by user space at any time. */
#define VG_CFG_CONNECT_INET (1u << 0) /* send inet/inet6 connects (unix ones are matched by watches) */
#define VG_CFG_FAILED_EXEC (1u << 1)  /* send execs that failed */
/* The reader also drains the ring buffer on a timer: the probes then wake it only once
 * VG_WAKEUP_BYTES are waiting, instead of for each record that finds it idle (a wakeup costs an
 * IPI, several microseconds on virtual machines). Without a timer the last records could wait. */
#define VG_CFG_BATCH_WAKEUP (1u << 2)
#define VG_WAKEUP_BYTES (64 * 1024)
struct vg_config {
	__u32 flags;
	__u32 watch_gen; /* bumped by user space after each change of the watch table */
	/* Watch id of the traversal open class: opens whose path argument contains "../" are sent
	 * whatever file they reach, with the argument as written (Falco's fd.nameraw). 0: off. Written
	 * with the watch table. */
	__u32 traversal_id;
	/* Watch id of the magic-link write class: write-intent opens whose path argument starts with
	 * "/proc/" (a file reached through /proc/<pid>/fd/N or /proc/<pid>/exe, as CVE-2019-5736 does)
	 * are sent with the argument as written. 0: off. Written with the watch table. */
	__u32 proclink_id;
};

/* Watch table. A path matches when a prefix entry of the LPM trie covers it (an entry marked exact
 * must cover it whole), or when its last component is in the basename hash. */
#define VG_WATCH_EXACT (1u << 0)
/* Write watches (the vg_watch_write trie, same keys): entries that match only opens with write
 * intent (O_WRONLY, O_RDWR, O_TRUNC, O_APPEND, O_CREAT) and both sides of rename, link, symlink
 * and unlink, so a rule on writes below /etc costs nothing for the reads below it. */
#define VG_WATCH_WRITE_ONLY (1u << 1)
struct vg_watch_prefix_key {
	__u32 prefixlen; /* in bits, as BPF_MAP_TYPE_LPM_TRIE wants */
	char path[VG_WATCH_PATH_MAX]; /* paths are matched on their first VG_WATCH_PATH_MAX bytes */
};
struct vg_watch_value {
	__u32 flags; /* VG_WATCH_* */
	__u32 id;    /* user space's id for the entry, echoed in records */
};
struct vg_watch_name_key {
	char name[VG_NAME_MAX]; /* zero-padded */
};
/* Identity watches: a file by its filesystem (superblock magic; 0 for any) and its path within that
 * filesystem's root, which no bind mount, host mount, chroot or rename of a mount point changes.
 * Prefix and exact entries share one LPM trie (magic first, so it is part of every prefix); name
 * entries match the file's own last component on its filesystem. */
/* Suffix watches: a path matches when it ends with the entry (Falco's endswith on fd.name). The key
 * is the path's last VG_NAME_MAX bytes reversed, so the trie's longest prefix is the longest suffix. */
struct vg_watch_suffix_key {
	__u32 prefixlen;
	char rev[VG_NAME_MAX];
};
#define VG_IDENT_PATH_MAX (VG_WATCH_PATH_MAX - 4)
struct vg_watch_ident_key {
	__u32 prefixlen; /* in bits, magic included */
	__u32 magic;
	char path[VG_IDENT_PATH_MAX];
};
struct vg_watch_ident_name_key {
	__u32 magic;
	char name[VG_NAME_MAX]; /* zero-padded */
};

#ifdef __cplusplus
#define VG_STATIC_ASSERT static_assert
#else
#define VG_STATIC_ASSERT _Static_assert
#endif

VG_STATIC_ASSERT(sizeof(struct vg_header) == 96, "vg_header layout");
VG_STATIC_ASSERT(sizeof(struct vg_creds) == 56, "vg_creds layout");
VG_STATIC_ASSERT(sizeof(struct vg_counters) == 512, "vg_counters layout");
VG_STATIC_ASSERT(sizeof(struct vg_watch_prefix_key) == 4 + 256, "vg_watch_prefix_key layout (LPM_TRIE limit)");
VG_STATIC_ASSERT(sizeof(struct vg_watch_suffix_key) == 4 + VG_NAME_MAX, "vg_watch_suffix_key layout");
VG_STATIC_ASSERT(sizeof(struct vg_config) == 16, "vg_config layout");
VG_STATIC_ASSERT(sizeof(struct vg_watch_ident_key) == 4 + 256, "vg_watch_ident_key layout (LPM_TRIE limit)");
VG_STATIC_ASSERT(sizeof(struct vg_watch_ident_name_key) == 68, "vg_watch_ident_name_key layout");

#endif /* VIGIL_PROBES_COMMON_H */
