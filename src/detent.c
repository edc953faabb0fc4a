// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Detent cache: a chained hash table of keys plus an intrusive doubly linked
 * LRU list (head = most recently seen), so lookup, insert and eviction are
 * O(1). The bucket array doubles when the load factor passes 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detent.h"
#include "macro.h"

struct detent_entry {
	struct detent_key key;
	uint64_t hash;
	uint64_t emitted_usec; /* start of the current window */
	uint64_t seen_usec; /* last record */
	uint64_t pending; /* suppressed since the last emitted record */
	struct detent_entry *hnext; /* bucket chain */
	struct detent_entry *prev, *next; /* LRU list */
};

struct detent {
	uint64_t window;
	size_t max_entries;
	struct detent_entry **buckets;
	size_t n_buckets; /* power of two */
	size_t n_entries;
	struct detent_entry *head, *tail;
	struct detent_entry *spare; /* one freed entry kept for reuse */
	struct detent_stats stats;
};

static uint64_t key_hash(const struct detent_key *k)
{
	/* FNV-1a over the bytes, then a final mix (keys differ in few bits). */
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int detent_new(uint64_t window_usec, size_t max_entries, struct detent **ret)
{
	struct detent *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->window = window_usec;
	d->max_entries = MAX(max_entries, (size_t)1);
	d->n_buckets = 64;
	d->buckets = calloc(d->n_buckets, sizeof(*d->buckets));
	if (!d->buckets) {
		free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

struct detent *detent_free(struct detent *d)
{
	struct detent_entry *e, *next;

	if (!d)
		return NULL;
	for (e = d->head; e; e = next) {
		next = e->next;
		free(e);
	}
	free(d->spare);
	free(d->buckets);
	free(d);
	return NULL;
}

static void lru_unlink(struct detent *d, struct detent_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		d->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		d->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct detent *d, struct detent_entry *e)
{
	e->prev = NULL;
	e->next = d->head;
	if (d->head)
		d->head->prev = e;
	d->head = e;
	if (!d->tail)
		d->tail = e;
}

static struct detent_entry **bucket_of(const struct detent *d, uint64_t hash)
{
	return &d->buckets[hash & (d->n_buckets - 1)];
}

static struct detent_entry *lookup(const struct detent *d, const struct detent_key *k,
				   uint64_t hash)
{
	for (struct detent_entry *e = *bucket_of(d, hash); e; e = e->hnext)
		if (e->hash == hash && memcmp(&e->key, k, sizeof(*k)) == 0)
			return e;
	return NULL;
}

/* Removes e from the table and the list; keeps one entry for reuse. */
static void remove_entry(struct detent *d, struct detent_entry *e)
{
	struct detent_entry **pp = bucket_of(d, e->hash);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(d, e);
	d->n_entries--;
	if (!d->spare)
		d->spare = e;
	else
		free(e);
}

static void grow(struct detent *d)
{
	size_t n = d->n_buckets * 2;
	struct detent_entry **b;

	b = calloc(n, sizeof(*b));
	if (!b)
		return; /* keep the longer chains: still correct */
	for (struct detent_entry *e = d->head; e; e = e->next) {
		struct detent_entry **slot = &b[e->hash & (n - 1)];

		e->hnext = *slot;
		*slot = e;
	}
	free(d->buckets);
	d->buckets = b;
	d->n_buckets = n;
}

static void trim(struct detent *d, size_t max)
{
	while (d->n_entries > max && d->tail) {
		remove_entry(d, d->tail);
		d->stats.evictions++;
	}
}

/* Inserts a new key; on allocation failure returns NULL (the record is emitted anyway). */
static struct detent_entry *insert(struct detent *d, const struct detent_key *k, uint64_t hash)
{
	struct detent_entry *e;

	trim(d, d->max_entries - 1);
	e = TAKE_PTR(d->spare);
	if (!e) {
		e = malloc(sizeof(*e));
		if (!e)
			return NULL;
	}
	*e = (struct detent_entry){ .key = *k, .hash = hash };
	if (d->n_entries >= d->n_buckets)
		grow(d);
	struct detent_entry **slot = bucket_of(d, hash);
	e->hnext = *slot;
	*slot = e;
	lru_push_front(d, e);
	d->n_entries++;
	return e;
}

static bool emit(struct detent *d, uint64_t suppressed, uint64_t *ret_suppressed)
{
	d->stats.emitted++;
	if (ret_suppressed)
		*ret_suppressed = suppressed;
	return true;
}

bool detent_check(struct detent *d, const struct detent_key *k, uint64_t now_usec,
		  uint64_t add_suppressed, uint64_t *ret_suppressed)
{
	uint64_t hash, pending;
	struct detent_entry *e;

	d->stats.suppressed += add_suppressed;
	if (d->window == 0)
		return emit(d, add_suppressed, ret_suppressed);

	hash = key_hash(k);
	e = lookup(d, k, hash);
	if (!e) {
		e = insert(d, k, hash);
		if (e)
			e->emitted_usec = e->seen_usec = now_usec;
		return emit(d, add_suppressed, ret_suppressed);
	}

	lru_unlink(d, e);
	lru_push_front(d, e);
	e->seen_usec = now_usec;
	if (now_usec >= e->emitted_usec && now_usec - e->emitted_usec < d->window) {
		e->pending += 1 + add_suppressed;
		d->stats.suppressed++;
		if (ret_suppressed)
			*ret_suppressed = 0;
		return false;
	}
	/* Window expired (or the clock went backwards): emit and reopen. */
	pending = e->pending + add_suppressed;
	e->pending = 0;
	e->emitted_usec = now_usec;
	return emit(d, pending, ret_suppressed);
}

size_t detent_expire(struct detent *d, uint64_t now_usec)
{
	struct detent_entry *e, *prev;
	size_t n = 0;

	/* The list is ordered by seen_usec, oldest at the tail. */
	for (e = d->tail; e; e = prev) {
		prev = e->prev;
		if (now_usec < e->seen_usec || now_usec - e->seen_usec < d->window)
			break;
		/* Keep keys with a pending count: the next record reports it. */
		if (e->pending > 0)
			continue;
		remove_entry(d, e);
		n++;
	}
	return n;
}

void detent_set_limits(struct detent *d, uint64_t window_usec, size_t max_entries)
{
	d->window = window_usec;
	d->max_entries = MAX(max_entries, (size_t)1);
	trim(d, d->max_entries);
}

void detent_get_stats(const struct detent *d, struct detent_stats *ret)
{
	*ret = d->stats;
	ret->entries = d->n_entries;
}
