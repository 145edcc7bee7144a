/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Absolute path of a (dentry, vfsmount) pair by a bounded walk: d_parent up to the root of each
 * mount, then mnt_mountpoint in mnt_parent, until the root mount of the namespace. bpf_d_path is not
 * allowed in tracepoints; this walk is (docs/architecture.md, platform facts). It is what turns "../release_agent" from a cgroup
 * directory, or a symlink, into the real path.
 *
 * The walk first collects the component names bottom-up, then writes them top-down into
 * vg_path_buf.key.path, so the result is already an LPM-trie key for the watch table. Components
 * beyond VG_PATH_DEPTH, more than VG_PATH_MOUNTS mount crossings, or a path longer than VG_PATH_MAX
 * set *truncated (the start of the path is kept).
 */
#ifndef VIGIL_PROBES_PATH_BPF_H
#define VIGIL_PROBES_PATH_BPF_H

#include "maps.bpf.h"

#define VG_PATH_DEPTH 32 /* path components walked */
#define VG_PATH_MOUNTS 8 /* mount crossings walked */

/* Starts like struct vg_watch_prefix_key (prefixlen, then the path), so it is the LPM lookup key;
 * the trie reads only its first sizeof(struct vg_watch_prefix_key) bytes. */
struct vg_path_key {
	__u32 prefixlen;
	char path[VG_PATH_MAX];
	char spill[VG_PATH_MAX]; /* room for a bounded write that starts near the end of path */
};

struct vg_path_buf {
	struct vg_path_key key;         /* the walk writes the path here */
	__u64 name[VG_PATH_DEPTH];      /* component name pointers, last component first */
	__u32 len[VG_PATH_DEPTH];
	__u32 depth;                    /* components collected */
	__u32 _pad;
};

struct vg_walk_ctx {
	struct vg_path_buf *b;
	struct dentry *d;
	struct mount *mnt;
	struct dentry *mnt_root;
	__u32 n, crossings, off;
	bool done, truncated;
};

/* bpf_loop callback: one step up (a component, or a mount crossing). Returns 1 to stop. */
static long vg_walk_up_cb(__u64 i, void *ctx)
{
	struct vg_walk_ctx *w = ctx;
	struct vg_path_buf *b = w->b;
	struct dentry *d = w->d;
	struct qstr q;

	if (d == w->mnt_root) {
		struct mount *mnt = w->mnt;
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
		if (parent == mnt) {
			w->done = true;
			return 1;
		}
		if (w->crossings >= VG_PATH_MOUNTS)
			return 1;
		w->crossings++;
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->mnt_root = BPF_CORE_READ(parent, mnt.mnt_root);
		return 0;
	}
	if (w->n >= VG_PATH_DEPTH || !d)
		return 1;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (bpf_probe_read_kernel(&q, sizeof(q), __builtin_preserve_access_index(&d->d_name)))
		return 1;
	b->name[w->n & (VG_PATH_DEPTH - 1)] = (__u64)q.name;
	b->len[w->n & (VG_PATH_DEPTH - 1)] = q.len;
	w->n++;
	if (d == parent) { /* root of a filesystem that is not mounted here (pseudo, detached) */
		w->done = true;
		return 1;
	}
	w->d = parent;
	return 0;
}

/* bpf_loop callback: append component n-1-i. Returns 1 to stop. */
static long vg_walk_down_cb(__u64 i, void *ctx)
{
	struct vg_walk_ctx *w = ctx;
	struct vg_path_buf *b = w->b;

	if (i >= w->n)
		return 1;
	__u32 j = (w->n - 1 - i) & (VG_PATH_DEPTH - 1);
	__u32 l = b->len[j];
	__u32 off = w->off;
	if (off + 1 + l > VG_PATH_MAX) {
		w->truncated = true;
		return 1;
	}
	b->key.path[off & (VG_PATH_MAX - 1)] = '/';
	off++;
	bpf_probe_read_kernel(&b->key.path[off & (VG_PATH_MAX - 1)], l & (VG_PATH_MAX - 1), (void *)b->name[j]);
	w->off = off + l;
	return 0;
}

/* Walk (d, vfsmnt) into b->key.path; returns the path length (no NUL). b->len[0] is the length of the
 * last component (the basename) when b->depth > 0. A disconnected or pseudo-filesystem dentry (memfd,
 * deleted-and-detached) ends the walk with its own name, so a memfd reads "/memfd:name". */
static __always_inline __u32 vg_path_walk(struct vg_path_buf *b, struct dentry *d, struct vfsmount *vfsmnt,
					  bool *truncated)
{
	struct vg_walk_ctx w = {
		.b = b,
		.d = d,
		.mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root),
	};

	bpf_loop(VG_PATH_DEPTH + VG_PATH_MOUNTS, vg_walk_up_cb, &w, 0);
	if (!w.done)
		*truncated = true;
	b->depth = w.n;
	bpf_loop(VG_PATH_DEPTH, vg_walk_down_cb, &w, 0);
	if (w.truncated)
		*truncated = true;
	if (w.off == 0) {
		b->key.path[0] = '/';
		w.off = 1;
	}
	return w.off;
}

/*
 * The path of d within its own filesystem (d_parent up to the superblock's root, no mount crossed)
 * into b->key.path, as vg_path_walk; returns the length. This is the file's identity next to its
 * superblock: a bind mount, a host directory mounted elsewhere or a chroot give the same answer as
 * the path the runtime set up. b->name[0] is then the file's own name on its filesystem.
 */
/* bpf_loop callback of vg_fs_path_walk: one component up, stopping below the superblock's root
 * (which names itself "/"). Mounts are not looked at: a separate callback keeps the verifier from
 * exploring the mount-crossing branches of vg_walk_up_cb here. */
static long vg_fs_up_cb(__u64 i, void *ctx)
{
	struct vg_walk_ctx *w = ctx;
	struct vg_path_buf *b = w->b;
	struct dentry *d = w->d;
	struct qstr q;

	if (w->n >= VG_PATH_DEPTH)
		return 1;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		w->done = true;
		return 1;
	}
	if (bpf_probe_read_kernel(&q, sizeof(q), __builtin_preserve_access_index(&d->d_name)))
		return 1;
	b->name[w->n & (VG_PATH_DEPTH - 1)] = (__u64)q.name;
	b->len[w->n & (VG_PATH_DEPTH - 1)] = q.len;
	w->n++;
	w->d = parent;
	return 0;
}

static __always_inline __u32 vg_fs_path_walk(struct vg_path_buf *b, struct dentry *d, bool *truncated)
{
	struct vg_walk_ctx w = { .b = b, .d = d };

	bpf_loop(VG_PATH_DEPTH + 1, vg_fs_up_cb, &w, 0);
	if (!w.done)
		*truncated = true;
	b->depth = w.n;
	bpf_loop(VG_PATH_DEPTH, vg_walk_down_cb, &w, 0);
	if (w.truncated)
		*truncated = true;
	if (w.off == 0) {
		b->key.path[0] = '/';
		w.off = 1;
	}
	return w.off;
}

/* Kernel filesystems a runtime mounts into every container itself (magics from uapi/linux/magic.h):
 * a file on one of them is not "from the host" by where it is mounted. */
static __always_inline bool vg_runtime_fs(unsigned long magic)
{
	switch (magic) {
	case 0x9fa0:     /* proc */
	case 0x62656572: /* sysfs */
	case 0x01021994: /* tmpfs (also devtmpfs, the runtime's /dev and /dev/shm) */
	case 0x1cd1:     /* devpts */
	case 0x19800202: /* mqueue */
	case 0x27e0eb:   /* cgroup */
	case 0x63677270: /* cgroup2 */
	case 0x6e736673: /* nsfs */
		return true;
	default:
		return false;
	}
}

struct vg_below_ctx {
	struct dentry *d;
	struct dentry *root;
	bool found, ended;
};

static long vg_below_cb(__u64 i, void *ctx)
{
	struct vg_below_ctx *c = ctx;
	struct dentry *d = c->d;
	if (d == c->root) {
		c->found = true;
		return 1;
	}
	struct dentry *p = BPF_CORE_READ(d, d_parent);
	if (!p || p == d) {
		c->ended = true;
		return 1;
	}
	c->d = p;
	return 0;
}

struct vg_top_ctx {
	struct mount *m;
	struct mount *ns_root;
};

/* bpf_loop callback: one mount up, stopping below the namespace's absolute root. */
static long vg_top_cb(__u64 i, void *ctx)
{
	struct vg_top_ctx *c = ctx;
	struct mount *m = c->m;
	struct mount *parent = BPF_CORE_READ(m, mnt_parent);
	if (!parent || parent == m || parent == c->ns_root)
		return 1;
	c->m = parent;
	return 0;
}

/*
 * Whether (d, m) lives on a filesystem mounted into the task's container from outside its root: its
 * superblock differs from the one of the container's root, or, on the same superblock (a root
 * filesystem that is a directory of the host's disk), d is not below that root directory. The
 * container's root is the mount of the task's mount namespace that sits on the namespace's absolute
 * root (what pivot_root made "/"), found from the task's root upwards: a process that chrooted into
 * a host mount, or one of a container sharing the host's pid namespace, is judged against its
 * container's root, not its own. Kernel filesystems the runtime provides (vg_runtime_fs) are never
 * from the host. Undecided (a walk deeper than the bounds) counts as not from the host.
 */
static __noinline bool vg_host_fs(struct task_struct *t, struct dentry *d, struct vfsmount *m)
{
	struct super_block *sb = BPF_CORE_READ(m, mnt_sb);
	if (!sb || vg_runtime_fs(BPF_CORE_READ(sb, s_magic)))
		return false;
	struct vfsmount *task_root = BPF_CORE_READ(t, fs, root.mnt);
	struct mount *ns_root = BPF_CORE_READ(t, nsproxy, mnt_ns, root);
	if (!task_root || !ns_root)
		return false;
	struct vg_top_ctx tc = {
		.m = (void *)task_root - bpf_core_field_offset(struct mount, mnt),
		.ns_root = ns_root,
	};
	bpf_loop(VG_PATH_MOUNTS * 2, vg_top_cb, &tc, 0);
	struct mount *top = tc.m;
	struct dentry *root = BPF_CORE_READ(top, mnt.mnt_root);
	struct super_block *root_sb = BPF_CORE_READ(top, mnt.mnt_sb);
	if (sb != root_sb)
		return true;
	if (root == BPF_CORE_READ(sb, s_root))
		return false;
	struct vg_below_ctx c = { .d = d, .root = root };
	bpf_loop(VG_PATH_DEPTH * 2, vg_below_cb, &c, 0);
	return c.ended;
}

/* The file behind fd in the table of t (the current task: direct BTF loads), or NULL. */
static __always_inline struct file *vg_fd_file(struct task_struct *t, long fd)
{
	struct files_struct *files = t->files;
	struct file *f = NULL;

	if (!files || fd < 0)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

#define VG_S_IFMT 0170000 /* the file type bits of i_mode, and the types the probes tell apart */
#define VG_S_IFSOCK 0140000
#define VG_S_IFCHR 0020000
#define VG_S_IFIFO 0010000
#define VG_AF_UNIX 1
#define VG_AF_INET 2
#define VG_AF_INET6 10

/* Family of the socket behind f (AF_*), or 0 when f is not a socket. */
static __always_inline __u32 vg_file_sock_family(struct file *f)
{
	if (!f)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if (!ino || (BPF_CORE_READ(ino, i_mode) & VG_S_IFMT) != VG_S_IFSOCK)
		return 0;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return 0;
	return BPF_CORE_READ(sock, sk, __sk_common.skc_family);
}

#endif /* VIGIL_PROBES_PATH_BPF_H */
