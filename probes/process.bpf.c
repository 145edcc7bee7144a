/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process life cycle: exec, fork, exit (BTF scheduler tracepoints).
 *
 * exec: kernel-resolved executable path, argv from the new mm, creds after the exec, and the
 *   setuid/setgid/file-capability flags by comparing with the creds the syscall probe saved at
 *   execve entry (vg_task.exec_prior). Failed execs come from the syscall probe (sys_exit).
 * fork: new processes only (not threads), with the clone flags saved at clone entry; a child in new
 *   namespaces also yields an ns_change.
 * exit: one per process, when the last thread of the group exits.
 */
#include "maps.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "process.h"
#include "syscalls.h"

#define VG_CLONE_NEW_MASK 0x7e020080ULL /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME */
#define VG_SIGNAL_GROUP_EXIT 0x00000004 /* signal->flags: group exit in progress (exit_group or fatal signal) */
#define VG_MINORBITS 20 /* the kernel's dev_t: major << 20 | minor */

struct vg_proc_scratch {
	union {
		struct {
			struct vg_exec e;
			char data[VG_PATH_MAX + VG_ARGS_MAX];
		} exec;
		struct vg_ns_change ns;
	} rec;
	char args[VG_ARGS_MAX];
	struct vg_path_buf pb;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_proc_scratch);
} vg_proc_scratch SEC(".maps");

static __always_inline struct vg_proc_scratch *vg_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_proc_scratch, &zero);
}

/* bpf_loop callback: count NUL-terminated arguments, stop after VG_ARGC_MAX. */
struct vg_args_scan {
	char *buf;
	__u32 len;
	__u32 argc;
	__u32 alen;
};

static long vg_args_scan_cb(__u64 i, void *ctx)
{
	struct vg_args_scan *a = ctx;
	if (i >= a->len || i >= VG_ARGS_MAX)
		return 1;
	if (a->buf[i] == 0) {
		a->argc++;
		a->alen = i + 1;
		if (a->argc >= VG_ARGC_MAX)
			return 1;
	}
	return 0;
}

/*
 * What fd is in t's table, as VG_STDIO_*: read in the kernel at exec so that a short-lived process
 * (a reverse shell that runs one command) is still classified when user space reads its record
 * seconds later behind a backlog, after /proc/<pid>/fd is gone.
 */
static __always_inline __u8 vg_fd_class(struct task_struct *t, long fd)
{
	struct file *f = vg_fd_file(t, fd);
	if (!f)
		return VG_STDIO_CLOSED;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if (!ino)
		return VG_STDIO_CLOSED;
	__u32 type = BPF_CORE_READ(ino, i_mode) & VG_S_IFMT;
	if (type == VG_S_IFSOCK) {
		__u32 fam = vg_file_sock_family(f);
		if (fam == VG_AF_INET || fam == VG_AF_INET6)
			return VG_STDIO_SOCKET_INET;
		return fam == VG_AF_UNIX ? VG_STDIO_SOCKET_UNIX : VG_STDIO_SOCKET_OTHER;
	}
	if (type == VG_S_IFIFO)
		return VG_STDIO_PIPE;
	if (type == 0) /* anon inodes (eventfd, epoll, ...) carry no file type */
		return VG_STDIO_ANON;
	if (type == VG_S_IFCHR) {
		/* tty majors: 4 (tty*, ttyS*), 5 (/dev/tty, /dev/console, /dev/ptmx), 136-143 (pts) */
		__u32 major = BPF_CORE_READ(ino, i_rdev) >> VG_MINORBITS;
		if (major == 4 || major == 5 || (major >= 136 && major <= 143))
			return VG_STDIO_TTY;
	}
	return VG_STDIO_FILE;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_proc_scratch *s;
	struct vg_exec *e;
	bool truncated = false;

	/* the daemon's own processes would feed back into the sensor */
	if (vg_ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	s = vg_scratch();
	if (!s)
		return 0;
	e = &s->rec.exec.e;
	vg_fill_header(&e->hdr, VG_KIND_EXEC);
	e->retval = 0;
	e->flags = 0;
	e->_pad0 = 0;
	for (int fd = 0; fd < 3; fd++)
		e->stdio[fd] = vg_fd_class(t, fd);
	e->stdio[3] = 0;
	vg_read_creds(BPF_CORE_READ(t, cred), &e->creds);

	/* the executable: bprm->file (the memfd itself for fexecve of a memfd) */
	struct file *file = BPF_CORE_READ(bprm, file);
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	e->exe_ino = BPF_CORE_READ(inode, i_ino);
	e->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (BPF_CORE_READ(inode, i_nlink) == 0) /* memfd or deleted file */
		e->flags |= VG_EXEC_FILELESS;

	struct path fp;
	__u32 plen = 0;
	if (!bpf_probe_read_kernel(&fp, sizeof(fp), __builtin_preserve_access_index(&file->f_path)))
		plen = vg_path_walk(&s->pb, fp.dentry, fp.mnt, &truncated);
	if (truncated)
		e->flags |= VG_EXEC_PATH_TRUNCATED;
	if (fp.dentry && vg_host_fs(t, fp.dentry, fp.mnt))
		e->flags |= VG_EXEC_HOST_FS;
	plen = vg_clamp(plen, VG_PATH_MAX);
	bpf_probe_read_kernel(s->rec.exec.data, plen, s->pb.key.path);
	e->path_len = plen;

	/* argv of the new image: arg_start..arg_end of the new mm, NUL-separated */
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	unsigned long as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
	__u32 total = ae > as ? ae - as : 0, len = total, argc = 0, alen = 0;
	len = vg_clamp(len, VG_ARGS_MAX);
	if (len && bpf_probe_read_user(s->args, len, (void *)as))
		len = 0;
	struct vg_args_scan scan = { .buf = s->args, .len = len };
	bpf_loop(VG_ARGS_MAX, vg_args_scan_cb, &scan, 0);
	argc = scan.argc;
	alen = scan.alen;
	if (alen < total)
		e->flags |= VG_EXEC_ARGS_TRUNCATED;
	if (alen < len && argc < VG_ARGC_MAX && len > 0) {
		/* the last argument was cut at VG_ARGS_MAX: keep it, NUL-terminated */
		s->args[(len - 1) & (VG_ARGS_MAX - 1)] = 0;
		alen = len;
		argc++;
	}
	alen = vg_clamp(alen, VG_ARGS_MAX);
	bpf_probe_read_kernel(&s->rec.exec.data[plen & (VG_PATH_MAX * 2 - 1)], alen, s->args);
	e->args_len = alen;
	e->argc = argc;

	/* privilege raised by the exec: compare with the creds saved at execve entry */
	struct vg_task_state *st = bpf_task_storage_get(&vg_task, t, 0, 0);
	if (st && st->exec_prior && st->creds_valid) {
		if (e->creds.euid != st->creds.euid)
			e->flags |= VG_EXEC_SETUID;
		if (e->creds.egid != st->creds.egid)
			e->flags |= VG_EXEC_SETGID;
		/* gained permitted caps without becoming root: file capabilities */
		if ((e->creds.cap_permitted & ~st->creds.cap_permitted) && e->creds.euid != 0)
			e->flags |= VG_EXEC_FILECAPS;
	} else {
		e->flags |= VG_EXEC_NO_PRIOR_CREDS;
	}

	__u32 size = sizeof(*e) + plen + alen;
	if (size > sizeof(s->rec.exec))
		size = sizeof(s->rec.exec);
	e->hdr.size = size;
	vg_output(e, size, VG_KIND_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_proc_scratch *s;
	__u64 flags = 0;
	__u32 nr = 0;

	/* threads are not processes */
	if (child->pid != child->tgid)
		return 0;
	if (vg_ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	struct vg_task_state *st = bpf_task_storage_get(&vg_task, t, 0, 0);
	if (st && st->clone_pending) {
		flags = st->clone_flags;
		nr = st->clone_nr;
	}

	struct vg_fork f = {};
	vg_fill_header(&f.hdr, VG_KIND_FORK);
	f.hdr.size = sizeof(f);
	f.child_pid = child->tgid;
	f.child_vpid = vg_task_vpid(child);
	f.clone_flags = flags;
	vg_output(&f, sizeof(f), VG_KIND_FORK);

	if (!(flags & VG_CLONE_NEW_MASK))
		return 0;
	s = vg_scratch();
	if (!s)
		return 0;
	struct vg_ns_change *ns = &s->rec.ns;
	vg_fill_header(&ns->hdr, VG_KIND_NS_CHANGE);
	ns->hdr.size = sizeof(*ns);
	ns->syscall_nr = nr;
	ns->retval = child->tgid;
	ns->flags = flags;
	ns->child_pid = child->tgid;
	vg_task_ns(t, ns->old_ns, true);
	vg_task_ns(child, ns->new_ns, true);
	ns->changed = 0;
	for (int i = 0; i < VG_NS_COUNT; i++)
		if (ns->old_ns[i] != ns->new_ns[i])
			ns->changed |= 1u << i;
	vg_output(ns, sizeof(*ns), VG_KIND_NS_CHANGE);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_exit, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();

	/* one record per process: only the last thread of the group */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	if (vg_ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	__u32 code = BPF_CORE_READ(t, exit_code);
	if (BPF_CORE_READ(t, signal, flags) & VG_SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(t, signal, group_exit_code);

	struct vg_exit x = {};
	vg_fill_header(&x.hdr, VG_KIND_EXIT);
	x.hdr.size = sizeof(x);
	x.exit_code = (code >> 8) & 0xff;
	x.signal = code & 0x7f;
	x.core_dumped = (code & 0x80) != 0;
	vg_output(&x, sizeof(x), VG_KIND_EXIT);
	return 0;
}
