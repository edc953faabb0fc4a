// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* PLACEHOLDER: replaced by the module owner. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "aegis.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
