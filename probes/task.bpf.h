/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a task: the record header, credentials and namespace inodes. Every handler fills its
 * header through vg_fill_header so all kinds describe the task the same way. Reads go through the
 * BTF pointer of bpf_get_current_task_btf() (direct, fault-safe loads relocated by CO-RE); only
 * variable-index reads (pid->numbers[level]) use bpf_probe_read_kernel.
 */
#ifndef VIGIL_PROBES_TASK_BPF_H
#define VIGIL_PROBES_TASK_BPF_H

#include "maps.bpf.h"

/* Kernels without CONFIG_AUDIT have no task->loginuid. */
struct task_struct___audit {
	kuid_t loginuid;
} __attribute__((preserve_access_index));

/* The active pid namespace level entry of a struct pid: numbers[pid->level]. */
static __always_inline void vg_pid_upid(struct pid *pid, struct upid *up)
{
	__u32 level = BPF_CORE_READ(pid, level);
	unsigned long addr = (unsigned long)pid + bpf_core_field_offset(struct pid, numbers) +
			     (unsigned long)(level & 0x3f) * sizeof(struct upid);
	if (bpf_probe_read_kernel(up, sizeof(*up), (void *)addr))
		__builtin_memset(up, 0, sizeof(*up));
}

/* Namespace inodes of a task. pid_for_children picks nsproxy->pid_ns_for_children for the pid slot
 * (what unshare/setns/clone change) instead of the active pid namespace. */
static __always_inline void vg_task_ns(struct task_struct *t, __u32 ns[VG_NS_COUNT], bool pid_for_children)
{
	struct nsproxy *nsp = BPF_CORE_READ(t, nsproxy);
	if (nsp) {
		ns[VG_NS_MNT] = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
		ns[VG_NS_NET] = BPF_CORE_READ(nsp, net_ns, ns.inum);
		ns[VG_NS_UTS] = BPF_CORE_READ(nsp, uts_ns, ns.inum);
		ns[VG_NS_IPC] = BPF_CORE_READ(nsp, ipc_ns, ns.inum);
		ns[VG_NS_CGROUP] = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
	} else {
		/* exiting task: nsproxy already released */
		ns[VG_NS_MNT] = ns[VG_NS_NET] = ns[VG_NS_UTS] = ns[VG_NS_IPC] = ns[VG_NS_CGROUP] = 0;
	}
	ns[VG_NS_USER] = BPF_CORE_READ(t, cred, user_ns, ns.inum);
	if (pid_for_children) {
		ns[VG_NS_PID] = nsp ? BPF_CORE_READ(nsp, pid_ns_for_children, ns.inum) : 0;
	} else {
		struct upid up;
		vg_pid_upid(BPF_CORE_READ(t, thread_pid), &up);
		ns[VG_NS_PID] = up.ns ? BPF_CORE_READ(up.ns, ns.inum) : 0;
	}
}

static __always_inline void vg_read_creds(const struct cred *c, struct vg_creds *out)
{
	out->uid = BPF_CORE_READ(c, uid.val);
	out->euid = BPF_CORE_READ(c, euid.val);
	out->suid = BPF_CORE_READ(c, suid.val);
	out->fsuid = BPF_CORE_READ(c, fsuid.val);
	out->gid = BPF_CORE_READ(c, gid.val);
	out->egid = BPF_CORE_READ(c, egid.val);
	out->sgid = BPF_CORE_READ(c, sgid.val);
	out->fsgid = BPF_CORE_READ(c, fsgid.val);
	/* kernel_cap_t is a u64 since 6.3 and u32[2] before: the same 8 little-endian bytes. */
	out->cap_effective = 0;
	out->cap_permitted = 0;
	out->cap_inheritable = 0;
	bpf_probe_read_kernel(&out->cap_effective, 8, __builtin_preserve_access_index(&c->cap_effective));
	bpf_probe_read_kernel(&out->cap_permitted, 8, __builtin_preserve_access_index(&c->cap_permitted));
	bpf_probe_read_kernel(&out->cap_inheritable, 8, __builtin_preserve_access_index(&c->cap_inheritable));
}

/* tgid of a task as seen from its own (active) pid namespace. */
static __always_inline __u32 vg_task_vpid(struct task_struct *t)
{
	struct upid up;
	vg_pid_upid(BPF_CORE_READ(t, group_leader, thread_pid), &up);
	return up.nr;
}

/* Fill the common header for the current task. size is set by the caller once the record is built. */
static __always_inline void vg_fill_header(struct vg_header *h, __u16 kind)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	const struct cred *c = BPF_CORE_READ(t, cred);

	h->kind = kind;
	h->size = 0;
	h->ktime_ns = bpf_ktime_get_boot_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->vpid = vg_task_vpid(t);
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->uid = BPF_CORE_READ(c, uid.val);
	h->gid = BPF_CORE_READ(c, gid.val);
	if (bpf_core_field_exists(struct task_struct___audit, loginuid))
		h->loginuid = BPF_CORE_READ((struct task_struct___audit *)t, loginuid.val);
	else
		h->loginuid = 0xffffffff;
	h->cgroup_id = bpf_get_current_cgroup_id();
	vg_task_ns(t, h->ns, false);
	h->_pad0 = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

#endif /* VIGIL_PROBES_TASK_BPF_H */
