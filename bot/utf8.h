/*
 * utf8: decoding, validation and repair of UTF-8 text.
 * Pure: no I/O, no globals.  Returned strings are new and owned by the caller.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xFFFDu

/*
 * Decode one code point from s (len > 0).  Returns the number of bytes used.
 * On an ill-formed sequence sets *cp = U+FFFD, *bad = 1 and returns the
 * length of the maximal invalid subpart (Unicode "substitution of maximal
 * subparts"), so the caller emits exactly one U+FFFD per subpart.
 */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp, int *bad);
/* Encode cp into out (at least 4 bytes); returns the byte count. */
size_t utf8_encode(uint32_t cp, char *out);
/* Offset of the first ill-formed byte, or len if s is valid UTF-8. */
size_t utf8_invalid_at(const char *s, size_t len);
/*
 * Copy s replacing ill-formed subparts and NUL bytes by U+FFFD.  *outlen
 * (if not NULL) receives the new length.  Caller frees.
 */
char *utf8_repair(const char *s, size_t len, size_t *outlen);
/* Largest n <= max such that s[0..n) ends on a code point boundary. */
size_t utf8_cut(const char *s, size_t len, size_t max);
/* Number of code points in valid UTF-8 s. */
size_t utf8_count(const char *s, size_t len);

#endif
