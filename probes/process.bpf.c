/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Process life cycle: exec, fork, exit. (Minimal bootstrap version; fleshed out by the probes work.) */
#include "maps.bpf.h"
#include "process.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (vg_ignored(id >> 32))
		return 0;
	struct vg_exec *e = bpf_ringbuf_reserve(&vg_events, sizeof(*e), 0);
	if (!e) {
		vg_count_dropped(VG_KIND_EXEC);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.kind = VG_KIND_EXEC;
	e->hdr.size = sizeof(*e);
	e->hdr.pid = id >> 32;
	e->hdr.tid = (__u32)id;
	e->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	bpf_ringbuf_submit(e, 0);
	vg_count_emitted(VG_KIND_EXEC);
	return 0;
}
