/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's side of the control socket (control.h): what `aegis status`
 * shows and how `aegis reload` reaches manager_reload(). The manager owns the
 * struct control; this file builds the status object of control.h's schema
 * from the manager and the modules it runs.
 *
 * In the manager (manager.c):
 *   startup:        r = manager_control_new(m, &m->control);
 *   every record:   if (control_has_subscribers(m->control)) ... or simply
 *                   manager_control_publish(m->control, rec);
 *   manager_free(): m->control = control_free(m->control);  (before event_loop_free)
 */
#pragma once

#include "strbuf.h"

struct actions;
struct control;
struct detent;
struct enforce;
struct manager;
struct record;

/*
 * The modules whose state the status shows; any may be NULL (not running).
 * The manager fills this from its own fields when asked (see
 * manager_control_new()).
 */
struct manager_status_parts {
	const struct actions *actions;
	const struct detent *detent;
	const struct enforce *enforce;
};

/* The status object (control.h schema) for m, appended to out. */
int manager_status_json(const struct manager *m, const struct manager_status_parts *p,
			struct strbuf *out);

/*
 * Listens on the control socket (AEGIS_CONTROL_SOCKET, or $AEGIS_CONTROL_SOCKET)
 * on m's loop: status -> manager_status_json(m, get_parts(m)), reload ->
 * manager_reload(m). get_parts may be NULL (no module state shown).
 */
typedef void (*manager_status_parts_fn)(const struct manager *m, struct manager_status_parts *ret);
int manager_control_new(struct manager *m, manager_status_parts_fn get_parts, struct control **ret);

/* Renders rec as JSON (json.h) and publishes it to `aegis events` (backlog and followers). */
void manager_control_publish(struct control *c, const struct record *rec);
