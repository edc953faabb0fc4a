/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcurl, loaded on demand. The daemon does not link libcurl: it pulls in
 * libcrypto, libssl, gnutls, krb5, ldap, ssh2... (about 7 MiB of RSS) that a
 * host without [notify] webhooks never uses. curl_util_load() dlopen()s
 * libcurl.so.4 the first time a configuration with webhooks is applied,
 * resolves the sym_* pointers below and runs curl_global_init(). Once loaded
 * it stays loaded (no dlclose, no curl_global_cleanup): easy handles, the
 * multi handle and curl's resolver threads may outlive any configuration.
 *
 * Call libcurl only through sym_*, and only after curl_util_load() returned
 * 0. Compiled against libcurl's headers (types, CURLOPT_*, CURLE_*), so the
 * packaging must depend on the runtime library explicitly (debian/control:
 * libcurl4, the OpenSSL flavour that provides libcurl.so.4).
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>

#define CURL_UTIL_SONAME "libcurl.so.4"
/* CURLOPT_PROTOCOLS_STR (action-notify.c) appeared in 7.85.0 */
#define CURL_UTIL_MIN_VERSION 0x075500
#define CURL_UTIL_MIN_VERSION_STR "7.85.0"

/* The functions used, each reached as sym_NAME once loaded: one list for all. */
#define CURL_UTIL_FOREACH_SYM(X)    \
	X(curl_easy_cleanup)        \
	X(curl_easy_getinfo)        \
	X(curl_easy_init)           \
	X(curl_easy_setopt)         \
	X(curl_easy_strerror)       \
	X(curl_global_init)         \
	X(curl_multi_add_handle)    \
	X(curl_multi_assign)        \
	X(curl_multi_cleanup)       \
	X(curl_multi_info_read)     \
	X(curl_multi_init)          \
	X(curl_multi_remove_handle) \
	X(curl_multi_setopt)        \
	X(curl_multi_socket_action) \
	X(curl_slist_append)        \
	X(curl_slist_free_all)      \
	X(curl_version_info)

#define CURL_UTIL_SYM(f) extern typeof(f) *sym_##f;
CURL_UTIL_FOREACH_SYM(CURL_UTIL_SYM)
#undef CURL_UTIL_SYM

/*
 * Loads libcurl (once; later calls return 0 at once). Returns 0, -ELIBACC
 * when the library cannot be loaded, lacks a symbol or is older than
 * CURL_UTIL_MIN_VERSION_STR, -EIO when curl_global_init() fails. On failure
 * *ret_why (may be NULL) is a readable reason naming the library, valid until
 * the next call; nothing stays loaded except after a failed global init, and
 * the next call tries again.
 */
int curl_util_load(const char **ret_why);
bool curl_util_loaded(void);
