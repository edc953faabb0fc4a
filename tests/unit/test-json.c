// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON writer and escaping. Validity is checked by a strict outside parser:
 * /usr/bin/python3 decodes the bytes as strict UTF-8 and json.loads() them
 * (which refuses raw control characters), then checks that turning every
 * "\xNN" (NN >= 80) back into its byte gives the original input.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "strbuf.h"
#include "tap.h"

#define PY "/usr/bin/python3"

static const char validator[] =
	"import json, sys, re\n"
	"def unescape(s):\n"
	"    out, i = bytearray(), 0\n"
	"    while i < len(s):\n"
	"        m = re.match(r'\\\\x([89a-f][0-9a-f])', s[i:i+4])\n"
	"        if m:\n"
	"            out.append(int(m.group(1), 16)); i += 4\n"
	"        else:\n"
	"            out += s[i].encode('utf-8'); i += 1\n"
	"    return bytes(out)\n"
	"data = open(sys.argv[1], 'rb').read().decode('utf-8', 'strict')\n"
	"v = json.loads(data)\n"
	"if len(sys.argv) > 3:\n"
	"    origs = [bytes.fromhex(l) for l in open(sys.argv[2]).read().split('\\n')[:-1]]\n"
	"    if len(origs) != len(v) or any(unescape(a) != b for a, b in zip(v, origs)):\n"
	"        sys.exit(3)\n"
	"elif len(sys.argv) > 2:\n"
	"    s = v if isinstance(v, str) else v['s']\n"
	"    if unescape(s) != open(sys.argv[2], 'rb').read():\n"
	"        sys.exit(3)\n";

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * 0 if json is valid (and, with orig, decodes back to orig); else python's
 * exit status. With many, json is an array of strings and orig holds the
 * originals as hex, one per line.
 */
static int validate_mode(const char *json, size_t len, const char *orig, size_t orig_len, bool many)
{
	char jpath[] = "/tmp/aegis-test-json.XXXXXX", opath[] = "/tmp/aegis-test-orig.XXXXXX";
	int jfd = mkstemp(jpath), ofd = mkstemp(opath), status = -1;
	pid_t pid;

	if (jfd < 0 || ofd < 0)
		return -errno;
	close(jfd);
	close(ofd);
	if (write_file(jpath, json, len) < 0 || (orig && write_file(opath, orig, orig_len) < 0))
		goto out;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null,
			     STDERR_FILENO); /* expected failures would clutter the TAP output */
		if (many)
			execl(PY, PY, "-c", validator, jpath, opath, "many", (char *)NULL);
		else if (orig)
			execl(PY, PY, "-c", validator, jpath, opath, (char *)NULL);
		else
			execl(PY, PY, "-c", validator, jpath, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = -1;
	else
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
out:
	unlink(jpath);
	unlink(opath);
	return status;
}

static int validate(const char *json, size_t len, const char *orig, size_t orig_len)
{
	return validate_mode(json, len, orig, orig_len, false);
}

/* Collects escaped strings into one array (and their originals as hex) for one check. */
struct batch {
	struct strbuf json, hex;
};

static void batch_add(struct batch *b, const char *s, size_t len)
{
	strbuf_putc(&b->json, b->json.len ? ',' : '[');
	json_escape(&b->json, s, len);
	for (size_t i = 0; i < len; i++)
		strbuf_printf(&b->hex, "%02x", (unsigned char)s[i]);
	strbuf_putc(&b->hex, '\n');
}

static int batch_check(struct batch *b)
{
	int r;

	strbuf_putc(&b->json, ']');
	r = validate_mode(b->json.s, b->json.len, b->hex.s, b->hex.len, true);
	strbuf_done(&b->json);
	strbuf_done(&b->hex);
	return r;
}

static char *escaped(const char *s, size_t len)
{
	struct strbuf b;

	strbuf_init(&b);
	if (json_escape(&b, s, len) < 0) {
		strbuf_done(&b);
		return NULL;
	}
	return strbuf_steal(&b);
}

#define ASSERT_ESCAPES(in, len, expect)                              \
	do {                                                         \
		char *_e = escaped((in), (len));                     \
		ASSERT_STREQ(_e, (expect));                          \
		ASSERT_EQ(validate(_e, strlen(_e), (in), (len)), 0); \
		free(_e);                                            \
	} while (0)

TEST(validator_can_fail)
{
	/* the checker itself must reject bad JSON and bad UTF-8, or the tests prove nothing */
	ASSERT_NE(validate("\"a\nb\"", 5, NULL, 0), 0);
	ASSERT_NE(validate("\"\xff\"", 3, NULL, 0), 0);
	ASSERT_NE(validate("\"a\\\"", 4, NULL, 0), 0);
	ASSERT_EQ(validate("\"ok\"", 4, NULL, 0), 0);
	ASSERT_NE(validate("\"ok\"", 4, "no", 2), 0);
	ASSERT_NE(validate_mode("[\"a\",\"b\"]", 9, "61\n63\n", 6, true), 0);
	ASSERT_EQ(validate_mode("[\"a\",\"b\"]", 9, "61\n62\n", 6, true), 0);
}

TEST(quotes_backslash_newline)
{
	ASSERT_ESCAPES("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
	ASSERT_ESCAPES("C:\\dir\\", 7, "\"C:\\\\dir\\\\\"");
	ASSERT_ESCAPES("a\nb\tc\rd", 7, "\"a\\nb\\tc\\rd\"");
	ASSERT_ESCAPES("$(rm -rf /) `id`", 16, "\"$(rm -rf /) `id`\"");
	ASSERT_ESCAPES("", 0, "\"\"");
}

TEST(every_control_byte)
{
	for (int c = 0; c < 0x20; c++) {
		char in[1] = { (char)c }, expect[16];

		switch (c) {
		case '\b':
			strcpy(expect, "\"\\b\"");
			break;
		case '\f':
			strcpy(expect, "\"\\f\"");
			break;
		case '\n':
			strcpy(expect, "\"\\n\"");
			break;
		case '\r':
			strcpy(expect, "\"\\r\"");
			break;
		case '\t':
			strcpy(expect, "\"\\t\"");
			break;
		default:
			snprintf(expect, sizeof(expect), "\"\\u%04x\"", c);
		}
		ASSERT_ESCAPES(in, 1, expect);
	}
	ASSERT_ESCAPES("\x7f", 1, "\"\\u007f\"");
	/* NUL inside a string is kept, not a terminator */
	ASSERT_ESCAPES("a\0b", 3, "\"a\\u0000b\"");
}

TEST(valid_utf8_is_copied)
{
	ASSERT_ESCAPES("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");
	ASSERT_ESCAPES("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");
	ASSERT_ESCAPES("\xf0\x9d\x84\x9e", 4, "\"\xf0\x9d\x84\x9e\"");
	ASSERT_ESCAPES("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
	ASSERT_ESCAPES("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\""); /* U+D7FF */
	ASSERT_ESCAPES("\xee\x80\x80", 3, "\"\xee\x80\x80\""); /* U+E000 */
}

TEST(invalid_utf8_as_hex)
{
	/* stray continuation, C0/C1, F5..FF */
	ASSERT_ESCAPES("\x80", 1, "\"\\\\x80\"");
	ASSERT_ESCAPES("a\xbf", 2, "\"a\\\\xbf\"");
	ASSERT_ESCAPES("\xc0\xaf", 2, "\"\\\\xc0\\\\xaf\"");
	ASSERT_ESCAPES("\xc1\xbf", 2, "\"\\\\xc1\\\\xbf\"");
	ASSERT_ESCAPES("\xf5\x80\x80\x80", 4, "\"\\\\xf5\\\\x80\\\\x80\\\\x80\"");
	ASSERT_ESCAPES("\xff\xfe", 2, "\"\\\\xff\\\\xfe\"");
	/* overlongs */
	ASSERT_ESCAPES("\xe0\x80\xaf", 3, "\"\\\\xe0\\\\x80\\\\xaf\"");
	ASSERT_ESCAPES("\xf0\x80\x80\xaf", 4, "\"\\\\xf0\\\\x80\\\\x80\\\\xaf\"");
	/* surrogates U+D800, U+DFFF */
	ASSERT_ESCAPES("\xed\xa0\x80", 3, "\"\\\\xed\\\\xa0\\\\x80\"");
	ASSERT_ESCAPES("\xed\xbf\xbf", 3, "\"\\\\xed\\\\xbf\\\\xbf\"");
	/* above U+10FFFF */
	ASSERT_ESCAPES("\xf4\x90\x80\x80", 4, "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");
	/* truncated sequences, at the end and followed by ASCII; resync at the next byte */
	ASSERT_ESCAPES("\xe2\x82", 2, "\"\\\\xe2\\\\x82\"");
	ASSERT_ESCAPES("\xe2\x82x", 3, "\"\\\\xe2\\\\x82x\"");
	ASSERT_ESCAPES("\xf0\x9d\x84", 3, "\"\\\\xf0\\\\x9d\\\\x84\"");
	ASSERT_ESCAPES("\xc3\xc3\xa9", 3, "\"\\\\xc3\xc3\xa9\"");
}

TEST(every_single_byte_and_random_input)
{
	struct batch b = {};
	char in[256 * 2];
	uint32_t seed = 12345;

	strbuf_init(&b.json);
	strbuf_init(&b.hex);
	for (int c = 0; c < 256; c++) {
		in[0] = (char)c;
		batch_add(&b, in, 1);
	}
	for (int round = 0; round < 64; round++) {
		size_t len = 64 + round * 7;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = (char)(seed >> 16);
			/* the round trip check needs no literal "\x" in the input */
			if (in[i] == '\\')
				in[i] = '/';
		}
		batch_add(&b, in, len);
	}
	ASSERT_EQ(batch_check(&b), 0);
}

TEST(large_strings)
{
	size_t len = 64 * 1024;
	char *in = malloc(len);
	struct strbuf b;
	struct json_writer w;
	uint32_t seed = 7;

	ASSERT_NOT_NULL(in);
	strbuf_init(&b);
	/* worst case growth: every byte escaped */
	memset(in, '"', len);
	ASSERT_OK(json_escape(&b, in, len));
	ASSERT_EQ(b.len, 2 * len + 2);
	ASSERT_EQ(validate(b.s, b.len, in, len), 0);

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		in[i] = (char)(seed >> 16);
		if (in[i] == '\\')
			in[i] = 'x';
	}
	strbuf_reset(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "s");
	json_string_len(&w, in, len);
	json_end_object(&w);
	ASSERT_OK(json_finish(&w));
	ASSERT_EQ(validate(b.s, b.len, in, len), 0);
	strbuf_done(&b);
	free(in);
}

TEST(writer_nesting_and_types)
{
	struct strbuf b;
	struct json_writer w;

	strbuf_init(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_uint(&w, "pid", 42);
	json_kv_int(&w, "result", -115);
	json_kv_bool(&w, "ok", true);
	json_kv_string(&w, "none", NULL);
	json_key(&w, "list");
	json_begin_array(&w);
	json_string(&w, "a");
	json_uint(&w, UINT64_MAX);
	json_begin_object(&w);
	json_end_object(&w);
	json_begin_array(&w);
	json_end_array(&w);
	json_null(&w);
	json_end_array(&w);
	json_key(&w, "raw");
	json_raw(&w, "{\"x\":1}", 7);
	json_end_object(&w);
	ASSERT_OK(json_finish(&w));
	ASSERT_STREQ(b.s, "{\"pid\":42,\"result\":-115,\"ok\":true,\"none\":null,"
			  "\"list\":[\"a\",18446744073709551615,{},[],null],\"raw\":{\"x\":1}}");
	ASSERT_EQ(validate(b.s, b.len, NULL, 0), 0);
	strbuf_done(&b);
}

TEST(writer_misuse_is_an_error)
{
	struct strbuf b;
	struct json_writer w;

	strbuf_init(&b);

	/* value without a key inside an object */
	json_init(&w, &b);
	json_begin_object(&w);
	ASSERT_EQ(json_uint(&w, 1), -EINVAL);
	json_end_object(&w);
	ASSERT_EQ(json_finish(&w), -EINVAL);

	/* unclosed container */
	strbuf_reset(&b);
	json_init(&w, &b);
	json_begin_array(&w);
	ASSERT_EQ(json_finish(&w), -EINVAL);

	/* key outside an object, dangling key, mismatched end */
	strbuf_reset(&b);
	json_init(&w, &b);
	ASSERT_EQ(json_key(&w, "k"), -EINVAL);
	strbuf_reset(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "k");
	ASSERT_EQ(json_end_object(&w), -EINVAL);
	strbuf_reset(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	ASSERT_EQ(json_end_array(&w), -EINVAL);

	/* two top-level values */
	strbuf_reset(&b);
	json_init(&w, &b);
	json_uint(&w, 1);
	ASSERT_EQ(json_uint(&w, 2), -EINVAL);

	/* too deep */
	strbuf_reset(&b);
	json_init(&w, &b);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		ASSERT_OK(json_begin_array(&w));
	ASSERT_EQ(json_begin_array(&w), -EINVAL);
	strbuf_done(&b);
}

TEST(keys_are_escaped)
{
	struct strbuf b;
	struct json_writer w;

	strbuf_init(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_string(&w, "a\"b\n", "v");
	json_end_object(&w);
	ASSERT_OK(json_finish(&w));
	ASSERT_STREQ(b.s, "{\"a\\\"b\\n\":\"v\"}");
	strbuf_done(&b);
}

TEST(text_escape_for_lines)
{
	struct strbuf b;
	const char in[] = "a b\n\t\r\\ \x01\x1b[31m\x7f caf\xc3\xa9 \xff\xc0\xaf \"q\"";

	strbuf_init(&b);
	ASSERT_OK(text_escape(&b, in, sizeof(in) - 1));
	ASSERT_STREQ(b.s,
		     "a b\\n\\t\\r\\\\ \\x01\\x1b[31m\\x7f caf\xc3\xa9 \\xff\\xc0\\xaf \\\"q\\\"");
	for (size_t i = 0; i < b.len; i++)
		ASSERT_TRUE((unsigned char)b.s[i] >= 0x20 && b.s[i] != 0x7f);
	strbuf_done(&b);
}

TAP_MAIN()
