/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Enforcement in the kernel: stop system calls marked in vg_enforce (syscall number -> struct
 * vg_enforce_entry, written by user space) at tp_btf/sys_enter. Loaded and attached only when the
 * configuration turns enforcement on, so it costs nothing otherwise; when loaded, an unmarked call
 * leaves after one inlined array lookup.
 *
 * What this kernel allows: no kprobes, fmod_ret or LSM programs, so no bpf_override_return and no
 * way to make the kernel skip the call. What it does instead, for a marked call:
 *
 *   kill   bpf_send_signal(SIGKILL). At sys_enter interrupts are on, so the signal is sent at once
 *          (not through irq_work): the whole thread group has SIGKILL pending and the process never
 *          returns to user space. But a signal acts on the way back to user space: the call itself
 *          still runs to its end unless it happens to check fatal_signal_pending(), so a mount can
 *          still be made and a module still loaded, by a process that dies right after.
 *   spoil  So the call is also made to fail where it takes a user pointer: bpf_probe_write_user
 *          writes into the argument's memory before the kernel copies it in (sys_enter runs before
 *          the call body), and the call fails on the spoiled input:
 *            mount target (arg 1) / open, openat path / init_module image (arg 0): first byte 0, so
 *              the path is "" (ENOENT) or the ELF magic is broken (ENOEXEC);
 *            bpf attr (arg 1): the u32 map_type / prog_type of BPF_MAP_CREATE / BPF_PROG_LOAD is set
 *              to 0, the UNSPEC type (EINVAL); other bpf commands are not spoiled.
 *          finit_module takes only an fd (and a params string whose spoiling does not stop the
 *          load): it is killed, not spoiled, and the module load may complete.
 *
 * Guaranteed not to complete, when the write took (record spoil_ret 0): mount (any mount whose
 * target is a path: tmpfs, bind, remount, proc, ...), init_module, open/openat, bpf MAP_CREATE and
 * PROG_LOAD. Not guaranteed: finit_module, other bpf commands, any call whose argument lives in
 * read-only memory (a string literal in .rodata, a PROT_READ mapping of a module file: the write
 * fails, spoil_ret < 0, counted), and a race in which another process sharing that memory rewrites it
 * between the spoil and the kernel's copy (threads of the same process are killed with it but may
 * run until their next return to user space). The write goes into the caller's memory: in a
 * MAP_SHARED file mapping it changes the file. bpf_probe_write_user also logs a one-time kernel
 * warning when the object loads. The kill itself is always attempted (signal_ret < 0 is counted).
 *
 * A locked-down kernel refuses bpf_probe_write_user to every tracing program ("program of this type
 * cannot use helper"), as the project's 6.18 kernel does. native/ probes the helper before load and
 * then loads enforce_kill.bpf.c (this file without the spoiling) instead: enforced calls are killed,
 * never spoiled (spoil_ret -EPERM), and measured there, `mount -t tmpfs` from a container completes
 * (the tmpfs is mounted) by a process that never returns to user space. Only the kill is guaranteed.
 *
 * Which tasks (VG_ENF_CONTAINERS_ONLY): those whose cgroup v2 id (bpf_get_current_cgroup_id) is in
 * vg_enforce_cgroups, which user space fills with the cgroups of running containers. The first
 * choice, "outside the initial pid namespace" (task->thread_pid->level > 0), was measured to kill
 * the container runtime itself: runc's init process mounts the container's root, /proc and /dev from
 * inside the new pid namespace, so with mount enforced no container could start. With the allow-list,
 * a container's cgroup is added once the registry has seen it start (its first exec), after the
 * runtime's set-up; it covers hostPID containers too. What it costs: calls made in the window between
 * the container's first exec and the map update are not enforced, and a process that moves itself
 * to a cgroup outside the list (it needs write access to a cgroup.procs outside its container)
 * escapes enforcement. A cgroup below a listed one is not covered: list each.
 * The daemon's own processes (vg_ignore) are never touched.
 */
#include "maps.bpf.h"
#include "task.bpf.h"
#include "enforce.h"

#define VG_SIGKILL 9
#define VG_BPF_MAP_CREATE 0
#define VG_BPF_PROG_LOAD 5

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, struct vg_enforce_entry);
} vg_enforce SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_enforce_counters);
} vg_enforce_counters SEC(".maps");

/* The containers: cgroup v2 ids of running containers, written by user space as they start. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_ENFORCE_CGROUPS_MAX);
	__type(key, __u64);
	__type(value, __u32);
} vg_enforce_cgroups SEC(".maps");

/* Syscall arguments from the pt_regs of sys_enter (direct BTF loads). */
#if defined(__TARGET_ARCH_x86)
static __always_inline void vg_enf_args(struct pt_regs *r, __u64 a[6])
{
	a[0] = r->di;
	a[1] = r->si;
	a[2] = r->dx;
	a[3] = r->r10;
	a[4] = r->r8;
	a[5] = r->r9;
}
#elif defined(__TARGET_ARCH_arm64)
static __always_inline void vg_enf_args(struct pt_regs *r, __u64 a[6])
{
	a[0] = r->orig_x0;
	for (int i = 1; i < 6; i++)
		a[i] = r->regs[i];
}
#else
#error "vigil probes: add the syscall register layout of this architecture"
#endif

static __noinline int vg_enforce_slow(struct pt_regs *regs, __u32 nr, __u32 flags, __u32 spoil, __u32 spoil_arg)
{
	__u32 zero = 0;
	__u64 cgid = bpf_get_current_cgroup_id();

	/* containers only: the task's cgroup must be a running container's */
	if ((flags & VG_ENF_CONTAINERS_ONLY) && !bpf_map_lookup_elem(&vg_enforce_cgroups, &cgid))
		return 0;
	/* never the daemon itself */
	if (vg_ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;

	struct vg_enforce rec;
	__builtin_memset(&rec, 0, sizeof(rec));
	vg_enf_args(regs, rec.args);
	rec.nr = nr;
	rec.flags = flags;
	rec.spoil = spoil;
	rec.spoil_arg = spoil_arg;
	rec.signal_ret = 1;
	rec.spoil_ret = 1;

	/* spoil first: the kernel copies the argument in after sys_enter returns */
#ifdef VG_ENFORCE_NO_SPOIL
	/* this kernel refuses bpf_probe_write_user (e.g. lockdown): spoiling cannot be done */
	if (flags & VG_ENF_SPOIL)
		rec.spoil_ret = -1; /* -EPERM */
#else
	if (flags & VG_ENF_SPOIL) {
		__u64 ptr = 0;
		switch (spoil_arg) {
		case 0: ptr = rec.args[0]; break;
		case 1: ptr = rec.args[1]; break;
		case 2: ptr = rec.args[2]; break;
		case 3: ptr = rec.args[3]; break;
		case 4: ptr = rec.args[4]; break;
		case 5: ptr = rec.args[5]; break;
		}
		if (spoil == VG_SPOIL_BYTE0 && ptr) {
			char z = 0;
			rec.spoil_ret = bpf_probe_write_user((void *)ptr, &z, 1);
		} else if (spoil == VG_SPOIL_BPF_ATTR &&
			   (rec.args[0] == VG_BPF_MAP_CREATE || rec.args[0] == VG_BPF_PROG_LOAD)) {
			__u32 type = 0;
			rec.spoil_ret = bpf_probe_write_user((void *)rec.args[1], &type, sizeof(type));
		}
	}
#endif
	if (flags & VG_ENF_KILL)
		rec.signal_ret = bpf_send_signal(VG_SIGKILL);

	struct vg_enforce_counters *c = bpf_map_lookup_elem(&vg_enforce_counters, &zero);
	if (c) {
		if (rec.signal_ret == 0)
			c->signalled++;
		else if (rec.signal_ret < 0)
			c->signal_failed++;
		if (rec.spoil_ret == 0)
			c->spoiled++;
		else if (rec.spoil_ret < 0)
			c->spoil_failed++;
	}

	vg_fill_header(&rec.hdr, VG_KIND_ENFORCE);
	rec.hdr.size = sizeof(rec);
	vg_output(&rec, sizeof(rec), VG_KIND_ENFORCE);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(vg_enforce_enter, struct pt_regs *regs, long id)
{
	__u32 nr = id;
	struct vg_enforce_entry *e = bpf_map_lookup_elem(&vg_enforce, &nr);

	/* not enforced: leave after one array lookup */
	if (!e || !(e->flags & (VG_ENF_KILL | VG_ENF_SPOIL)))
		return 0;
	return vg_enforce_slow(regs, nr, e->flags, e->spoil, e->spoil_arg);
}
