/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* System calls. (Minimal bootstrap version; fleshed out by the probes work.) */
#include "maps.bpf.h"
#include "syscalls.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u32);
} vg_syscalls SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(vg_sys_enter, struct pt_regs *regs, long id)
{
	__u32 nr = id;
	__u32 *on = bpf_map_lookup_elem(&vg_syscalls, &nr);
	if (!on || !*on)
		return 0;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
