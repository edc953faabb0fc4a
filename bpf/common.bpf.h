/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* BPF-only helpers shared by trace.bpf.c and enforce.bpf.c. */
#pragma once
