/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Enforcement (enforce.bpf.c): the value layout of its table vg_enforce (indexed by syscall number)
 * and its record. The object is loaded only when the configuration turns enforcement on.
 *
 * What an enforced call guarantees (see enforce.bpf.c for why):
 *   - VG_ENF_KILL: the process (every thread) is killed before the call returns to user space; it
 *     never runs another instruction and never sees the result. The call itself may still complete
 *     (a mount is made), except where the kernel checks for a fatal signal before the effect: execve
 *     and execveat do while copying their argument strings, so the new program never starts.
 *   - VG_ENF_SPOIL: the call fails (ENOENT, ENOEXEC, EINVAL) instead of completing, when the spoiled
 *     argument is in writable memory. spoil_ret in the record says whether the write took.
 */
#ifndef VIGIL_PROBES_ENFORCE_H
#define VIGIL_PROBES_ENFORCE_H

#include "common.h"

#define VG_ENF_KILL (1u << 0)            /* bpf_send_signal(SIGKILL) at sys_enter */
#define VG_ENF_CONTAINERS_ONLY (1u << 1) /* only tasks whose cgroup v2 id is in vg_enforce_cgroups */
#define VG_ENF_SPOIL (1u << 2)           /* spoil the user-pointer argument named by spoil, spoil_arg */
#define VG_ENFORCE_CGROUPS_MAX 16384    /* entries of vg_enforce_cgroups (container cgroup ids) */
#define VG_ENF_FLAGS_ALL (VG_ENF_KILL | VG_ENF_CONTAINERS_ONLY | VG_ENF_SPOIL)

/* How the call is made to fail, by writing into its user memory before the kernel reads it. */
enum vg_enf_spoil {
	VG_SPOIL_NONE = 0,
	VG_SPOIL_BYTE0 = 1,    /* a zero byte at args[spoil_arg]: an empty path or string (ENOENT),
	                        * a broken ELF magic of an init_module image (ENOEXEC) */
	VG_SPOIL_BPF_ATTR = 2, /* bpf(2): zero the u32 map_type/prog_type at the start of attr (args[1])
	                        * for BPF_MAP_CREATE and BPF_PROG_LOAD (EINVAL); other commands: none */
	VG_SPOIL_MAX = 3,
};

/* One entry of vg_enforce (ARRAY[VG_SYSCALL_MAX]); flags 0 = not enforced. */
struct vg_enforce_entry {
	__u32 flags;     /* VG_ENF_* */
	__u8 spoil;      /* enum vg_enf_spoil */
	__u8 spoil_arg;  /* 0..5: which syscall argument is the user pointer */
	__u16 _pad0;
};

/* Per-CPU counters of the enforce probe (one entry of vg_enforce_counters); user space sums CPUs. */
struct vg_enforce_counters {
	__u64 signalled;     /* SIGKILL sent */
	__u64 signal_failed; /* bpf_send_signal refused */
	__u64 spoiled;       /* argument spoiled */
	__u64 spoil_failed;  /* the write did not take (read-only or unmapped memory) */
};

/* enforce (VG_KIND_ENFORCE): an enforced call was stopped. hdr describes the calling task. */
struct vg_enforce {
	struct vg_header hdr;
	__u32 nr;         /* syscall number */
	__u32 flags;      /* the entry's VG_ENF_* */
	__s32 signal_ret; /* bpf_send_signal's result: 0 sent; 1 not asked (no VG_ENF_KILL) */
	__s32 spoil_ret;  /* bpf_probe_write_user's result: 0 spoiled; 1 not attempted */
	__u8 spoil;       /* enum vg_enf_spoil of the entry */
	__u8 spoil_arg;
	__u16 _pad0;
	__u32 _pad1;
	__u64 args[6];    /* the raw arguments */
};

VG_STATIC_ASSERT(sizeof(struct vg_enforce_entry) == 8, "vg_enforce_entry layout");
VG_STATIC_ASSERT(sizeof(struct vg_enforce_counters) == 32, "vg_enforce_counters layout");
VG_STATIC_ASSERT(sizeof(struct vg_enforce) == 96 + 72, "vg_enforce layout");

#endif /* VIGIL_PROBES_ENFORCE_H */
