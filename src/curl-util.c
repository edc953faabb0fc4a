// SPDX-License-Identifier: GPL-2.0-or-later
/* libcurl through dlopen() (see curl-util.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "curl-util.h"
#include "log.h"
#include "macro.h"

#define CURL_UTIL_SYM(f) typeof(f) *sym_##f;
CURL_UTIL_FOREACH_SYM(CURL_UTIL_SYM)
#undef CURL_UTIL_SYM

/* Symbol name and the pointer it fills (a function pointer stored as void *, as POSIX allows). */
#define SYM(f) { #f, (void **)&sym_##f },
static const struct {
	const char *name;
	void **ptr;
} curl_syms[] = { CURL_UTIL_FOREACH_SYM(SYM) };
#undef SYM

static void *curl_dl; /* dlopen() handle, never closed once symbols resolved */
static bool curl_ready; /* curl_global_init() succeeded */
static char curl_why[512];

static void syms_reset(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(curl_syms); i++)
		*curl_syms[i].ptr = NULL;
}

/* dlopen + dlsym + version check; on failure nothing stays loaded. */
static int curl_open(void)
{
	const curl_version_info_data *v;
	void *dl;

	dl = dlopen(CURL_UTIL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(curl_why, sizeof(curl_why), "%s", dlerror() ?: CURL_UTIL_SONAME);
		return -ELIBACC;
	}
	for (size_t i = 0; i < ARRAY_SIZE(curl_syms); i++) {
		*curl_syms[i].ptr = dlsym(dl, curl_syms[i].name);
		if (!*curl_syms[i].ptr) {
			snprintf(curl_why, sizeof(curl_why), "%s: symbol %s not found",
				 CURL_UTIL_SONAME, curl_syms[i].name);
			goto fail;
		}
	}
	v = sym_curl_version_info(CURLVERSION_NOW);
	if (!v || v->version_num < CURL_UTIL_MIN_VERSION) {
		snprintf(curl_why, sizeof(curl_why), "%s is libcurl %s, need %s or newer",
			 CURL_UTIL_SONAME, v && v->version ? v->version : "(unknown)",
			 CURL_UTIL_MIN_VERSION_STR);
		goto fail;
	}
	log_debug("Loaded %s (libcurl %s, %s)", CURL_UTIL_SONAME, v->version,
		  v->ssl_version ?: "no TLS");
	curl_dl = dl;
	return 0;
fail:
	syms_reset();
	dlclose(dl);
	return -ELIBACC;
}

int curl_util_load(const char **ret_why)
{
	CURLcode c;
	int r;

	if (curl_ready)
		return 0;
	curl_why[0] = '\0';
	if (!curl_dl) {
		r = curl_open();
		if (r < 0)
			goto fail;
	}
	/* Once per process, before any other thread exists that could use curl. */
	c = sym_curl_global_init(CURL_GLOBAL_DEFAULT);
	if (c != CURLE_OK) {
		snprintf(curl_why, sizeof(curl_why), "%s: curl_global_init() failed: %s",
			 CURL_UTIL_SONAME, sym_curl_easy_strerror(c));
		r = -EIO;
		goto fail;
	}
	curl_ready = true;
	return 0;
fail:
	log_debug("Cannot use libcurl: %s", curl_why);
	if (ret_why)
		*ret_why = curl_why;
	return r;
}

bool curl_util_loaded(void)
{
	return curl_ready;
}
