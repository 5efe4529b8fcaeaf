/*
 * fuzz_web: libFuzzer harness for the web chat's pure parts (web_proto).
 * Modes (first byte): 0 a frame from the widget (web_parse_frame, then the
 * frames the bot would send back about it); 1 "list\norigin\nhost" for the
 * Origin allow-list; 2 "proxies\npeer\nX-Forwarded-For" for the client
 * address.  Asserts: a parsed id is 1-32 safe characters, an ask's text
 * has its length and no NUL, every frame the bot builds is a JSON object
 * that parses back with the same id; an allowed origin is an http(s)
 * origin (or the list says "*"); the client address is the peer or an IP
 * address taken from the header.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz.h"
#include "web_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_out(char *json, const char *id)
{
	json_t *o = json_loads(json, 0, NULL);
	CHECK(json_is_object(o));
	const char *got = json_string_value(json_object_get(o, "id"));
	CHECK(id == NULL || (got && strcmp(got, id) == 0));
	json_decref(o);
	free(json);
}

static void
mode_frame(const char *buf, size_t len)
{
	struct web_frame f;
	char why[128];
	int rc = web_parse_frame(buf, len, &f, why, sizeof why);
	size_t n = strlen(f.id);
	CHECK(n < WEB_ID_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-",
			     f.id[i]));
	if (rc < 0) {
		CHECK(why[0] != '\0' && f.text == NULL);
		check_out(web_error_json(n ? f.id : NULL, "bad_request", why, 0), n ? f.id : NULL);
		return;
	}
	if (f.type == WEB_FRAME_ASK) {
		CHECK(n > 0 && f.text && strlen(f.text) == f.len && f.len > 0);
		struct chat_reply r;
		memset(&r, 0, sizeof r);
		r.text = f.text; /* a reply that echoes the question: still one valid frame */
		check_out(web_reply_json(f.id, &r), f.id);
		check_out(web_typing_json(f.id), f.id);
	} else if (f.type == WEB_FRAME_FEEDBACK) {
		CHECK(n > 0 && (f.helpful == 0 || f.helpful == 1));
		check_out(web_feedback_ok_json(f.id), f.id);
	}
	web_frame_free(&f);
}

/* buf split at newlines into up to three NUL-terminated parts. */
static char *
parts(const char *buf, size_t len, char *p[3])
{
	char *s = malloc(len + 1);
	memcpy(s, buf, len);
	s[len] = '\0';
	p[0] = s;
	for (int i = 1; i < 3; i++) {
		char *nl = p[i - 1] ? strchr(p[i - 1], '\n') : NULL;
		p[i] = nl ? nl + 1 : (char *)"";
		if (nl)
			*nl = '\0';
	}
	return s;
}

static void
mode_origin(const char *buf, size_t len)
{
	char *p[3], why[256];
	char *s = parts(buf, len, p);
	web_check_origins(p[0], why, sizeof why);
	int allowed = web_origin_allowed(p[0], p[1], p[2]);
	/* without "*", only an http(s) origin is ever let in */
	CHECK(!allowed || strchr(p[0], '*') || strncasecmp(p[1], "http://", 7) == 0 ||
	      strncasecmp(p[1], "https://", 8) == 0);
	free(s);
}

static void
mode_addr(const char *buf, size_t len)
{
	char *p[3], out[WEB_ADDR_MAX], why[256];
	unsigned char bin[16];
	char *s = parts(buf, len, p);
	web_check_proxies(p[0], why, sizeof why);
	web_client_addr(p[0], p[1], p[2], out, sizeof out);
	CHECK(strncmp(out, p[1], sizeof out - 1) == 0 ||
	      (strstr(p[2], out) &&
	       (inet_pton(AF_INET, out, bin) == 1 || inet_pton(AF_INET6, out, bin) == 1)));
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_mode modes[] = {mode_frame, mode_origin, mode_addr};
	fuzz_dispatch(data, size, modes, sizeof modes / sizeof modes[0]);
	return 0;
}
