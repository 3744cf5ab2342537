/* Java-properties parser; the accepted syntax is described in properties.h. */
#include "config/properties.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void props_init(struct prop_list *pl) { memset(pl, 0, sizeof *pl); }

void props_free(struct prop_list *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->items[i].key);
        free(pl->items[i].value);
    }
    for (size_t i = 0; i < pl->nfiles; i++)
        free(pl->files[i]);
    free(pl->items);
    free(pl->files);
    props_init(pl);
}

const struct prop *props_get(const struct prop_list *pl, const char *key)
{
    for (size_t i = pl->n; i-- > 0;)
        if (strcmp(pl->items[i].key, key) == 0)
            return &pl->items[i];
    return NULL;
}

/* Growable byte buffer for one logical line and for unescaped output. */
struct buf {
    char *p;
    size_t n, cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_u4(const char *s, size_t n, size_t i, unsigned *out)
{
    if (n - i < 4)
        return -1;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[i + (size_t)k]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static size_t utf8_encode(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Unescapes s[*pos..] into out.  As a key (is_key) it stops at the first
 * unescaped blank, '=' or ':'; as a value it runs to the end and drops
 * trailing unescaped blanks.  Returns 0 or -1 with why set. */
static int unescape(const char *s, size_t n, size_t *pos, int is_key, struct buf *out,
                    const char **why)
{
    size_t i = *pos, keep = out->n;
    while (i < n) {
        char c = s[i];
        if (is_key && (is_blank(c) || c == '=' || c == ':'))
            break;
        if (c != '\\') {
            if (buf_put(out, &c, 1) < 0)
                goto nomem;
            i++;
            if (!is_blank(c))
                keep = out->n;
            continue;
        }
        i++;
        if (i >= n) /* a lone trailing backslash after continuation removal */
            break;
        c = s[i++];
        char o[4];
        size_t on = 1;
        switch (c) {
        case 't': o[0] = '\t'; break;
        case 'n': o[0] = '\n'; break;
        case 'r': o[0] = '\r'; break;
        case 'f': o[0] = '\f'; break;
        case 'u': {
            unsigned u;
            if (read_u4(s, n, i, &u) < 0) {
                *why = "malformed \\uXXXX escape";
                return -1;
            }
            i += 4;
            uint32_t cp = u;
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || read_u4(s, n, i + 2, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    *why = "unpaired UTF-16 surrogate in \\u escape";
                    return -1;
                }
                i += 6;
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                *why = "unpaired UTF-16 surrogate in \\u escape";
                return -1;
            } else if (u == 0) {
                *why = "\\u0000 is not allowed";
                return -1;
            }
            on = utf8_encode(cp, o);
            break;
        }
        default: o[0] = c; break;
        }
        if (buf_put(out, o, on) < 0)
            goto nomem;
        keep = out->n; /* escaped characters are always significant */
    }
    if (!is_key) {
        out->n = keep;
        if (out->p)
            out->p[keep] = '\0';
    }
    *pos = i;
    return 0;
nomem:
    *why = "out of memory";
    return -1;
}

static const char *intern_file(struct prop_list *pl, const char *filename)
{
    if (pl->nfiles && strcmp(pl->files[pl->nfiles - 1], filename) == 0)
        return pl->files[pl->nfiles - 1];
    char **f = realloc(pl->files, (pl->nfiles + 1) * sizeof *f);
    if (!f)
        return NULL;
    pl->files = f;
    if (!(f[pl->nfiles] = strdup(filename)))
        return NULL;
    return f[pl->nfiles++];
}

static int add_entry(struct prop_list *pl, char *key, char *value, const char *file, int line,
                     prop_repeatable_fn repeatable)
{
    if (!(repeatable && repeatable(key))) {
        for (size_t i = 0; i < pl->n; i++) {
            struct prop *p = &pl->items[i];
            if (strcmp(p->key, key) == 0) {
                free(key);
                free(p->value);
                p->value = value;
                p->file = file;
                p->line = line;
                return 0;
            }
        }
    }
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 32;
        struct prop *it = realloc(pl->items, cap * sizeof *it);
        if (!it)
            return -1;
        pl->items = it;
        pl->cap = cap;
    }
    pl->items[pl->n++] = (struct prop){key, value, file, line};
    return 0;
}

/* Parses one logical line (continuations already joined). */
static int parse_logical(struct prop_list *pl, const char *s, size_t n, const char *file, int line,
                         prop_repeatable_fn repeatable, const char **why)
{
    struct buf k = {0}, v = {0};
    size_t i = 0;
    if (unescape(s, n, &i, 1, &k, why) < 0)
        goto fail;
    if (k.n == 0) {
        *why = "empty key";
        goto fail;
    }
    if (memchr(k.p, '\0', k.n)) {
        *why = "NUL byte in key";
        goto fail;
    }
    while (i < n && is_blank(s[i]))
        i++;
    if (i < n && (s[i] == '=' || s[i] == ':'))
        i++;
    while (i < n && is_blank(s[i]))
        i++;
    if (unescape(s, n, &i, 0, &v, why) < 0)
        goto fail;
    if (!v.p && !(v.p = strdup(""))) {
        *why = "out of memory";
        goto fail;
    }
    if (add_entry(pl, k.p, v.p, file, line, repeatable) < 0) {
        *why = "out of memory";
        goto fail;
    }
    return 0;
fail:
    free(k.p);
    free(v.p);
    return -1;
}

int props_parse_buffer(struct prop_list *pl, const char *buf, size_t len, const char *filename,
                       prop_repeatable_fn repeatable, char *err, size_t errlen)
{
    const char *file = intern_file(pl, filename ? filename : "-");
    if (!file) {
        snprintf(err, errlen, "%s: out of memory", filename ? filename : "-");
        return -1;
    }
    if (memchr(buf, '\0', len)) {
        /* Report the line of the first NUL for the user's benefit. */
        const char *z = memchr(buf, '\0', len);
        int ln = 1;
        for (const char *q = buf; q < z; q++)
            ln += *q == '\n';
        snprintf(err, errlen, "%s:%d: NUL byte in file", file, ln);
        return -1;
    }
    struct buf logical = {0};
    size_t i = 0;
    int line = 1;
    int rc = 0;
    while (i < len) {
        /* Skip leading blanks of the physical line. */
        while (i < len && is_blank(buf[i]))
            i++;
        if (i >= len)
            break;
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
                i++;
            i++;
            line++;
            continue;
        }
        int start_line = line;
        int comment = buf[i] == '#' || buf[i] == '!';
        logical.n = 0;
        for (;;) {
            size_t b = i;
            while (i < len && buf[i] != '\n' && buf[i] != '\r')
                i++;
            size_t e = i;
            if (i < len) {
                if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
                    i++;
                i++;
                line++;
            }
            if (comment)
                break; /* comment lines never continue */
            size_t bs = 0;
            while (e - bs > b && buf[e - bs - 1] == '\\')
                bs++;
            int cont = bs % 2 == 1;
            if (buf_put(&logical, buf + b, e - b - (cont ? 1 : 0)) < 0) {
                snprintf(err, errlen, "%s:%d: out of memory", file, start_line);
                rc = -1;
                goto out;
            }
            if (!cont || i >= len)
                break;
            while (i < len && is_blank(buf[i]))
                i++;
        }
        if (comment)
            continue;
        const char *why = NULL;
        if (parse_logical(pl, logical.p ? logical.p : "", logical.n, file, start_line, repeatable,
                          &why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", file, start_line, why);
            rc = -1;
            goto out;
        }
    }
out:
    free(logical.p);
    return rc;
}

int props_parse_file(struct prop_list *pl, const char *path, prop_repeatable_fn repeatable,
                     char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct buf b = {0};
    char chunk[8192];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_put(&b, chunk, r) < 0) {
            fclose(f);
            free(b.p);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b.p);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    int rc = props_parse_buffer(pl, b.p ? b.p : "", b.n, path, repeatable, err, errlen);
    free(b.p);
    return rc;
}
