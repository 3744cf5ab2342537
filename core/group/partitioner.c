#include "group/partitioner.h"

#include <string.h>

/* Decodes one code point; returns bytes consumed (>= 1), *cp = U+FFFD for
 * a malformed or overlong sequence. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t need;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        need = 1, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        need = 2, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        need = 3, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (need >= n) {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = v;
    return need + 1;
}

int32_t java_string_hashcode(const char *s, size_t len)
{
    /* Java int arithmetic wraps; do it in uint32_t to keep C defined. */
    uint32_t h = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        i += utf8_next(p + i, len - i, &cp);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xd800 + (cp >> 10));
            h = 31 * h + (0xdc00 + (cp & 0x3ff));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

int32_t group_partition_for(const char *group_id, int32_t nparts)
{
    if (nparts <= 0)
        return 0;
    int32_t h = java_string_hashcode(group_id, strlen(group_id));
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % nparts;
}
