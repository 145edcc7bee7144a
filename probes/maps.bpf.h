/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and helpers shared by every probe object. Each object declares these maps with the same names
 * and shapes; native/ creates them once with the first object and reuses their fds for the others,
 * so all probes write one ring buffer and one set of counters.
 */
#ifndef VIGIL_PROBES_MAPS_BPF_H
#define VIGIL_PROBES_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The one ring buffer; user space sets the size before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} vg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_counters);
} vg_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_config);
} vg_config SEC(".maps");

/* Records dropped, by the cgroup of the task that sent them (see VG_DROPPED_CGROUPS_MAX). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_DROPPED_CGROUPS_MAX);
	__type(key, __u64);
	__type(value, __u64);
} vg_dropped_cgroups SEC(".maps");

/* Each cgroup's budget of exec, fork and exit records (see VG_CGROUP_RATE); kernel-only, never
 * read by user space, so it lives here and not in common.h. */
struct vg_cgroup_budget {
	__u64 tokens;
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_CGROUP_BUDGETS_MAX);
	__type(key, __u64);
	__type(value, struct vg_cgroup_budget);
} vg_cgroup_budget SEC(".maps");

/* The daemon's own processes: their events would feed back into the sensor. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} vg_ignore SEC(".maps");

/*
 * Per-task state shared by the process and syscall objects (one task-local storage entry per task,
 * freed with the task). The syscall probe keeps the credential snapshot for cred_change, the clone
 * flags for sched_process_fork, and the namespaces saved at unshare/setns entry here.
 */
struct vg_task_state {
	__u64 cred_ptr;          /* task->cred when creds was taken; a new pointer means commit_creds ran */
	struct vg_creds creds;   /* the snapshot */
	__u32 creds_valid;       /* creds holds a snapshot */
	__u32 exec_prior;        /* creds were refreshed at the entry of the running execve/execveat */
	__u64 clone_flags;       /* clone/clone3 flags saved at entry; 0 for fork/vfork */
	__u32 clone_nr;          /* the syscall that is creating a child */
	__u32 clone_pending;     /* clone_* are valid (between entry and exit of a clone-family call) */
	__u32 ns[VG_NS_COUNT];   /* unshare/setns: namespaces at entry (pid = pid_ns_for_children) */
	__u32 ns_pending;
	__u64 ns_flags;          /* unshare flags or setns nstype */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vg_task_state);
} vg_task SEC(".maps");

static __always_inline struct vg_counters *vg_counters_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_counters, &zero);
}

static __always_inline void vg_count_emitted(__u32 kind)
{
	struct vg_counters *c = vg_counters_get();
	if (c && kind < VG_KIND_MAX)
		c->emitted[kind]++;
}

static __always_inline void vg_count_dropped(__u32 kind)
{
	struct vg_counters *c = vg_counters_get();
	if (c && kind < VG_KIND_MAX)
		c->dropped[kind]++;
	__u64 cgroup = bpf_get_current_cgroup_id();
	__u64 *n = bpf_map_lookup_elem(&vg_dropped_cgroups, &cgroup);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&vg_dropped_cgroups, &cgroup, &one, BPF_NOEXIST);
	}
}

/* A record the probes chose not to send (ring share, cgroup budget): a drop like any other (by
 * kind and by cgroup, so "Sensor blinding from container" names the sender), and counted apart. */
static __always_inline void vg_count_shed(__u32 kind)
{
	struct vg_counters *c = vg_counters_get();
	if (c && kind < VG_KIND_MAX)
		c->shed[kind]++;
	vg_count_dropped(kind);
}

/* Refills a token bucket at rate a second (at most burst) and spends one token; false when it has
 * none. Updates from several CPUs at once may lose a token or two: the budget is a rate, not an
 * account. */
static __always_inline bool vg_budget_spend(struct vg_cgroup_budget *b, __u64 now, __u64 rate, __u64 burst)
{
	__u64 elapsed = now - b->last_ns;
	if (elapsed > 10ULL * 1000000000ULL)
		elapsed = 10ULL * 1000000000ULL;
	__u64 refill = elapsed * rate / 1000000000ULL;
	if (refill > 0) {
		__u64 t = b->tokens + refill;
		b->tokens = t > burst ? burst : t;
		b->last_ns = now;
	}
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}

/* Spends one of the current cgroup's tokens (VG_CGROUP_RATE); false when it has none. */
static __always_inline bool vg_cgroup_budget_take(void)
{
	__u64 cgroup = bpf_get_current_cgroup_id();
	__u64 now = bpf_ktime_get_ns();
	struct vg_cgroup_budget *b = bpf_map_lookup_elem(&vg_cgroup_budget, &cgroup);
	if (!b) {
		struct vg_cgroup_budget fresh = { .tokens = VG_CGROUP_BURST - 1, .last_ns = now };
		bpf_map_update_elem(&vg_cgroup_budget, &cgroup, &fresh, BPF_NOEXIST);
		return true;
	}
	return vg_budget_spend(b, now, VG_CGROUP_RATE, VG_CGROUP_BURST);
}

/* Whether a record of this kind may take ring space now: bulk kinds leave the last part of the ring
 * to the rest (VG_RING_SHARE_*), and a cgroup over its budget (VG_CGROUP_RATE) is shed while the
 * reader is behind. */
static __always_inline bool vg_ring_share_left(__u32 kind)
{
	__u64 eighths;
	if (kind == VG_KIND_FORK || kind == VG_KIND_EXIT)
		eighths = VG_RING_SHARE_BULK_EIGHTHS;
	else if (kind == VG_KIND_EXEC)
		eighths = VG_RING_SHARE_EXEC_EIGHTHS;
	else
		return true;
	bool within = vg_cgroup_budget_take();
	__u64 used = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&vg_events, BPF_RB_RING_SIZE);
	if (!within && used > size / 8)
		return false;
	return used < size / 8 * eighths;
}

static __always_inline bool vg_ignored(__u32 tgid)
{
	return bpf_map_lookup_elem(&vg_ignore, &tgid) != NULL;
}

static __always_inline __u32 vg_config_flags(void)
{
	__u32 zero = 0;
	struct vg_config *cfg = bpf_map_lookup_elem(&vg_config, &zero);
	return cfg ? cfg->flags : 0;
}

static __always_inline struct vg_config *vg_config_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_config, &zero);
}

/* v clamped to max, in a form the verifier tracks (the barrier keeps clang from using an unclamped copy). */
#define vg_clamp(v, max)                                                                   \
	({                                                                                 \
		__u64 __v = (v);                                                           \
		if (__v > (max))                                                           \
			__v = (max);                                                       \
		asm volatile("" : "+r"(__v));                                              \
		__v;                                                                       \
	})

/* v & m (m = 2^k - 1) done in an instruction clang cannot drop, so the verifier sees the bound even
 * where the compiler proved it from an earlier check on another register. */
#define vg_mask(v, m)                                                                      \
	({                                                                                 \
		__u64 __m = (v);                                                           \
		asm volatile("%0 &= %1" : "+r"(__m) : "i"(m));                             \
		__m;                                                                       \
	})

/* Wakeup policy of the ring buffer: adaptive (the kernel wakes an idle reader at each record), or with
 * VG_CFG_BATCH_WAKEUP only once VG_WAKEUP_BYTES wait (the reader drains on a timer too). */
static __always_inline __u64 vg_wakeup_flags(void)
{
	if (!(vg_config_flags() & VG_CFG_BATCH_WAKEUP))
		return 0;
	return bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA) >= VG_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
										   : BPF_RB_NO_WAKEUP;
}

/* Send a record built in scratch memory; size is what the probe wrote (hdr.size). */
#define vg_output(rec, size, kind)                                                         \
	do {                                                                               \
		if (!vg_ring_share_left(kind))                                             \
			vg_count_shed(kind);                                                 \
		else if (bpf_ringbuf_output(&vg_events, (rec), (size), vg_wakeup_flags()))   \
			vg_count_dropped(kind);                                              \
		else                                                                       \
			vg_count_emitted(kind);                                              \
	} while (0)

#endif /* VIGIL_PROBES_MAPS_BPF_H */
