/*
 * utf8: UTF-8 decoding and repair (see utf8.h).  Follows the Unicode
 * well-formed byte sequence table (no overlongs, no surrogates, <= U+10FFFF).
 */
#include "utf8.h"

#include <string.h>

#include "strbuf.h"

/* Are the 8 bytes at p plain ASCII, none of them NUL?  A byte with its
 * top bit set, or a zero byte (the usual zero-byte test), sets a top bit. */
static int
ascii8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, tops = 0x8080808080808080ULL;
	uint64_t v;
	memcpy(&v, p, 8);
	return ((v | ((v - ones) & ~v)) & tops) == 0;
}

size_t
utf8_decode(const char *str, size_t len, uint32_t *cp, int *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	*bad = 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t need;
	uint32_t v;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		*cp = UTF8_REPLACEMENT;
		*bad = 1;
		return 1;
	}
	size_t i = 1;
	for (; i <= need; i++) {
		if (i >= len)
			break;
		unsigned char b = s[i];
		unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
		if (b < l || b > h)
			break;
		v = (v << 6) | (b & 0x3F);
	}
	if (i <= need) {
		*cp = UTF8_REPLACEMENT;
		*bad = 1;
		return i;
	}
	*cp = v;
	return need + 1;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
utf8_invalid_at(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		int bad;
		size_t n = utf8_decode(s + i, len - i, &cp, &bad);
		if (bad)
			return i;
		i += n;
	}
	return len;
}

char *
utf8_repair(const char *s, size_t len, size_t *outlen)
{
	struct strbuf b = STRBUF_INIT;
	size_t i = 0;
	sb_add(&b, "", 0);
	while (i < len) {
		size_t start = i;
		/* copy the longest valid run without NULs in one go; plain
		 * ASCII eight bytes at a time, then a byte at a time */
		while (i < len) {
			if (i + 8 <= len && ascii8(s + i)) {
				i += 8;
				continue;
			}
			if ((unsigned char)s[i] - 1u < 0x7Fu) { /* 1 to 0x7F: a character */
				i++;
				continue;
			}
			uint32_t cp;
			int bad;
			size_t n = utf8_decode(s + i, len - i, &cp, &bad);
			if (bad || cp == 0)
				break;
			i += n;
		}
		sb_add(&b, s + start, i - start);
		if (i < len) {
			uint32_t cp;
			int bad;
			i += utf8_decode(s + i, len - i, &cp, &bad);
			sb_add(&b, "\xEF\xBF\xBD", 3);
		}
	}
	if (outlen)
		*outlen = b.len;
	return sb_steal(&b);
}

size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

size_t
utf8_count(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}
