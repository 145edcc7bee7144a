/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup directories made and removed (BTF tracepoints cgroup:cgroup_mkdir and cgroup:cgroup_rmdir).
 *
 * The container registry maps each event's cgroup id to a container through the cgroup's path. A
 * walk of the tree at start-up finds the cgroups that exist; these records keep the map current, so a
 * container whose first process acts within a millisecond of its cgroup's creation is still known.
 * Both are rare (a handful per container start), so every hierarchy is reported and user space picks.
 */
#include "maps.bpf.h"
#include "task.bpf.h"
#include "cgroup.h"

struct vg_cgroup_scratch {
	struct vg_cgroup c;
	char path[VG_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_cgroup_scratch);
} vg_cgroup_scratch SEC(".maps");

static __always_inline int vg_cgroup_record(struct cgroup *cgrp, const char *path, __u16 kind)
{
	__u32 zero = 0;
	struct vg_cgroup_scratch *s = bpf_map_lookup_elem(&vg_cgroup_scratch, &zero);
	if (!s)
		return 0;

	vg_fill_header(&s->c.hdr, kind);
	s->c.cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	s->c.hierarchy_id = BPF_CORE_READ(cgrp, root, hierarchy_id);
	s->c.level = BPF_CORE_READ(cgrp, level);
	s->c.flags = 0;
	s->c._pad0 = 0;

	/* The kernel formats the path for the tracepoint; copy it with its NUL, then drop the NUL. */
	long n = bpf_probe_read_kernel_str(s->path, sizeof(s->path), path);
	__u64 len = n > 0 ? (__u64)n - 1 : 0;
	if (n == sizeof(s->path))
		s->c.flags |= VG_CGROUP_PATH_TRUNCATED;
	len = vg_clamp(len, VG_PATH_MAX - 1);
	s->c.path_len = len;

	__u64 size = sizeof(s->c) + len;
	s->c.hdr.size = size;
	size = vg_clamp(size, sizeof(*s));
	vg_output(s, size, kind);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(vg_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	return vg_cgroup_record(cgrp, path, VG_KIND_CGROUP_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(vg_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	return vg_cgroup_record(cgrp, path, VG_KIND_CGROUP_RMDIR);
}
