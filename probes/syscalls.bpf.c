/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * System calls: one dispatcher on tp_btf/sys_enter and tp_btf/sys_exit, driven by vg_syscalls
 * (syscall number -> enum vg_sc_handler, filled by user space, which owns the architecture's
 * numbers). An uninteresting call leaves after one inlined array lookup.
 *
 * Entry does work only for exec (cred snapshot = prior creds), the clone family (flags for
 * sched_process_fork) and unshare/setns (namespaces before the call). Everything else is done at
 * exit, where every traced call also runs the cred check:
 *   cred_change  task->cred pointer differs from the per-task snapshot and a value differs
 *                (commit_creds always installs a new cred, so a same pointer means no change).
 *                Also checked at execve/execveat entry (retval 0 there) so a change made through an
 *                untraced path is reported before the exec refreshes the snapshot.
 *   ns_change    unshare/setns: sent when a namespace changed or the call failed.
 *   syscall      privileged calls, with raw args, strings and per-call details; socket, the dup
 *                family, the chmod family and refused setuid-family calls only when the kernel-side
 *                filter of each finds them interesting (packet/raw sockets, an inet socket made fd
 *                0-2, setuid/setgid/execute modes).
 *   file         opens (fd >= 0) whose resolved path matches the watch table; rename/link/symlink/
 *                unlink whose source or destination (directory + argument) matches; files an open
 *                created that are hidden, executable or directly in /dev.
 *   connect      unix sockets matching the watch table; inet when VG_CFG_CONNECT_INET, and
 *                169.254.169.254 (cloud metadata) always.
 *   exec         failed execve/execveat when VG_CFG_FAILED_EXEC (successful ones: process.bpf.c).
 */
#include "maps.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "process.h"
#include "syscalls.h"
#include <bpf/bpf_endian.h>

/* Generic (asm-generic/fcntl.h) values, the same on x86 and arm64. */
#define VG_O_WRONLY 01
#define VG_O_RDWR 02
#define VG_O_CREAT 0100
#define VG_O_TRUNC 01000
#define VG_O_APPEND 02000
/* the flags that make an open a write (Falco's evt.is_open_write, VG_FILE_WRITE) */
#define VG_O_WRITE_INTENT (VG_O_WRONLY | VG_O_RDWR | VG_O_TRUNC | VG_O_APPEND | VG_O_CREAT)
#define VG_AT_FDCWD -100
#define VG_PTRACE_ATTACH 16
#define VG_PTRACE_SEIZE 0x4206
#define VG_BPF_MAP_CREATE 0
#define VG_BPF_PROG_LOAD 5
#define VG_NSFS_MAGIC 0x6e736673
#define VG_AF_PACKET 17
#define VG_SOCK_RAW 3
#define VG_SOCK_TYPE_MASK 0xf
#define VG_S_ISUID 04000
#define VG_S_ISGID 02000
#define VG_S_IXALL 0111
#define VG_EEXIST 17
#define VG_FMODE_CREATED 0x100000 /* include/linux/fs.h: set when the open created the file */
#define VG_METADATA_V4 0xa9fea9feu /* 169.254.169.254, host order */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u32);
} vg_syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct vg_watch_prefix_key);
	__type(value, struct vg_watch_value);
} vg_watch_prefix SEC(".maps");

/* Write watches (common.h VG_WATCH_WRITE_ONLY): the same keys and exact-entry rule as
 * vg_watch_prefix, looked up only for opens with write intent and for rename/link/symlink/unlink.
 * A trie of their own, so no read entry shadows them and they shadow no read entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vg_watch_prefix_key);
	__type(value, struct vg_watch_value);
} vg_watch_write SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vg_watch_name_key);
	__type(value, struct vg_watch_value);
} vg_watch_name SEC(".maps");

/* Identity watches (common.h): (fs magic, path within the filesystem); magic 0 matches any. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct vg_watch_ident_key);
	__type(value, struct vg_watch_value);
} vg_watch_ident SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vg_watch_ident_name_key);
	__type(value, struct vg_watch_value);
} vg_watch_ident_name SEC(".maps");

/* Suffix watches (common.h vg_watch_suffix_key): Falco's endswith on fd.name. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 256);
	__type(key, struct vg_watch_suffix_key);
	__type(value, struct vg_watch_value);
} vg_watch_suffix SEC(".maps");

/*
 * Negative cache of opens: (dentry, vfsmount) pairs whose resolved path matched nothing, so repeated
 * opens of unwatched files skip the walk. Per-CPU and direct-mapped (the slot is a hash of the name
 * hash and inode number; a new entry replaces the old one): a lookup is an inlined array access and a
 * few compares, with no hashing helper or lock on the open path. A slot is valid only at the
 * generation it was computed at (vg_config.watch_gen << 32 | vg_kgen; vg_kgen is bumped on every
 * successful rename, link, mount, umount2, pivot_root, chroot and generic call, so moving an ancestor
 * cannot evade a prefix watch), and only while the dentry still has the same parent and name hash
 * (a freed and reused dentry does not hit).
 */
#define VG_NEG_SLOTS 4096
struct vg_neg_slot {
	__u64 dentry;
	__u64 mnt;
	__u64 gen;
	__u64 parent;
	__u64 hash_len;
	/* the file is below a write watch: the negative result holds for opens without write intent */
	__u64 wmatch;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_NEG_SLOTS);
	__type(key, __u32);
	__type(value, struct vg_neg_slot);
} vg_neg_cache SEC(".maps");

/* Read-only view of a kernel pointer: fault-safe direct loads instead of bpf_probe_read calls. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * Per-CPU memo of the last (task, cred) pair whose snapshot was checked, so the common case (same
 * task, same cred, on the same CPU) skips the task-storage lookup. vg_cred_gen is bumped on every
 * write of any snapshot's cred pointer, so a memo is only trusted while no snapshot changed since
 * it was taken (a freed and reused cred or task address cannot make a stale memo hit).
 */
struct vg_cred_seen {
	__u64 task;
	__u64 cred;
	__u64 gen;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_cred_seen);
} vg_cred_seen SEC(".maps");

volatile __u64 vg_cred_gen;

/* Kernel-side generation of the namespace of names (see vg_neg_cache). */
volatile __u32 vg_kgen;

struct vg_sc_scratch {
	union {
		struct {
			struct vg_file f;
			char data[3 * VG_PATH_MAX];
		} file;
		struct {
			struct vg_syscall s;
			char data[VG_PATH_MAX + 2 * VG_STR_MAX + 2 * VG_STR_MAX];
		} sc;
		struct {
			struct vg_connect c;
			char data[2 * VG_PATH_MAX];
		} conn;
		struct {
			struct vg_exec e;
			char data[2 * VG_PATH_MAX + VG_ARGS_MAX + VG_STR_MAX];
		} exec;
		struct vg_cred_change cc;
		struct vg_ns_change ns;
	} rec;
	struct vg_path_buf pb;
	struct vg_watch_name_key name;
	char name_spill[VG_NAME_MAX];
	struct vg_watch_ident_key ident; /* the path within the filesystem, as an identity trie key */
	struct vg_watch_ident_name_key ident_name;
	char ident_name_spill[VG_NAME_MAX];
	__u64 ident_dentry; /* vg_open_identity's argument */
	__u32 ident_id;     /* and its match */
	__u32 suffix_id;    /* vg_open_identity's suffix match */
	__u32 write_id;     /* and its write-watch match */
	__u32 raw_id;       /* vg_on_open: the watch id of the raw-argument class (traversal or proc link) */
	struct vg_watch_suffix_key suffix;
	char raw[VG_STR_MAX]; /* vg_open_raw: the path argument as written */
	__u64 emit_dentry;    /* vg_file_emit's arguments: a global function takes no kernel pointers */
	__u64 emit_mnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_sc_scratch);
} vg_sc_scratch SEC(".maps");

static __always_inline struct vg_sc_scratch *vg_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_sc_scratch, &zero);
}

/* Syscall number and arguments from the pt_regs of sys_enter/sys_exit (direct BTF loads). */
#if defined(__TARGET_ARCH_x86)
#define vg_regs_nr(r) ((r)->orig_ax)
static __always_inline __u64 vg_arg(struct pt_regs *r, int i)
{
	switch (i) {
	case 0: return r->di;
	case 1: return r->si;
	case 2: return r->dx;
	case 3: return r->r10;
	case 4: return r->r8;
	default: return r->r9;
	}
}
#elif defined(__TARGET_ARCH_arm64)
#define vg_regs_nr(r) ((r)->syscallno)
static __always_inline __u64 vg_arg(struct pt_regs *r, int i)
{
	/* x0 holds the return value at exit; orig_x0 keeps the first argument */
	return i == 0 ? r->orig_x0 : r->regs[i & 7];
}
#else
#error "vigil probes: add the syscall register layout of this architecture"
#endif

static __always_inline __u64 vg_gen(void)
{
	struct vg_config *cfg = vg_config_get();
	__u64 wg = cfg ? cfg->watch_gen : 0;
	return (wg << 32) | vg_kgen;
}

static __always_inline bool vg_may_emit(void)
{
	/* the daemon's own processes would feed back into the sensor */
	return !vg_ignored(bpf_get_current_pid_tgid() >> 32);
}

/* ---- credentials ---------------------------------------------------------------------------- */

static __always_inline bool vg_creds_differ(const struct vg_creds *a, const struct vg_creds *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 d = 0;
	for (int i = 0; i < (int)(sizeof(*a) / 8); i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

/* Compare the task's creds with its snapshot; send cred_change when a value differs; refresh. */
static __noinline int vg_cred_check(struct vg_task_state *st, __u32 nr, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *c = t->cred;
	struct vg_sc_scratch *s;

	if (!st)
		return 0;
	if (st->creds_valid && st->cred_ptr == (__u64)c)
		return 0;
	s = vg_scratch();
	if (!s)
		return 0;
	struct vg_cred_change *cc = &s->rec.cc;
	vg_read_creds(c, &cc->new_creds);
	if (st->creds_valid && vg_creds_differ(&st->creds, &cc->new_creds) && vg_may_emit()) {
		vg_fill_header(&cc->hdr, VG_KIND_CRED_CHANGE);
		cc->hdr.size = sizeof(*cc);
		cc->syscall_nr = nr;
		cc->retval = ret;
		cc->old_creds = st->creds;
		vg_output(cc, sizeof(*cc), VG_KIND_CRED_CHANGE);
	}
	st->creds = cc->new_creds;
	st->cred_ptr = (__u64)c;
	st->creds_valid = 1;
	__sync_fetch_and_add(&vg_cred_gen, 1);
	return 0;
}

/* ---- watch table ---------------------------------------------------------------------------- */

/* Basename lookup: name (kernel memory: a dentry name or scratch) of len bytes. */
static __always_inline struct vg_watch_value *vg_match_name(struct vg_sc_scratch *s, const void *name, __u32 len)
{
	if (len == 0 || len > VG_NAME_MAX)
		return NULL;
	__u64 *z = (__u64 *)s->name.name;
	for (int i = 0; i < VG_NAME_MAX / 8; i++)
		z[i] = 0;
	/* the mask keeps the verifier's bound (len <= VG_NAME_MAX was checked above) */
	if (bpf_probe_read_kernel(s->name.name, vg_mask(len, 2 * VG_NAME_MAX - 1), name))
		return NULL;
	return bpf_map_lookup_elem(&vg_watch_name, &s->name);
}

/* Match s->pb.key.path (len bytes) against one path trie (vg_watch_prefix or vg_watch_write).
 * An exact entry matches only when it is as long as the path; it shadows shorter prefix entries for
 * longer paths it is a prefix of (user space keeps exact entries outside prefix subtrees). */
static __always_inline struct vg_watch_value *vg_trie_match(void *trie, struct vg_sc_scratch *s, __u32 len)
{
	struct vg_watch_value *v;

	/* the trie holds VG_WATCH_PATH_MAX bytes: longer paths match prefix entries on those bytes */
	__u32 klen = vg_clamp(len, VG_WATCH_PATH_MAX);
	s->pb.key.prefixlen = klen * 8;
	v = bpf_map_lookup_elem(trie, &s->pb.key);
	if (!v || !(v->flags & VG_WATCH_EXACT))
		return v;
	if (len > VG_WATCH_PATH_MAX || klen == 0)
		return NULL;
	/* the entry found for len - 1 bytes is another one only when v is exactly len long */
	s->pb.key.prefixlen = (klen - 1) * 8;
	return bpf_map_lookup_elem(trie, &s->pb.key) != v ? v : NULL;
}

/* Match s->pb.key.path (len bytes) against the prefix trie and, by its basename, the name hash;
 * with write, also against the write trie (the caller modifies the file). */
static __always_inline bool vg_match(struct vg_sc_scratch *s, __u32 len, const void *base, __u32 base_len,
				     __u32 *id, bool write)
{
	struct vg_watch_value *v = vg_trie_match(&vg_watch_prefix, s, len);
	if (!v)
		v = vg_match_name(s, base, base_len);
	if (!v && write)
		v = vg_trie_match(&vg_watch_write, s, len);
	if (!v)
		return false;
	*id = v->id;
	return true;
}

/* One identity trie lookup for s->ident with the given magic; the exact-entry rule of vg_match. */
static __always_inline struct vg_watch_value *vg_ident_lookup(struct vg_sc_scratch *s, __u32 magic, __u32 len)
{
	struct vg_watch_value *v, *v2;
	__u32 klen = vg_clamp(len, VG_IDENT_PATH_MAX);

	s->ident.magic = magic;
	s->ident.prefixlen = 32 + klen * 8;
	v = bpf_map_lookup_elem(&vg_watch_ident, &s->ident);
	if (!v || !(v->flags & VG_WATCH_EXACT))
		return v;
	if (len > VG_IDENT_PATH_MAX || klen == 0)
		return NULL;
	s->ident.prefixlen = 32 + (klen - 1) * 8;
	v2 = bpf_map_lookup_elem(&vg_watch_ident, &s->ident);
	return v2 != v ? v : NULL;
}

static __always_inline struct vg_watch_value *vg_ident_name_lookup(struct vg_sc_scratch *s, __u32 magic)
{
	s->ident_name.magic = magic;
	return bpf_map_lookup_elem(&vg_watch_ident_name, &s->ident_name);
}

/* Match the identity in s->ident (len bytes of path) and the file's own name (s->pb.name[0] after
 * vg_fs_path_walk), each with the filesystem's magic and then with "any filesystem". */
static __noinline bool vg_match_ident(struct vg_sc_scratch *s, __u32 magic, __u32 len, __u32 *id)
{
	struct vg_watch_value *v;

	if (!s)
		return false;
	const void *name = s->pb.depth ? (const void *)s->pb.name[0] : NULL;
	__u32 name_len = s->pb.depth ? s->pb.len[0] : 0;
	v = vg_ident_lookup(s, magic, len);
	if (!v)
		v = vg_ident_lookup(s, 0, len);
	if (!v && name_len > 0 && name_len < VG_NAME_MAX) {
		__u64 *z = (__u64 *)s->ident_name.name;
		for (int i = 0; i < VG_NAME_MAX / 8; i++)
			z[i] = 0;
		if (!bpf_probe_read_kernel(s->ident_name.name, vg_mask(name_len, 2 * VG_NAME_MAX - 1), name)) {
			v = vg_ident_name_lookup(s, magic);
			if (!v)
				v = vg_ident_name_lookup(s, 0);
		}
	}
	if (!v)
		return false;
	*id = v->id;
	return true;
}

#define VG_IDENT_MATCHED (1 << 16)
#define VG_IDENT_TRUNCATED (1 << 17)
#define VG_SUFFIX_MATCHED (1 << 18)
#define VG_WRITE_MATCHED (1 << 19)

struct vg_rev_ctx {
	struct vg_sc_scratch *s;
	__u32 len;
};

/* bpf_loop callback: byte i of the suffix key is byte len-1-i of the path in the record data. */
static long vg_rev_cb(__u64 i, void *ctx)
{
	struct vg_rev_ctx *c = ctx;
	if (i >= c->len || i >= VG_NAME_MAX)
		return 1;
	c->s->suffix.rev[i & (VG_NAME_MAX - 1)] = c->s->rec.file.data[(c->len - 1 - i) & (VG_PATH_MAX - 1)];
	return 0;
}

/*
 * The identity of an opened dentry (s->ident_dentry: a global function takes no kernel pointers): its path
 * within its filesystem into s->pb.key.path (and the ident key), matched against the identity
 * watches (s->ident_id). Also the suffix watches on the path the process used (path_len bytes at
 * the start of the record data; s->suffix_id). Returns the length of the path within the
 * filesystem, with VG_IDENT_MATCHED, VG_IDENT_TRUNCATED and VG_SUFFIX_MATCHED. A global function, so
 * the verifier checks it once on its own instead of once per state of the open handler that
 * reaches it (which exceeded its budget).
 */
__noinline int vg_open_identity(struct vg_sc_scratch *s, __u32 magic, __u32 path_len)
{
	bool trunc = false;
	__u32 id = 0;
	int ret = 0;

	if (!s)
		return 0;
	/* the write trie, on the path the process used (still in s->pb.key.path) */
	struct vg_watch_value *wv = vg_trie_match(&vg_watch_write, s, path_len);
	s->write_id = 0;
	if (wv) {
		s->write_id = wv->id;
		ret |= VG_WRITE_MATCHED;
	}
	struct vg_rev_ctx rc = { .s = s, .len = path_len > VG_PATH_MAX ? VG_PATH_MAX : path_len };
	__u32 n = rc.len > VG_NAME_MAX ? VG_NAME_MAX : rc.len;
	bpf_loop(VG_NAME_MAX, vg_rev_cb, &rc, 0);
	s->suffix.prefixlen = n * 8;
	struct vg_watch_value *sv = n ? bpf_map_lookup_elem(&vg_watch_suffix, &s->suffix) : NULL;
	s->suffix_id = 0;
	if (sv) {
		s->suffix_id = sv->id;
		ret |= VG_SUFFIX_MATCHED;
	}
	__u32 len = vg_fs_path_walk(&s->pb, (struct dentry *)s->ident_dentry, &trunc);
	len = vg_clamp(len, VG_PATH_MAX);
	/* the trie compares VG_IDENT_PATH_MAX bytes; vg_ident_lookup treats longer paths as prefixes */
	bpf_probe_read_kernel(s->ident.path, vg_clamp(len, VG_IDENT_PATH_MAX), s->pb.key.path);
	s->ident_id = 0;
	if (vg_match_ident(s, magic, len, &id)) {
		s->ident_id = id;
		ret |= VG_IDENT_MATCHED;
	}
	if (trunc)
		ret |= VG_IDENT_TRUNCATED;
	return ret | len;
}

struct vg_dots_ctx {
	struct vg_sc_scratch *s;
	__u32 len;
	bool found;
};

/* One 8-byte word of the argument a call: a word with no '.' (the common case: most paths have
 * none, or one in a file name) is passed over in a few instructions; only a word with one is looked
 * at byte by byte, including a "../" that runs into the next word. */
static long vg_dots_cb(__u64 i, void *ctx)
{
	struct vg_dots_ctx *c = ctx;
	__u32 at = i * 8;
	if (at + 3 > c->len)
		return 1;
	char *r = c->s->raw;
	__u64 x = *(__u64 *)&r[at & (VG_STR_MAX - 8)] ^ 0x2e2e2e2e2e2e2e2eULL; /* '.' bytes become 0 */
	if (!((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL))
		return 0;
#pragma unroll
	for (__u32 k = 0; k < 8; k++) {
		__u32 j = at + k;
		if (j + 3 > c->len)
			return 1;
		if (r[j & (VG_STR_MAX - 1)] == '.' && r[(j + 1) & (VG_STR_MAX - 1)] == '.' && r[(j + 2) & (VG_STR_MAX - 1)] == '/') {
			c->found = true;
			return 1;
		}
	}
	return 0;
}

/*
 * The traversal open class: the path argument of an open (user memory, still mapped at exit) into
 * s->raw; returns its length when it contains "../", else 0. Only these are sent for the class, so
 * Falco's fd.nameraw rules see web-style traversal without every open crossing to user space.
 */
__noinline int vg_open_raw(struct vg_sc_scratch *s, __u64 upath)
{
	if (!s || !upath)
		return 0;
	long n = bpf_probe_read_user_str(s->raw, VG_STR_MAX, (const void *)upath);
	if (n <= 3)
		return 0;
	struct vg_dots_ctx c = { .s = s, .len = n - 1 };
	bpf_loop(VG_STR_MAX / 8, vg_dots_cb, &c, 0);
	return c.found ? n - 1 : 0;
}

/*
 * The magic-link write class: the path argument of a write-intent open into s->raw; returns its
 * length when it starts with "/proc/" (a file reached through /proc/<pid>/fd/N or /proc/<pid>/exe
 * is resolved to the file itself, so only the argument shows the way in), else 0.
 */
__noinline int vg_open_proclink(struct vg_sc_scratch *s, __u64 upath)
{
	if (!s || !upath)
		return 0;
	char *r = s->raw;
	if (bpf_probe_read_user(r, 8, (const void *)upath))
		return 0;
	if (r[0] != '/' || r[1] != 'p' || r[2] != 'r' || r[3] != 'o' || r[4] != 'c' || r[5] != '/')
		return 0;
	long n = bpf_probe_read_user_str(r, VG_STR_MAX, (const void *)upath);
	return n > 7 ? n - 1 : 0;
}

/* ---- paths from user arguments ---------------------------------------------------------------- */

struct vg_slash_ctx {
	char *p;
	__u32 len;
	__u32 last;
};

static long vg_slash_cb(__u64 i, void *ctx)
{
	struct vg_slash_ctx *c = ctx;
	if (i >= c->len)
		return 1;
	if (c->p[i & (VG_PATH_MAX - 1)] == '/')
		c->last = i + 1;
	return 0;
}

/* Offset of the last component of s->pb.key.path[0..len). */
static __always_inline __u32 vg_basename_off(struct vg_sc_scratch *s, __u32 len)
{
	struct vg_slash_ctx c = { .p = s->pb.key.path, .len = len };
	bpf_loop(VG_PATH_MAX, vg_slash_cb, &c, 0);
	return c.last;
}

/* Resolve a (dentry, mount) into s->pb; returns the length. */
static __always_inline __u32 vg_walk_path(struct vg_sc_scratch *s, const struct path *p, bool *trunc)
{
	struct path fp;
	if (bpf_probe_read_kernel(&fp, sizeof(fp), p) || !fp.dentry)
		return 0;
	return vg_path_walk(&s->pb, fp.dentry, fp.mnt, trunc);
}

/* s->pb.key.path = directory of dfd (cwd for AT_FDCWD) + "/" + the user string, or the user string
 * alone when it is absolute. Returns the length; 0 when nothing could be read. */
static __noinline __u32 vg_join(struct vg_sc_scratch *s, long dfd, const char *ustr, bool *trunc)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 off = 0;
	char c0 = 0;
	long n;

	if (!s || bpf_probe_read_user(&c0, 1, ustr))
		return 0;
	if (c0 != '/') {
		if ((int)dfd == VG_AT_FDCWD) {
			struct fs_struct *fs = t->fs;
			if (!fs)
				return 0;
			off = vg_walk_path(s, __builtin_preserve_access_index(&fs->pwd), trunc);
		} else {
			struct file *f = vg_fd_file(t, (int)dfd);
			if (!f)
				return 0;
			off = vg_walk_path(s, __builtin_preserve_access_index(&f->f_path), trunc);
		}
		if (off == 0)
			return 0;
		if (off > 1) {
			if (off >= VG_PATH_MAX) {
				*trunc = true;
				return VG_PATH_MAX;
			}
			s->pb.key.path[off & (VG_PATH_MAX - 1)] = '/';
			off++;
		} else {
			off = 1; /* the root: "/" already there */
		}
	}
	off = vg_clamp(off, VG_PATH_MAX - 1);
	n = bpf_probe_read_user_str(&s->pb.key.path[off], VG_PATH_MAX - off, ustr);
	if (n <= 0)
		return off;
	if ((__u32)n >= VG_PATH_MAX - off)
		*trunc = true;
	return off + n - 1;
}

/* ---- sending file records: coalescing and budgets (VG_COALESCE_*, VG_FILE_*; common.h) ------- */

/* What makes two opens the same act for every rule: the process (tgid; its credentials, which
 * setuid and every exec replace; its comm), the file (dentry and mount: another name or mount of it
 * is another key; inode), and everything the record says of the open. */
struct vg_coalesce_key {
	__u64 dentry;
	__u64 mnt;
	__u64 ino;
	__u64 cred;
	__u64 comm[2];
	__u32 tgid;
	__u32 op;
	__u32 open_flags;
	__u32 flags;    /* VG_FILE_*: write intent, matches, host mount, raw */
	__u32 watch_id;
	__u32 lens;     /* path_len and raw_len: the traversal class's argument as written */
};

struct vg_coalesce_slot {
	struct vg_coalesce_key key;
	__u64 sent_ns;  /* when the record that opened the window was sent */
	__u64 repeats;  /* coalesced since then */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_COALESCE_SLOTS);
	__type(key, __u32);
	__type(value, struct vg_coalesce_slot);
} vg_coalesce SEC(".maps");

struct vg_file_budget_key {
	__u64 cgroup;
	__u32 watch_id;
	__u32 _pad0;
};

/* Each (cgroup, watch)'s budget of file records (VG_FILE_RATE); kernel-only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_CGROUP_BUDGETS_MAX);
	__type(key, struct vg_file_budget_key);
	__type(value, struct vg_cgroup_budget);
} vg_file_budget SEC(".maps");

/*
 * Whether the sender's (cgroup, watch) may take ring space for a file record now. Always while the
 * ring is at most half full; past that, a pair may fill the other half in proportion to the tokens
 * it has left: one that sent nothing lately (an act) may fill the ring, one that spent its budget
 * (a storm) none of it. Tokens are spent either way, so a storm has spent its burst by the time the
 * reader falls behind, and a storm slower than the budget still leaves room when the reader stalls.
 */
static __always_inline bool vg_file_budget_take(__u32 watch_id, __u64 now)
{
	struct vg_file_budget_key k = { .cgroup = bpf_get_current_cgroup_id(), .watch_id = watch_id };
	struct vg_cgroup_budget *b = bpf_map_lookup_elem(&vg_file_budget, &k);
	__u64 tokens = VG_FILE_BURST;
	if (!b) {
		struct vg_cgroup_budget fresh = { .tokens = VG_FILE_BURST - 1, .last_ns = now };
		bpf_map_update_elem(&vg_file_budget, &k, &fresh, BPF_NOEXIST);
	} else {
		tokens = vg_budget_spend(b, now, VG_FILE_RATE, VG_FILE_BURST) ? b->tokens + 1 : 0;
	}
	__u64 half = bpf_ringbuf_query(&vg_events, BPF_RB_RING_SIZE) / 2;
	__u64 used = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
	return used <= half || (used - half) * VG_FILE_BURST <= half * tokens;
}

/*
 * Sends the file record in s (size bytes): the one place file records enter the ring. Opens
 * (dentry != 0) are coalesced first: a repeat within the window of its key is counted and not sent;
 * a record that is sent carries the repeats of its key's previous window (vg_file.repeats). Then the
 * sender's budget, then the ring. The slot opens a new window only when its record was sent, so a
 * shed or dropped first occurrence is tried again at its next repeat. A global function: verified
 * once, off the budget of the handlers that call it.
 */
__noinline int vg_file_emit(struct vg_sc_scratch *s, __u32 size)
{
	if (!s)
		return 0;
	struct vg_file *r = &s->rec.file.f;
	__u64 dentry = s->emit_dentry, mnt = s->emit_mnt;
	struct vg_coalesce_slot *c = NULL;
	struct vg_coalesce_key k = {};
	__u64 now = bpf_ktime_get_ns();
	bool same = false;

	r->repeats = 0;
	if (dentry) {
		struct task_struct *t = bpf_get_current_task_btf();
		k.dentry = dentry;
		k.mnt = mnt;
		k.ino = r->ino;
		/* read as a value, not a pointer: it is only compared */
		bpf_probe_read_kernel(&k.cred, sizeof(k.cred), &t->cred);
		__builtin_memcpy(k.comm, r->hdr.comm, sizeof(k.comm));
		k.tgid = r->hdr.pid;
		k.op = r->op;
		k.open_flags = r->open_flags;
		k.flags = r->flags;
		k.watch_id = r->watch_id;
		k.lens = (__u32)r->path_len << 16 | r->raw_len;
		__u32 slot = ((dentry ^ (dentry >> 29) ^ ((__u64)k.tgid << 32) ^ k.ino ^ ((__u64)k.open_flags << 20)) *
			      0x9E3779B97F4A7C15ULL) >> (64 - 10);
		c = bpf_map_lookup_elem(&vg_coalesce, &slot);
		if (c) {
			const __u64 *x = (const __u64 *)&k, *y = (const __u64 *)&c->key;
			__u64 d = 0;
			for (int i = 0; i < (int)(sizeof(k) / 8); i++)
				d |= x[i] ^ y[i];
			same = d == 0;
			if (same && now - c->sent_ns < VG_COALESCE_WINDOW_NS) {
				c->repeats++;
				struct vg_counters *n = vg_counters_get();
				if (n)
					n->coalesced[VG_KIND_FILE]++;
				return 0;
			}
			if (same)
				r->repeats = c->repeats > 0xffffffffULL ? 0xffffffffU : (__u32)c->repeats;
		}
	}
	if (!vg_file_budget_take(r->watch_id, now)) {
		vg_count_shed(VG_KIND_FILE);
		return 0;
	}
	size = vg_clamp(size, sizeof(s->rec.file));
	if (bpf_ringbuf_output(&vg_events, r, size, vg_wakeup_flags())) {
		vg_count_dropped(VG_KIND_FILE);
		return 0;
	}
	vg_count_emitted(VG_KIND_FILE);
	if (c) {
		c->key = k;
		c->sent_ns = now;
		c->repeats = 0;
	}
	return 1;
}

/* The file record in s, of the open of dentry d on mount m (NULL: not an open; never coalesced). */
static __always_inline int vg_file_send(struct vg_sc_scratch *s, void *d, void *m, __u32 size)
{
	s->emit_dentry = (__u64)d;
	s->emit_mnt = (__u64)m;
	return vg_file_emit(s, size);
}

/* ---- handlers ------------------------------------------------------------------------------- */

/* The open flags and mode of an open call, by handler, into the file record of the scratch
 * (not the stack: the open handler's frame is at the limit). Returns the flags. */
static __always_inline __u64 vg_open_flags(struct pt_regs *regs, __u32 h, struct vg_file *r)
{
	r->open_flags = 0;
	r->mode = 0;
	switch (h) {
	case VG_H_OPEN:
		r->mode = vg_arg(regs, 2);
		r->open_flags = vg_arg(regs, 1);
		break;
	case VG_H_OPENAT:
		r->mode = vg_arg(regs, 3);
		r->open_flags = vg_arg(regs, 2);
		break;
	case VG_H_OPENAT2: /* struct open_how: flags, mode, resolve */
		bpf_probe_read_user(&r->open_flags, 8, (void *)vg_arg(regs, 2));
		bpf_probe_read_user(&r->mode, 8, (void *)(vg_arg(regs, 2) + 8));
		break;
	case VG_H_OPEN_BY_HANDLE:
		r->open_flags = vg_arg(regs, 2);
		break;
	default: /* creat */
		r->mode = vg_arg(regs, 1);
		r->open_flags = VG_O_CREAT | VG_O_WRONLY | VG_O_TRUNC;
		break;
	}
	return r->open_flags;
}

/* Opens: the file behind the new fd, resolved by the walk. Failed opens are not reported: there is
 * no file to resolve, and nothing was opened (the attempt shows up in the syscall-level rules only). */
static __noinline int vg_on_open(struct pt_regs *regs, long ret, __u32 nr, __u32 h)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_sc_scratch *s;
	bool trunc = false;
	__u32 id = 0;

	if (ret < 0)
		return 0;
	struct file *fp = vg_fd_file(t, ret);
	if (!fp)
		return 0;
	/* direct, fault-safe loads through a read-only view of the file (no helper calls) */
	struct file *fv = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file));
	struct dentry *d = fv->f_path.dentry;
	struct vfsmount *m = fv->f_path.mnt;
	if (!d)
		return 0;
	s = vg_scratch();
	if (!s)
		return 0;
	/* the traversal class (a "../" in the argument) is decided before the cache: it depends on the
	 * argument, not on the file */
	struct vg_config *cfg = vg_config_get();
	__u32 link_id = cfg ? cfg->proclink_id : 0, raw_len = 0;
	/* values that live across the walks are kept in the scratch: the handler's frame is at the
	 * verifier's stack limit */
	s->raw_id = cfg ? cfg->traversal_id : 0;
	bool wi = vg_open_flags(regs, h, &s->rec.file.f) & VG_O_WRITE_INTENT;
	if (s->raw_id && h != VG_H_OPEN_BY_HANDLE)
		raw_len = vg_open_raw(s, vg_arg(regs, h == VG_H_OPENAT || h == VG_H_OPENAT2 ? 1 : 0));
	if (!raw_len && link_id && wi && h != VG_H_OPEN_BY_HANDLE) {
		raw_len = vg_open_proclink(s, vg_arg(regs, h == VG_H_OPENAT || h == VG_H_OPENAT2 ? 1 : 0));
		if (raw_len)
			s->raw_id = link_id;
	}
	__u64 gen = vg_gen(), hash_len = d->d_name.hash_len, d_ino = d->d_inode->i_ino;
	struct dentry *parent = d->d_parent;
	__u32 slot = ((hash_len ^ (d_ino << 24) ^ d_ino) * 0x9E3779B97F4A7C15ULL) >> (64 - 12);
	struct vg_neg_slot *ns = bpf_map_lookup_elem(&vg_neg_cache, &slot);
	if (!ns)
		return 0;
	/* pointers are compared and stored as values (tracing programs run with CAP_PERFMON) */
	if (!raw_len && ns->dentry == (__u64)d && ns->mnt == (__u64)m && ns->gen == gen &&
	    ns->parent == (__u64)parent && ns->hash_len == hash_len && !(wi && ns->wmatch))
		return 0;

	__u32 len = vg_path_walk(&s->pb, d, m, &trunc);
	const void *base = s->pb.depth ? (const void *)s->pb.name[0] : NULL;
	__u32 blen = s->pb.depth ? s->pb.len[0] : 0;
	bool by_path = vg_match(s, len, base, blen, &id, false);
	/* the identity: another name for a watched file (bind mount, host mount, chroot) matches too */
	__u32 magic = d->d_sb->s_magic;
	/* the identity walk reuses pb: keep the path the process used in the record's data */
	len = vg_clamp(len, VG_PATH_MAX);
	bpf_probe_read_kernel(s->rec.file.data, len, s->pb.key.path);
	s->ident_dentry = (__u64)d;
	int fs = vg_open_identity(s, magic, len);
	__u32 fs_len = fs & 0xffff, ident_id = s->ident_id, suffix_id = s->suffix_id;
	bool by_ident = fs & VG_IDENT_MATCHED, fs_trunc = fs & VG_IDENT_TRUNCATED, by_suffix = fs & VG_SUFFIX_MATCHED;
	/* write watches: a match sends the open only with write intent, and marks the cache slot of a
	 * read so that a later write of the same file is looked at again */
	bool wmatch = !by_path && (fs & VG_WRITE_MATCHED), by_write = wmatch && wi;
	if (!by_path && !by_write && !by_ident && !by_suffix && !raw_len) {
		/* gen was read before the walk: a rename during it leaves the slot stale, not wrong */
		ns->dentry = (__u64)d;
		ns->mnt = (__u64)m;
		ns->gen = gen;
		ns->parent = (__u64)parent;
		ns->hash_len = hash_len;
		ns->wmatch = wmatch;
		return 0;
	}
	if (!vg_may_emit())
		return 0;

	struct vg_file *r = &s->rec.file.f;
	vg_fill_header(&r->hdr, VG_KIND_FILE);
	r->nr = nr;
	r->retval = ret;
	r->op = VG_FILE_OP_OPEN;
	/* open_flags and mode: vg_open_flags */
	r->flags = VG_FILE_PATH_RESOLVED | VG_FILE_FS_PATH | (by_path || by_write || by_suffix ? VG_FILE_MATCH_PATH : 0) |
		   (by_ident ? VG_FILE_MATCH_IDENT : 0) | (raw_len ? VG_FILE_RAW : 0);
	if (vg_host_fs(t, d, m))
		r->flags |= VG_FILE_HOST_MOUNT;
	if (r->open_flags & VG_O_WRITE_INTENT)
		r->flags |= VG_FILE_WRITE;
	if (r->open_flags & VG_O_CREAT)
		r->flags |= VG_FILE_CREATE;
	if (trunc || fs_trunc)
		r->flags |= VG_FILE_PATH_TRUNCATED;
	if (fv->f_mode & VG_FMODE_CREATED)
		r->flags |= VG_FILE_CREATED;
	r->watch_id = by_path ? id : by_write ? s->write_id : by_suffix ? suffix_id : by_ident ? ident_id : s->raw_id;
	struct inode *ino = BPF_CORE_READ(fp, f_inode);
	r->ino = BPF_CORE_READ(ino, i_ino);
	r->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	len = vg_clamp(len, VG_PATH_MAX);
	fs_len = vg_clamp(fs_len, VG_PATH_MAX);
	bpf_probe_read_kernel(&s->rec.file.data[len], fs_len, s->pb.key.path);
	raw_len = vg_clamp(raw_len, VG_STR_MAX - 1);
	bpf_probe_read_kernel(&s->rec.file.data[len + fs_len], raw_len, s->raw);
	r->path_len = len;
	r->dest_len = 0;
	r->fs_magic = magic;
	r->fs_path_len = fs_len;
	r->raw_len = raw_len;
	r->repeats = 0;
	__u32 size = vg_clamp(sizeof(*r) + len + fs_len + raw_len, sizeof(s->rec.file));
	r->hdr.size = size;
	vg_file_send(s, d, m, size);
	return 1;
}

/*
 * Files an open created, whatever the watch table says, when they are hidden (the name starts with
 * '.'), executable (a payload written ready to run: drift), or made directly in /dev (where
 * only device nodes belong). Runs after vg_on_open found no watch; only O_CREAT opens get past the
 * first test, and only creations whose parent is the root of its mount pay for a walk (/dev).
 */
static __noinline int vg_on_create(struct pt_regs *regs, long ret, __u32 nr, __u32 h)
{
	__u64 oflags, mode;

	switch (h) {
	case VG_H_OPEN:
		oflags = vg_arg(regs, 1);
		break;
	case VG_H_OPENAT:
		oflags = vg_arg(regs, 2);
		break;
	case VG_H_OPENAT2:
		oflags = 0;
		bpf_probe_read_user(&oflags, sizeof(oflags), (void *)vg_arg(regs, 2)); /* open_how.flags */
		break;
	default: /* creat */
		oflags = VG_O_CREAT | VG_O_WRONLY | VG_O_TRUNC;
		break;
	}
	if (ret < 0 || !(oflags & VG_O_CREAT))
		return 0;
	struct file *fp = vg_fd_file(bpf_get_current_task_btf(), ret);
	if (!fp)
		return 0;
	struct file *fv = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file));
	if (!(fv->f_mode & VG_FMODE_CREATED))
		return 0;
	struct dentry *d = fv->f_path.dentry;
	struct vfsmount *m = fv->f_path.mnt;
	if (!d)
		return 0;
	mode = d->d_inode->i_mode & 07777;
	char c0 = 0;
	bpf_probe_read_kernel(&c0, 1, d->d_name.name);
	bool at_mnt_root = d->d_parent == m->mnt_root;
	if (c0 != '.' && !(mode & VG_S_IXALL) && !at_mnt_root)
		return 0;

	struct vg_sc_scratch *s = vg_scratch();
	bool trunc = false;
	if (!s)
		return 0;
	__u32 len = vg_path_walk(&s->pb, d, m, &trunc);
	if (c0 != '.' && !(mode & VG_S_IXALL)) {
		/* directly in /dev: two components, the first "dev" */
		char *p = s->pb.key.path;
		if (s->pb.depth != 2 || p[0] != '/' || p[1] != 'd' || p[2] != 'e' || p[3] != 'v' || p[4] != '/')
			return 0;
	}
	if (!vg_may_emit())
		return 0;

	struct vg_file *r = &s->rec.file.f;
	vg_fill_header(&r->hdr, VG_KIND_FILE);
	r->nr = nr;
	r->retval = ret;
	r->op = VG_FILE_OP_OPEN;
	r->open_flags = oflags;
	r->mode = mode;
	r->flags = VG_FILE_PATH_RESOLVED | VG_FILE_CREATED | VG_FILE_CREATE | (trunc ? VG_FILE_PATH_TRUNCATED : 0);
	if (oflags & (VG_O_WRONLY | VG_O_RDWR | VG_O_TRUNC | VG_O_APPEND | VG_O_CREAT))
		r->flags |= VG_FILE_WRITE;
	r->watch_id = 0;
	r->ino = d->d_inode->i_ino;
	r->dev = d->d_inode->i_sb->s_dev;
	len = vg_clamp(len, VG_PATH_MAX);
	bpf_probe_read_kernel(s->rec.file.data, len, s->pb.key.path);
	r->path_len = len;
	r->dest_len = 0;
	/* no identity: created files are matched by their resolved path */
	r->fs_magic = 0;
	r->fs_path_len = 0;
	r->raw_len = 0;
	r->repeats = 0;
	__u32 size = vg_clamp(sizeof(*r) + len, sizeof(s->rec.file));
	r->hdr.size = size;
	vg_file_send(s, NULL, NULL, size);
	return 0;
}

/* One side of rename/link/symlink/unlink: join, match, copy into the record at data[off].
 * raw: the user string as given (symlink target). */
struct vg_side {
	long dfd;
	const char *ustr;
	__u32 off;     /* where the record data of this side starts */
	__u32 len;     /* out: bytes copied */
	__u32 id;      /* out: watch id when matched */
	bool raw;
	bool matched;  /* out */
	bool trunc;    /* out */
	__u32 base;    /* out: where the last component starts, within the side's bytes */
};

static __noinline int vg_file_side(struct vg_sc_scratch *s, struct vg_side *sd)
{
	__u32 len;
	bool trunc = false;
	__u32 id = 0;

	if (!s || !sd->ustr)
		return 0;
	if (sd->raw) {
		long n = bpf_probe_read_user_str(s->pb.key.path, VG_PATH_MAX, sd->ustr);
		len = n > 0 ? n - 1 : 0;
		if (n >= VG_PATH_MAX)
			trunc = true;
	} else {
		len = vg_join(s, sd->dfd, sd->ustr, &trunc);
	}
	sd->trunc = trunc;
	if (len == 0)
		return 0;
	len = vg_clamp(len, VG_PATH_MAX);
	__u32 b = vg_basename_off(s, len);
	b = vg_clamp(b, len);
	sd->base = b;
	/* every side of these calls changes a name (a link's source gains one): write watches apply */
	if (vg_match(s, len, &s->pb.key.path[b & (VG_PATH_MAX - 1)], len - b, &id, true)) {
		sd->matched = true;
		sd->id = id;
	}
	__u32 off = vg_clamp(sd->off, VG_PATH_MAX);
	len = vg_clamp(len, VG_PATH_MAX);
	bpf_probe_read_kernel(&s->rec.file.data[off], len, s->pb.key.path);
	sd->len = len;
	return 0;
}

/* Whether a rename's destination (the record data after the source's plen bytes) has a last
 * component starting with '.' (not ".." ) while the source's does not. A global function: checked
 * once by the verifier instead of once per state of the rename handler (77k instructions). */
__noinline int vg_rename_hides(struct vg_sc_scratch *s, __u32 plen, __u32 dlen, __u32 abase, __u32 dbase)
{
	if (!s || dlen <= dbase + 1 || plen <= abase)
		return 0;
	char *data = s->rec.file.data;
	__u32 db = plen + dbase;
	char d0 = data[db & (VG_PATH_MAX - 1)], d1 = data[(db + 1) & (VG_PATH_MAX - 1)];
	char s0 = data[abase & (VG_PATH_MAX - 1)];
	return d0 == '.' && !(dlen - dbase == 2 && d1 == '.') && s0 != '.';
}

static __noinline int vg_on_rename(struct pt_regs *regs, long ret, __u32 nr, __u32 h)
{
	struct vg_sc_scratch *s = vg_scratch();
	long sdfd = VG_AT_FDCWD, ddfd = VG_AT_FDCWD;
	const char *src = NULL, *dst = NULL;
	bool raw = false;
	__u32 op;

	if (!s)
		return 0;
	switch (h) {
	case VG_H_RENAME:
		op = VG_FILE_OP_RENAME;
		src = (void *)vg_arg(regs, 0);
		dst = (void *)vg_arg(regs, 1);
		break;
	case VG_H_RENAMEAT:
		op = VG_FILE_OP_RENAME;
		sdfd = vg_arg(regs, 0);
		src = (void *)vg_arg(regs, 1);
		ddfd = vg_arg(regs, 2);
		dst = (void *)vg_arg(regs, 3);
		break;
	case VG_H_LINK:
		op = VG_FILE_OP_LINK;
		src = (void *)vg_arg(regs, 0);
		dst = (void *)vg_arg(regs, 1);
		break;
	case VG_H_LINKAT:
		op = VG_FILE_OP_LINK;
		sdfd = vg_arg(regs, 0);
		src = (void *)vg_arg(regs, 1);
		ddfd = vg_arg(regs, 2);
		dst = (void *)vg_arg(regs, 3);
		break;
	case VG_H_SYMLINK:
		op = VG_FILE_OP_SYMLINK;
		raw = true;
		src = (void *)vg_arg(regs, 0);
		dst = (void *)vg_arg(regs, 1);
		break;
	case VG_H_SYMLINKAT:
		op = VG_FILE_OP_SYMLINK;
		raw = true;
		src = (void *)vg_arg(regs, 0);
		ddfd = vg_arg(regs, 1);
		dst = (void *)vg_arg(regs, 2);
		break;
	case VG_H_UNLINK:
		op = VG_FILE_OP_UNLINK;
		src = (void *)vg_arg(regs, 0);
		break;
	default: /* unlinkat */
		op = VG_FILE_OP_UNLINK;
		sdfd = vg_arg(regs, 0);
		src = (void *)vg_arg(regs, 1);
		break;
	}
	/* a successful rename or link changes which path reaches a dentry: invalidate the open cache */
	if (ret == 0 && (op == VG_FILE_OP_RENAME || op == VG_FILE_OP_LINK))
		__sync_fetch_and_add(&vg_kgen, 1);

	struct vg_side a = { .dfd = sdfd, .ustr = src, .raw = raw };
	vg_file_side(s, &a);
	struct vg_side d = { .dfd = ddfd, .ustr = dst, .off = a.len };
	vg_file_side(s, &d);
	bool m_src = a.matched, m_dst = d.matched, trunc = a.trunc || d.trunc;
	__u32 plen = a.len, dlen = d.len, id_src = a.id, id_dst = d.id;
	/* a successful rename to a hidden name is sent whatever the watch table says, as vg_on_create
	 * sends hidden creations: moving a file or directory out of sight is how tools get hidden
	 * (not from one hidden name to another: editors and tools rotate those). Tested here on the
	 * copied bytes, not in vg_file_side: its two calls would each pay for the branches. */
	bool hide = op == VG_FILE_OP_RENAME && ret == 0 && vg_rename_hides(s, plen, dlen, a.base, d.base);
	if (!(m_src || m_dst || hide) || !vg_may_emit())
		return 0;

	struct vg_file *r = &s->rec.file.f;
	vg_fill_header(&r->hdr, VG_KIND_FILE);
	r->nr = nr;
	r->retval = ret;
	r->op = op;
	r->open_flags = 0;
	r->mode = 0;
	r->flags = (m_src ? VG_FILE_MATCH_PATH : 0) | (m_dst ? VG_FILE_MATCH_DEST : 0) |
		   (trunc ? VG_FILE_PATH_TRUNCATED : 0);
	r->watch_id = m_src ? id_src : id_dst;
	r->dev = 0;
	r->ino = 0;
	r->path_len = plen;
	r->dest_len = dlen;
	r->fs_magic = 0;
	r->fs_path_len = 0;
	r->raw_len = 0;
	r->repeats = 0;
	__u32 size = vg_clamp(sizeof(*r) + plen + dlen, sizeof(s->rec.file));
	r->hdr.size = size;
	vg_file_send(s, NULL, NULL, size);
	return 0;
}

static __noinline int vg_on_connect(struct pt_regs *regs, long ret, __u32 nr)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_sc_scratch *s = vg_scratch();
	const void *uaddr = (const void *)vg_arg(regs, 1);
	__u16 family = 0;
	bool trunc = false;
	__u32 id = 0, len = 0;

	if (!s || bpf_probe_read_user(&family, sizeof(family), uaddr))
		return 0;
	struct vg_connect *r = &s->rec.conn.c;
	r->flags = 0;
	r->port = 0;
	__builtin_memset(r->addr, 0, sizeof(r->addr));

	if (family == VG_AF_UNIX) {
		/* connected: the peer's bound path, as the kernel resolved it */
		struct file *f = vg_fd_file(t, (int)vg_arg(regs, 0));
		struct socket *sock = f ? BPF_CORE_READ(f, private_data) : NULL;
		struct unix_sock *peer = NULL;
		if (sock && ret == 0) {
			struct sock *sk = BPF_CORE_READ(sock, sk);
			peer = (struct unix_sock *)BPF_CORE_READ((struct unix_sock *)sk, peer);
		}
		if (peer && BPF_CORE_READ(peer, path.dentry)) {
			len = vg_walk_path(s, __builtin_preserve_access_index(&peer->path), &trunc);
			r->flags |= VG_CONN_PATH_RESOLVED;
		} else {
			/* not connected (failed, or abstract peer): sun_path as given */
			long n = bpf_probe_read_user_str(s->pb.key.path, VG_UNIX_PATH_MAX + 1, uaddr + 2);
			len = n > 0 ? n - 1 : 0;
		}
		if (len == 0 || s->pb.key.path[0] == 0)
			return 0; /* unnamed or abstract socket: nothing to match */
		len = vg_clamp(len, VG_PATH_MAX);
		__u32 b = vg_basename_off(s, len);
		b = vg_clamp(b, VG_PATH_MAX);
		if (!vg_match(s, len, &s->pb.key.path[b & (VG_PATH_MAX - 1)], len - b, &id, false))
			return 0;
		bpf_probe_read_kernel(s->rec.conn.data, len, s->pb.key.path);
	} else if (family == VG_AF_INET || family == VG_AF_INET6) {
		__u16 port = 0;
		bpf_probe_read_user(&port, 2, uaddr + 2);
		r->port = bpf_ntohs(port);
		if (family == VG_AF_INET)
			bpf_probe_read_user(r->addr, 4, uaddr + 4);
		else
			bpf_probe_read_user(r->addr, 16, uaddr + 8);
		/* the cloud metadata address is reported even when inet connects are off: it hands out
		 * instance credentials, and contact from a container is rare enough to send always */
		if (!(vg_config_flags() & VG_CFG_CONNECT_INET) &&
		    !(family == VG_AF_INET && bpf_ntohl(*(__u32 *)r->addr) == VG_METADATA_V4))
			return 0;
	} else {
		return 0;
	}
	if (!vg_may_emit())
		return 0;
	vg_fill_header(&r->hdr, VG_KIND_CONNECT);
	r->nr = nr;
	r->retval = ret;
	r->family = family;
	r->watch_id = id;
	r->path_len = len;
	r->_pad0 = 0;
	__u32 size = vg_clamp(sizeof(*r) + len, sizeof(s->rec.conn));
	r->hdr.size = size;
	vg_output(r, size, VG_KIND_CONNECT);
	return 0;
}

/* One string argument into the syscall record at data[off]; returns its length (no NUL). */
static __always_inline __u32 vg_sc_str(struct vg_sc_scratch *s, __u32 off, __u64 ustr, __u32 *flags)
{
	if (!ustr)
		return 0;
	off = vg_clamp(off, VG_PATH_MAX + 2 * VG_STR_MAX);
	long n = bpf_probe_read_user_str(&s->rec.sc.data[off], VG_STR_MAX + 1, (void *)ustr);
	if (n <= 0)
		return 0;
	if (n > VG_STR_MAX) {
		*flags |= VG_SC_STR_TRUNCATED;
		return VG_STR_MAX;
	}
	return n - 1;
}

/* The kernel-resolved path of fd as string 0. */
static __always_inline __u32 vg_sc_fd_path(struct vg_sc_scratch *s, long fd, __u32 *flags)
{
	struct file *f = vg_fd_file(bpf_get_current_task_btf(), fd);
	bool trunc = false;
	if (!f)
		return 0;
	__u32 len = vg_walk_path(s, __builtin_preserve_access_index(&f->f_path), &trunc);
	len = vg_clamp(len, VG_PATH_MAX);
	bpf_probe_read_kernel(s->rec.sc.data, len, s->pb.key.path);
	*flags |= VG_SC_STR0_RESOLVED | (trunc ? VG_SC_STR_TRUNCATED : 0);
	return len;
}

/* After a successful chroot or pivot_root: whether the caller's new root is on a host filesystem. */
static __noinline bool vg_root_on_host_fs(struct task_struct *t)
{
	struct fs_struct *fs = t ? t->fs : NULL;
	if (!fs)
		return false;
	return vg_host_fs(t, BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt));
}

/* The dirfd's (cwd's for AT_FDCWD) resolved path joined with the user path, as string 0. */
static __always_inline __u32 vg_sc_join(struct vg_sc_scratch *s, long dfd, __u64 ustr, __u32 *flags)
{
	bool trunc = false;
	if (!ustr)
		return 0;
	__u32 len = vg_join(s, dfd, (const char *)ustr, &trunc);
	len = vg_clamp(len, VG_PATH_MAX);
	bpf_probe_read_kernel(s->rec.sc.data, len, s->pb.key.path);
	*flags |= VG_SC_STR0_JOINED | (trunc ? VG_SC_STR_TRUNCATED : 0);
	return len;
}

/* Family of the socket behind fd, or 0 when fd is not a socket. */
static __noinline __u32 vg_fd_sock_family(long fd)
{
	return vg_file_sock_family(vg_fd_file(bpf_get_current_task_btf(), fd));
}

/* Older kernels keep the namespace type in ns_common.ops->type; 6.18 has ns_common.ns_type. */
struct ns_common___typed {
	__u32 ns_type;
} __attribute__((preserve_access_index));
struct proc_ns_operations___typed {
	int type;
} __attribute__((preserve_access_index));

static __noinline int vg_on_syscall(struct pt_regs *regs, long ret, __u32 nr, __u32 h)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_sc_scratch *s = vg_scratch();
	__u32 flags = 0, l0 = 0, l1 = 0, l2 = 0;

	if (!s || !vg_may_emit())
		return 0;
	struct vg_syscall *r = &s->rec.sc.s;
	vg_fill_header(&r->hdr, VG_KIND_SYSCALL);
	r->nr = nr;
	r->retval = ret;
	for (int i = 0; i < 6; i++)
		r->args[i] = vg_arg(regs, i);
	r->target_pid = 0;
	r->target_pid_ns = 0;
	r->target_cgroup_id = 0;
	r->target_ns_type = 0;
	r->target_ns_ino = 0;
	r->detail = 0;
	r->_pad0 = 0;
	r->_pad1 = 0;

	switch (h) {
	case VG_H_MOUNT:
		l0 = vg_sc_str(s, 0, r->args[0], &flags);
		l1 = vg_sc_str(s, l0, r->args[1], &flags);
		l2 = vg_sc_str(s, l0 + l1, r->args[2], &flags);
		break;
	case VG_H_CHROOT:
		l0 = vg_sc_str(s, 0, r->args[0], &flags);
		if (ret == 0 && vg_root_on_host_fs(t))
			flags |= VG_SC_ROOT_HOST_FS;
		break;
	case VG_H_OPEN_BY_HANDLE:
		/* the mount whose filesystem the handle is decoded on */
		l0 = vg_sc_fd_path(s, (int)r->args[0], &flags);
		break;
	case VG_H_UMOUNT2:
	case VG_H_DELETE_MODULE:
	case VG_H_MEMFD_CREATE:
	case VG_H_MKNOD:
		l0 = vg_sc_str(s, 0, r->args[0], &flags);
		break;
	case VG_H_PIVOT_ROOT:
		l0 = vg_sc_str(s, 0, r->args[0], &flags);
		l1 = vg_sc_str(s, l0, r->args[1], &flags);
		if (ret == 0 && vg_root_on_host_fs(t))
			flags |= VG_SC_ROOT_HOST_FS;
		break;
	case VG_H_CHMOD:
	case VG_H_MKDIR:
		l0 = vg_sc_join(s, VG_AT_FDCWD, r->args[0], &flags);
		break;
	case VG_H_FCHMODAT:
	case VG_H_MKDIRAT:
		l0 = vg_sc_join(s, (int)r->args[0], r->args[1], &flags);
		break;
	case VG_H_FCHMOD:
		l0 = vg_sc_fd_path(s, (int)r->args[0], &flags);
		break;
	case VG_H_DUP:
		/* the new descriptor shares the old one's file */
		r->detail = vg_fd_sock_family(ret);
		break;
	case VG_H_MKNODAT:
		l0 = vg_sc_str(s, 0, r->args[1], &flags);
		break;
	case VG_H_INIT_MODULE:
		l0 = vg_sc_str(s, 0, r->args[2], &flags);
		break;
	case VG_H_FINIT_MODULE:
		l0 = vg_sc_fd_path(s, (int)r->args[0], &flags);
		l1 = vg_sc_str(s, l0, r->args[1], &flags);
		break;
	case VG_H_KEXEC_FILE_LOAD:
		l0 = vg_sc_fd_path(s, (int)r->args[0], &flags);
		break;
	case VG_H_BPF:
		/* prog_type and map_type are both the first u32 of their union bpf_attr member */
		if (r->args[0] == VG_BPF_PROG_LOAD || r->args[0] == VG_BPF_MAP_CREATE)
			bpf_probe_read_user(&r->detail, 4, (void *)r->args[1]);
		break;
	case VG_H_PERF_EVENT_OPEN:
		bpf_probe_read_user(&r->detail, 4, (void *)r->args[0]); /* attr.type */
		break;
	case VG_H_PTRACE:
		if (ret == 0 && (r->args[0] == VG_PTRACE_ATTACH || r->args[0] == VG_PTRACE_SEIZE)) {
			/* ptrace_link() list_adds the tracee at the head of current->ptraced */
			unsigned long head = (unsigned long)t + bpf_core_field_offset(struct task_struct, ptraced);
			unsigned long first = (unsigned long)BPF_CORE_READ(t, ptraced.next);
			if (first && first != head) {
				struct task_struct *tr =
					(void *)(first - bpf_core_field_offset(struct task_struct, ptrace_entry));
				struct upid up;
				r->target_pid = BPF_CORE_READ(tr, tgid);
				vg_pid_upid(BPF_CORE_READ(tr, thread_pid), &up);
				r->target_pid_ns = up.ns ? BPF_CORE_READ(up.ns, ns.inum) : 0;
				r->target_cgroup_id = BPF_CORE_READ(tr, cgroups, dfl_cgrp, kn, id);
				flags |= VG_SC_TARGET_VALID;
			}
		}
		break;
	case VG_H_SETNS: {
		struct file *f = vg_fd_file(t, (int)r->args[0]);
		struct inode *ino = f ? BPF_CORE_READ(f, f_inode) : NULL;
		if (ino && BPF_CORE_READ(ino, i_sb, s_magic) == VG_NSFS_MAGIC) {
			struct ns_common *ns = BPF_CORE_READ(ino, i_private);
			r->target_ns_ino = BPF_CORE_READ(ino, i_ino);
			if (bpf_core_field_exists(struct ns_common___typed, ns_type))
				r->target_ns_type = BPF_CORE_READ((struct ns_common___typed *)ns, ns_type);
			else {
				struct proc_ns_operations___typed *ops = (void *)BPF_CORE_READ(ns, ops);
				r->target_ns_type = BPF_CORE_READ(ops, type);
			}
			flags |= VG_SC_NS_TARGET_VALID;
		}
		break;
	}
	default: /* generic: raw arguments */
		break;
	}
	r->flags = flags;
	r->str_len[0] = l0;
	r->str_len[1] = l1;
	r->str_len[2] = l2;
	__u32 size = vg_clamp(sizeof(*r) + l0 + l1 + l2, sizeof(s->rec.sc));
	r->hdr.size = size;
	vg_output(r, size, VG_KIND_SYSCALL);
	return 0;
}

/* unshare/setns exit: compare with the namespaces saved at entry. */
static __noinline int vg_on_ns(struct vg_task_state *st, long ret, __u32 nr)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_sc_scratch *s = vg_scratch();

	if (!s || !st || !st->ns_pending)
		return 0;
	st->ns_pending = 0;
	struct vg_ns_change *r = &s->rec.ns;
	vg_task_ns(t, r->new_ns, true);
	__u32 changed = 0;
	for (int i = 0; i < VG_NS_COUNT; i++) {
		r->old_ns[i] = st->ns[i];
		if (r->old_ns[i] != r->new_ns[i])
			changed |= 1u << i;
	}
	/* sent when something changed, or the attempt failed */
	if ((!changed && ret >= 0) || !vg_may_emit())
		return 0;
	vg_fill_header(&r->hdr, VG_KIND_NS_CHANGE);
	r->hdr.size = sizeof(*r);
	r->syscall_nr = nr;
	r->retval = ret;
	r->flags = st->ns_flags;
	r->changed = changed;
	r->child_pid = 0;
	vg_output(r, sizeof(*r), VG_KIND_NS_CHANGE);
	return 0;
}

struct vg_argv_ctx {
	struct vg_sc_scratch *s;
	const char *const *argv;
	__u32 off;  /* bytes of args written, after the path */
	__u32 base; /* path_len */
	__u32 argc;
	bool trunc;
};

static long vg_argv_cb(__u64 i, void *ctx)
{
	struct vg_argv_ctx *c = ctx;
	const char *arg = NULL;
	if (bpf_probe_read_user(&arg, sizeof(arg), &c->argv[i & (VG_ARGC_MAX - 1)]) || !arg)
		return 1;
	if (i >= VG_ARGC_MAX || c->off >= VG_ARGS_MAX) {
		c->trunc = true;
		return 1;
	}
	__u32 at = vg_clamp(c->base + c->off, VG_PATH_MAX + VG_ARGS_MAX);
	__u32 room = VG_ARGS_MAX - vg_clamp(c->off, VG_ARGS_MAX - 1);
	long n = bpf_probe_read_user_str(&c->s->rec.exec.data[at], room, arg);
	if (n <= 0)
		return 1;
	c->off += n;
	c->argc++;
	if ((__u32)n >= room) {
		c->trunc = true;
		return 1;
	}
	return 0;
}

/* A failed execve/execveat: the path and argv as given. */
static __noinline int vg_on_failed_exec(struct pt_regs *regs, long ret, __u32 nr, __u32 h)
{
	struct vg_sc_scratch *s = vg_scratch();
	if (!s || !(vg_config_flags() & VG_CFG_FAILED_EXEC) || !vg_may_emit())
		return 0;
	struct vg_exec *e = &s->rec.exec.e;
	const char *path = (void *)vg_arg(regs, h == VG_H_EXECVE ? 0 : 1);
	const char *const *argv = (void *)vg_arg(regs, h == VG_H_EXECVE ? 1 : 2);

	vg_fill_header(&e->hdr, VG_KIND_EXEC);
	e->retval = ret;
	e->flags = 0; /* nothing was raised: the creds are the caller's */
	vg_read_creds(bpf_get_current_task_btf()->cred, &e->creds);
	e->exe_ino = 0;
	e->exe_dev = 0;
	e->_pad0 = 0;
	__builtin_memset(e->stdio, VG_STDIO_UNKNOWN, sizeof(e->stdio));
	long n = bpf_probe_read_user_str(s->rec.exec.data, VG_PATH_MAX, path);
	__u32 plen = n > 0 ? n - 1 : 0;
	if (n >= VG_PATH_MAX)
		e->flags |= VG_EXEC_PATH_TRUNCATED;
	plen = vg_clamp(plen, VG_PATH_MAX);
	struct vg_argv_ctx c = { .s = s, .argv = argv, .base = plen };
	if (argv)
		bpf_loop(VG_ARGC_MAX + 1, vg_argv_cb, &c, 0);
	if (c.trunc)
		e->flags |= VG_EXEC_ARGS_TRUNCATED;
	__u32 alen = vg_clamp(c.off, VG_ARGS_MAX);
	e->path_len = plen;
	e->args_len = alen;
	e->argc = c.argc;
	__u32 size = vg_clamp(sizeof(*e) + plen + alen, sizeof(s->rec.exec));
	e->hdr.size = size;
	vg_output(e, size, VG_KIND_EXEC);
	return 0;
}

/* ---- entry ---------------------------------------------------------------------------------- */

static __noinline int vg_enter_slow(struct pt_regs *regs, __u32 nr, __u32 h)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_task_state *st = bpf_task_storage_get(&vg_task, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!st)
		return 0;
	switch (h) {
	case VG_H_EXECVE:
	case VG_H_EXECVEAT:
		/* the prior creds of this exec: report a change made since the last traced call first */
		vg_cred_check(st, nr, 0);
		st->exec_prior = 1;
		break;
	case VG_H_CLONE:
		st->clone_flags = vg_arg(regs, 0);
		st->clone_nr = nr;
		st->clone_pending = 1;
		break;
	case VG_H_CLONE3: {
		__u64 fl = 0; /* struct clone_args.flags */
		bpf_probe_read_user(&fl, sizeof(fl), (void *)vg_arg(regs, 0));
		st->clone_flags = fl;
		st->clone_nr = nr;
		st->clone_pending = 1;
		break;
	}
	case VG_H_FORK:
		st->clone_flags = 0;
		st->clone_nr = nr;
		st->clone_pending = 1;
		break;
	default: /* unshare, setns */
		vg_task_ns(t, st->ns, true);
		st->ns_flags = h == VG_H_UNSHARE ? vg_arg(regs, 0) : vg_arg(regs, 1);
		st->ns_pending = 1;
		break;
	}
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(vg_sys_enter, struct pt_regs *regs, long id)
{
	__u32 nr = id;
	__u32 *hp = bpf_map_lookup_elem(&vg_syscalls, &nr);

	/* only exec, the clone family and unshare/setns need anything at entry */
	if (!hp || *hp < VG_H_EXECVE || *hp > VG_H_SETNS)
		return 0;
	return vg_enter_slow(regs, nr, *hp);
}

static __always_inline bool vg_ptrace_interesting(__u64 req)
{
	switch (req) {
	case 0:      /* PTRACE_TRACEME */
	case 4:      /* PTRACE_POKETEXT */
	case 5:      /* PTRACE_POKEDATA */
	case 6:      /* PTRACE_POKEUSR */
	case 13:     /* PTRACE_SETREGS (x86) */
	case 15:     /* PTRACE_SETFPREGS (x86) */
	case VG_PTRACE_ATTACH:
	case 0x4205: /* PTRACE_SETREGSET */
	case VG_PTRACE_SEIZE:
		return true;
	default:
		return false;
	}
}

static __always_inline bool vg_bpf_interesting(__u64 cmd)
{
	switch (cmd) {
	case VG_BPF_MAP_CREATE:
	case VG_BPF_PROG_LOAD:
	case 6:  /* BPF_OBJ_PIN */
	case 7:  /* BPF_OBJ_GET */
	case 8:  /* BPF_PROG_ATTACH */
	case 9:  /* BPF_PROG_DETACH */
	case 13: /* BPF_PROG_GET_FD_BY_ID */
	case 14: /* BPF_MAP_GET_FD_BY_ID */
	case 17: /* BPF_RAW_TRACEPOINT_OPEN */
	case 18: /* BPF_BTF_LOAD */
	case 28: /* BPF_LINK_CREATE */
	case 29: /* BPF_LINK_UPDATE */
	case 32: /* BPF_ENABLE_STATS */
	case 33: /* BPF_ITER_CREATE */
	case 34: /* BPF_LINK_DETACH */
	case 35: /* BPF_PROG_BIND_MAP */
	case 36: /* BPF_TOKEN_CREATE */
		return true;
	default:
		return false;
	}
}

/* ---- exit ----------------------------------------------------------------------------------- */

/* The kernel-side filters of the calls that are common in ordinary work. */
static __noinline bool vg_sc_wanted(struct pt_regs *regs, long ret, __u32 h)
{
	switch (h) {
	case VG_H_CRED:
		/* a change that worked is a cred_change; a refused one leaves nothing else: send the
		 * attempt (a non-root process asking for root, ...) */
		return ret < 0;
	case VG_H_SOCKET: {
		/* packet sockets and raw inet sockets only: sniffing, spoofing and crafted packets (netlink
		 * sockets are SOCK_RAW too, and every ip, getifaddrs and init opens them) */
		__u64 dom = vg_arg(regs, 0), type = vg_arg(regs, 1) & VG_SOCK_TYPE_MASK;
		return dom == VG_AF_PACKET || (type == VG_SOCK_RAW && (dom == VG_AF_INET || dom == VG_AF_INET6));
	}
	case VG_H_DUP: {
		/* shells dup constantly; a network socket made a standard stream is the reverse-shell step */
		if (ret < 0 || ret > 2)
			return false;
		__u32 fam = vg_fd_sock_family(ret);
		return fam == VG_AF_INET || fam == VG_AF_INET6;
	}
	case VG_H_CHMOD:
	case VG_H_FCHMOD:
	case VG_H_FCHMODAT:
		/* only modes that set setuid, setgid or an execute bit matter to the rules (drift, suid) */
		return vg_arg(regs, h == VG_H_FCHMODAT ? 2 : 1) & (VG_S_ISUID | VG_S_ISGID | VG_S_IXALL);
	case VG_H_MKDIR:
	case VG_H_MKDIRAT:
		/* mkdir -p tries every existing component first: those made nothing */
		return ret != -VG_EEXIST;
	default:
		return true;
	}
}

static __noinline int vg_exit_slow(struct pt_regs *regs, long ret, __u32 nr, __u32 h)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *c = t->cred;
	struct vg_task_state *st = NULL;
	__u32 zero = 0;

	/* exec, the clone family and unshare/setns use their task state below; the others only need
	 * the cred check, which the per-CPU memo answers without the task-storage lookup */
	struct vg_cred_seen *seen = bpf_map_lookup_elem(&vg_cred_seen, &zero);
	if ((h >= VG_H_EXECVE && h <= VG_H_SETNS) || !seen || seen->task != (__u64)t || seen->cred != (__u64)c ||
	    seen->gen != vg_cred_gen) {
		st = bpf_task_storage_get(&vg_task, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		vg_cred_check(st, nr, ret);
		if (seen && st) {
			seen->task = (__u64)t;
			seen->cred = (__u64)c;
			seen->gen = vg_cred_gen;
		}
	}
	switch (h) {
	case VG_H_EXECVE:
	case VG_H_EXECVEAT:
		if (st)
			st->exec_prior = 0;
		if (ret < 0)
			vg_on_failed_exec(regs, ret, nr, h);
		return 0;
	case VG_H_CLONE:
	case VG_H_CLONE3:
	case VG_H_FORK:
		if (st)
			st->clone_pending = 0;
		return 0;
	case VG_H_UNSHARE:
		vg_on_ns(st, ret, nr);
		return 0;
	case VG_H_SETNS:
		vg_on_ns(st, ret, nr);
		vg_on_syscall(regs, ret, nr, h);
		return 0;
	case VG_H_OPEN_BY_HANDLE:
	case VG_H_OPEN:
	case VG_H_OPENAT:
	case VG_H_OPENAT2:
	case VG_H_CREAT:
		/* a handle open is also a privileged call; one vg_on_open call site keeps the
		 * verifier's work on the open path single */
		if (h == VG_H_OPEN_BY_HANDLE)
			vg_on_syscall(regs, ret, nr, h);
		if (!vg_on_open(regs, ret, nr, h) && h != VG_H_OPEN_BY_HANDLE)
			vg_on_create(regs, ret, nr, h);
		return 0;
	case VG_H_RENAME:
	case VG_H_RENAMEAT:
	case VG_H_LINK:
	case VG_H_LINKAT:
	case VG_H_SYMLINK:
	case VG_H_SYMLINKAT:
	case VG_H_UNLINK:
	case VG_H_UNLINKAT:
		vg_on_rename(regs, ret, nr, h);
		return 0;
	case VG_H_CONNECT:
		vg_on_connect(regs, ret, nr);
		return 0;

	case VG_H_MOUNT:
	case VG_H_UMOUNT2:
	case VG_H_PIVOT_ROOT:
	case VG_H_CHROOT:
		/* the path of existing dentries may have changed: invalidate the open cache */
		if (ret == 0)
			__sync_fetch_and_add(&vg_kgen, 1);
		vg_on_syscall(regs, ret, nr, h);
		return 0;
	case VG_H_PTRACE:
		/* debuggers and strace issue ptrace per traced event: keep the requests that take
		 * control or write (traceme, attach, seize, poke*, setregs*), drop reads and resumes */
		if (!vg_ptrace_interesting(vg_arg(regs, 0)))
			return 0;
		vg_on_syscall(regs, ret, nr, h);
		return 0;
	case VG_H_BPF:
		/* map lookups, updates and id/info queries are constant for BPF users (bpftool, agents):
		 * keep the commands that load, attach, pin or create, and taking fds of others' maps */
		if (!vg_bpf_interesting(vg_arg(regs, 0)))
			return 0;
		vg_on_syscall(regs, ret, nr, h);
		return 0;
	case VG_H_GENERIC:
		/* user space may list mount-API calls (move_mount, fsmount, open_tree) as generic: a
		 * successful one may move names too, so it also invalidates the open cache */
		if (ret >= 0)
			__sync_fetch_and_add(&vg_kgen, 1);
		vg_on_syscall(regs, ret, nr, h);
		return 0;
	default:
		/* one call site: each call of a static function is verified again */
		if (vg_sc_wanted(regs, ret, h))
			vg_on_syscall(regs, ret, nr, h);
		return 0;
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 nr = vg_regs_nr(regs);
	__u32 *hp = bpf_map_lookup_elem(&vg_syscalls, &nr);

	/* uninteresting calls leave here */
	if (!hp || !*hp)
		return 0;
	return vg_exit_slow(regs, ret, nr, *hp);
}
