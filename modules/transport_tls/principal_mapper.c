/* ssl.principal.mapping.rules, following Kafka's SslPrincipalMapper; see
 * principal_mapper.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "principal_mapper.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kafka's RULE_PATTERN and RULE_SPLITTER, verbatim. */
#define RULE_PATTERN "(DEFAULT)|RULE:((\\\\.|[^\\\\/])*)/((\\\\.|[^\\\\/])*)/([LU]?).*?|(.*?)"
#define RULE_SPLITTER "\\s*(" RULE_PATTERN ")\\s*(,\\s*|$)"

struct rule {
    int is_default;
    pcre2_code *re;
    char *pattern;
    char *replacement;
    int lower, upper;
};

struct principal_mapper {
    struct rule *v;
    size_t n;
};

/* A growable string. */
struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static pcre2_code *compile(const char *re, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
    if (!c) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "invalid pattern `%s` at offset %zu: %s", re, (size_t)eo,
                 (const char *)msg);
    }
    return c;
}

static char *substr(const char *s, PCRE2_SIZE *ov, int g)
{
    if (ov[2 * g] == PCRE2_UNSET)
        return NULL;
    size_t n = ov[2 * g + 1] - ov[2 * g];
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s + ov[2 * g], n);
        r[n] = '\0';
    }
    return r;
}

/* Java's Matcher.find() loop: after an empty match the next search starts
 * one character further.  Calls fn for each match; stops when fn < 0. */
typedef int (*match_fn)(void *ud, const char *s, PCRE2_SIZE *ov, int ngroups);

static int find_all(const pcre2_code *re, const char *s, match_fn fn, void *ud)
{
    size_t len = strlen(s);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return -1;
    size_t next = 0;
    long first = -1, last = 0;
    int rc = 0;
    for (;;) {
        next = (size_t)last;
        if ((long)next == first)
            next++;
        if (next > len)
            break;
        int m = pcre2_match(re, (PCRE2_SPTR)s, len, next, 0, md, NULL);
        if (m < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        first = (long)ov[0];
        last = (long)ov[1];
        if ((rc = fn(ud, s, ov, m)) < 0)
            break;
    }
    pcre2_match_data_free(md);
    return rc;
}

struct split_ctx {
    char **items;
    size_t n, cap;
    int oom;
};

static int split_cb(void *ud, const char *s, PCRE2_SIZE *ov, int ngroups)
{
    (void)ngroups;
    struct split_ctx *sc = ud;
    char *g = substr(s, ov, 1);
    if (!g)
        g = strdup("");
    if (!g || (sc->n == sc->cap && !(sc->cap = sc->cap ? sc->cap * 2 : 8,
                                     sc->items = realloc(sc->items, sc->cap * sizeof *sc->items)))) {
        free(g);
        sc->oom = 1;
        return -1;
    }
    sc->items[sc->n++] = g;
    return 0;
}

static void rule_free(struct rule *r)
{
    if (r->re)
        pcre2_code_free(r->re);
    free(r->pattern);
    free(r->replacement);
}

void principal_mapper_free(struct principal_mapper *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        rule_free(&m->v[i]);
    free(m->v);
    free(m);
}

size_t principal_mapper_count(const struct principal_mapper *m) { return m->n; }

char *principal_mapper_describe(const struct principal_mapper *m, char *buf, size_t len)
{
    struct sbuf b = {0};
    sb_add(&b, "[", 1);
    for (size_t i = 0; i < m->n; i++) {
        const struct rule *r = &m->v[i];
        if (i)
            sb_add(&b, ", ", 2);
        if (r->is_default) {
            sb_add(&b, "DEFAULT", 7);
            continue;
        }
        sb_add(&b, "RULE:", 5);
        sb_add(&b, r->pattern, strlen(r->pattern));
        sb_add(&b, "/", 1);
        sb_add(&b, r->replacement, strlen(r->replacement));
        if (r->lower)
            sb_add(&b, "/L", 2);
        else if (r->upper)
            sb_add(&b, "/U", 2);
    }
    sb_add(&b, "]", 1);
    snprintf(buf, len, "%s", b.oom || !b.p ? "" : b.p);
    free(b.p);
    return buf;
}

int principal_mapper_new(const char *rules, struct principal_mapper **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    if (!rules)
        rules = "DEFAULT";
    /* Java's String.trim(): strip chars <= ' ' at both ends. */
    while (*rules && (unsigned char)*rules <= ' ')
        rules++;
    size_t tl = strlen(rules);
    while (tl && (unsigned char)rules[tl - 1] <= ' ')
        tl--;
    char *trimmed = malloc(tl + 1);
    struct principal_mapper *m = calloc(1, sizeof *m);
    pcre2_code *splitter = compile(RULE_SPLITTER, err, errlen);
    pcre2_code *parser = compile(RULE_PATTERN, err, errlen);
    pcre2_match_data *md = parser ? pcre2_match_data_create_from_pattern(parser, NULL) : NULL;
    struct split_ctx sc = {0};
    int rc = -1;
    if (!trimmed || !m || !splitter || !parser || !md) {
        if (!err[0])
            snprintf(err, errlen, "out of memory");
        goto done;
    }
    memcpy(trimmed, rules, tl);
    trimmed[tl] = '\0';
    find_all(splitter, trimmed, split_cb, &sc);
    if (sc.oom || (sc.n && !(m->v = calloc(sc.n, sizeof *m->v)))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < sc.n; i++) {
        const char *r = sc.items[i];
        size_t rl = strlen(r);
        /* Java's lookingAt(): anchored at the start, not at the end. */
        int mr = pcre2_match(parser, (PCRE2_SPTR)r, rl, 0, PCRE2_ANCHORED, md, NULL);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (mr < 0) {
            snprintf(err, errlen, "invalid rule: %s", r);
            goto done;
        }
        if (ov[1] != rl) {
            snprintf(err, errlen, "invalid rule: `%s`, unmatched substring: `%s`", r, r + ov[1]);
            goto done;
        }
        struct rule *ru = &m->v[m->n];
        if (mr > 1 && ov[2] != PCRE2_UNSET) {
            ru->is_default = 1;
        } else if (mr > 2 && ov[4] != PCRE2_UNSET) {
            ru->pattern = substr(r, ov, 2);
            ru->replacement = mr > 4 ? substr(r, ov, 4) : NULL;
            char *lu = mr > 6 ? substr(r, ov, 6) : NULL;
            ru->lower = lu && strcmp(lu, "L") == 0;
            ru->upper = lu && strcmp(lu, "U") == 0;
            free(lu);
            if (!ru->pattern || !ru->replacement) {
                rule_free(ru);
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            ru->re = compile(ru->pattern, err, errlen);
            if (!ru->re) {
                rule_free(ru);
                goto done;
            }
        } else {
            continue; /* empty rules are ignored */
        }
        m->n++;
    }
    *out = m;
    m = NULL;
    rc = 0;
done:
    for (size_t i = 0; i < sc.n; i++)
        free(sc.items[i]);
    free(sc.items);
    if (md)
        pcre2_match_data_free(md);
    if (parser)
        pcre2_code_free(parser);
    if (splitter)
        pcre2_code_free(splitter);
    free(trimmed);
    principal_mapper_free(m);
    return rc;
}

/* Kafka's escapeLiteralBackReferences (from Apache NiFi), including its
 * quirk: offsets come from the original string while insertions shift the
 * copy being edited. */
static char *escape_back_refs(const char *unescaped, int ngroups)
{
    char *value = strdup(unescaped);
    if (!value || ngroups == 0)
        return value;
    size_t len = strlen(unescaped);
    for (size_t i = 0; i + 1 < len; i++) {
        if (unescaped[i] != '$' || !isdigit((unsigned char)unescaped[i + 1]))
            continue;
        size_t gs = i + 1, ge = gs;
        while (ge < len && isdigit((unsigned char)unescaped[ge]))
            ge++;
        i = ge - 1;
        if (unescaped[gs] == '0')
            continue;
        /* Integer.parseInt would throw past int range; treat as huge. */
        long idx = 0;
        for (size_t k = gs; k < ge; k++)
            idx = idx > 100000000L ? idx : idx * 10 + (unescaped[k] - '0');
        while (idx > ngroups && idx >= 10)
            idx /= 10;
        if (idx > ngroups) {
            size_t vl = strlen(value), at = gs - 1;
            if (at > vl)
                at = vl;
            char *nv = malloc(vl + 2);
            if (!nv) {
                free(value);
                return NULL;
            }
            memcpy(nv, value, at);
            nv[at] = '\\';
            memcpy(nv + at + 1, value + at, vl - at + 1);
            free(value);
            value = nv;
        }
    }
    return value;
}

struct repl_ctx {
    const char *repl;
    struct sbuf out;
    size_t last_append;
    int ngroups;
    char *err;
    size_t errlen;
    int failed;
};

/* Java's Matcher.appendReplacement. */
static int repl_cb(void *ud, const char *s, PCRE2_SIZE *ov, int m)
{
    (void)m;
    struct repl_ctx *rc = ud;
    sb_add(&rc->out, s + rc->last_append, ov[0] - rc->last_append);
    const char *r = rc->repl;
    size_t n = strlen(r);
    for (size_t i = 0; i < n;) {
        char c = r[i];
        if (c == '\\') {
            if (++i >= n) {
                snprintf(rc->err, rc->errlen, "character to be escaped is missing");
                rc->failed = 1;
                return -1;
            }
            sb_add(&rc->out, r + i, 1);
            i++;
        } else if (c == '$') {
            if (++i >= n || !isdigit((unsigned char)r[i])) {
                snprintf(rc->err, rc->errlen, "illegal group reference in replacement `%s`", r);
                rc->failed = 1;
                return -1;
            }
            int ref = r[i++] - '0';
            if (ref > rc->ngroups) {
                snprintf(rc->err, rc->errlen, "no group %d in replacement `%s`", ref, r);
                rc->failed = 1;
                return -1;
            }
            while (i < n && isdigit((unsigned char)r[i])) {
                int nr = ref * 10 + (r[i] - '0');
                if (rc->ngroups < nr)
                    break;
                ref = nr;
                i++;
            }
            if (ov[2 * ref] != PCRE2_UNSET)
                sb_add(&rc->out, s + ov[2 * ref], ov[2 * ref + 1] - ov[2 * ref]);
        } else {
            sb_add(&rc->out, r + i, 1);
            i++;
        }
    }
    rc->last_append = ov[1];
    return 0;
}

int principal_mapper_map(const struct principal_mapper *m, const char *dn, char **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const struct rule *ru = &m->v[i];
        if (ru->is_default) {
            *out = strdup(dn);
            if (!*out) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            return 1;
        }
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(ru->re, NULL);
        if (!md) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        int mr = pcre2_match(ru->re, (PCRE2_SPTR)dn, strlen(dn), 0,
                             PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
        pcre2_match_data_free(md);
        if (mr < 0)
            continue;
        uint32_t ng = 0;
        pcre2_pattern_info(ru->re, PCRE2_INFO_CAPTURECOUNT, &ng);
        struct repl_ctx rc = {.ngroups = (int)ng, .err = err, .errlen = errlen};
        char *esc = escape_back_refs(ru->replacement, (int)ng);
        if (!esc) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        rc.repl = esc;
        find_all(ru->re, dn, repl_cb, &rc);
        free(esc);
        if (rc.failed) {
            free(rc.out.p);
            return -1;
        }
        sb_add(&rc.out, dn + rc.last_append, strlen(dn) - rc.last_append);
        if (rc.out.oom || !rc.out.p) {
            if (!rc.out.oom && !rc.out.p && (rc.out.p = strdup("")))
                goto cased;
            free(rc.out.p);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    cased:
        for (char *p = rc.out.p; *p; p++) {
            if (ru->lower)
                *p = (char)tolower((unsigned char)*p);
            else if (ru->upper)
                *p = (char)toupper((unsigned char)*p);
        }
        *out = rc.out.p;
        return 1;
    }
    return 0;
}
