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

/* The daemon's own processes: their events would feed back into the sensor. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} vg_ignore SEC(".maps");

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

#endif /* VIGIL_PROBES_MAPS_BPF_H */
