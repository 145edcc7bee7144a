/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The enforce probe for kernels that refuse bpf_probe_write_user (the kernel is locked down, or the
 * helper is not offered to tracing programs): the same program without the spoiling, so the kill
 * still works. native/ loads this object in place of enforce.bpf.c when a probe of the helper fails;
 * a spoil asked for is then reported as failed (spoil_ret -EPERM) and counted.
 */
#define VG_ENFORCE_NO_SPOIL 1
#include "enforce.bpf.c"
