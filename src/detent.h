/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The detent: suppression of repeated records. Pure core module (the caller
 * passes the clock), single-threaded.
 *
 * A key is (app identity, peer address, port, direction); see
 * policy_detent_key() for how a record becomes a key. The first record of a
 * key is emitted (log/notify/script run) and opens a window of window_usec;
 * every repeat inside the window is suppressed and counted. The first record
 * after the window expired is emitted again, carries the count of what was
 * suppressed since the previous emitted record, and opens a new window.
 * (The window runs from the emitted record; repeats do not extend it.)
 *
 * Memory is bounded: at most max_entries keys, the least recently seen key
 * is evicted (its pending count is lost from the next record but stays in
 * the totals). window_usec == 0 disables the detent: every record is emitted.
 * block and kill are not the detent's business: the caller applies them to
 * every record.
 *
 * In the daemon, after policy_decide():
 *
 *   unsigned quiet = ACTION_LOG | ACTION_NOTIFY | ACTION_SCRIPT;
 *   if (rec->actions & quiet) {
 *           struct detent_key k;
 *           uint64_t n;
 *
 *           policy_detent_key(policy, rec, &k);
 *           if (detent_check(d, &k, now_usec(CLOCK_MONOTONIC), rec->suppressed, &n))
 *                   rec->suppressed = n;      (emitted: carries the count)
 *           else
 *                   rec->actions &= ~quiet;   (block/kill still run)
 *   }
 *
 * and detent_expire() from a timer now and then (e.g. every minute).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct detent;

struct detent_key {
	uint64_t app; /* policy_app_hash(), or a hash of the exe when unconfigured */
	uint8_t addr[16]; /* peer address, network order; zero for listen */
	uint16_t port; /* service port (dpt) */
	uint8_t family; /* AF_INET / AF_INET6 / 0 */
	uint8_t direction; /* enum aegis_direction */
	uint32_t pad; /* must be zero (keys are compared bytewise) */
};

struct detent_stats {
	size_t entries; /* keys held now */
	uint64_t emitted; /* detent_check() calls that returned true */
	uint64_t suppressed; /* repeats suppressed in total (incl. add_suppressed) */
	uint64_t evictions; /* keys evicted at max_entries */
};

/* max_entries 0 is taken as 1. */
int detent_new(uint64_t window_usec, size_t max_entries, struct detent **ret);
/* Accepts NULL; returns NULL. */
struct detent *detent_free(struct detent *d);

/*
 * One record of key k at now_usec (any monotonic clock). add_suppressed:
 * repeats of this record already folded elsewhere (kernel dedup); they are
 * counted like repeats suppressed here. Returns true if the record is to be
 * emitted, with *ret_suppressed (if non-NULL) = repeats suppressed since the
 * previous emitted record of this key (including add_suppressed). Returns
 * false if suppressed (*ret_suppressed = 0).
 */
bool detent_check(struct detent *d, const struct detent_key *k, uint64_t now_usec,
		  uint64_t add_suppressed, uint64_t *ret_suppressed);

/* Drops keys whose window expired and that were not seen since; returns how many. */
size_t detent_expire(struct detent *d, uint64_t now_usec);

/* New window/cap (on reload); entries are kept (trimmed to the cap). */
void detent_set_limits(struct detent *d, uint64_t window_usec, size_t max_entries);

void detent_get_stats(const struct detent *d, struct detent_stats *ret);
