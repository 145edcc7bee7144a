/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records of the cgroup probe (cgroup.bpf.c): a cgroup directory was made or removed. */
#ifndef VIGIL_PROBES_CGROUP_H
#define VIGIL_PROBES_CGROUP_H

#include "common.h"

#define VG_CGROUP_PATH_TRUNCATED (1u << 0) /* the path was longer than VG_PATH_MAX - 1 bytes */

/* kind VG_KIND_CGROUP_MKDIR or VG_KIND_CGROUP_RMDIR. hdr describes the task that made or removed the
 * directory (hdr.cgroup_id is that task's cgroup, not this one). Followed by path_len bytes of the
 * cgroup's path relative to its hierarchy's root ("/a/b", no NUL). */
struct vg_cgroup {
	struct vg_header hdr;
	__u64 cgroup_id;    /* cgrp->kn->id: for the v2 hierarchy, the id events carry and the directory's inode number */
	__u32 hierarchy_id; /* cgrp->root->hierarchy_id: 0 is the v2 (default) hierarchy, v1 hierarchies count from 1 */
	__u32 level;        /* depth below the hierarchy's root (root = 0) */
	__u16 path_len;
	__u16 flags;        /* VG_CGROUP_* */
	__u32 _pad0;
};

VG_STATIC_ASSERT(sizeof(struct vg_cgroup) == 96 + 24, "vg_cgroup layout");

#endif /* VIGIL_PROBES_CGROUP_H */
