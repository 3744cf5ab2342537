/* Conversions for config values; see config_value.h. */
#include "config/config_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const cv_compression_names[] = {"uncompressed", "zstd", "lz4", "snappy",
                                             "gzip", "producer", NULL};
const char *const cv_timestamp_type_names[] = {"CreateTime", "LogAppendTime", NULL};

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int cv_parse_bool(const char *s, bool *out, char *why, size_t whylen)
{
    s = skip_blank(s);
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 4 && strncasecmp(s, "true", 4) == 0) {
        *out = true;
        return 0;
    }
    if (n == 5 && strncasecmp(s, "false", 5) == 0) {
        *out = false;
        return 0;
    }
    snprintf(why, whylen, "expected true or false");
    return -1;
}

int cv_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *why, size_t whylen)
{
    const char *p = skip_blank(s);
    /* strtoll would accept "0x10" with base 0 and leading blanks only; Kafka
     * uses Long.parseLong, i.e. plain decimal. */
    const char *d = p + (*p == '+' || *p == '-');
    if (*d < '0' || *d > '9') {
        snprintf(why, whylen, "not a number");
        return -1;
    }
    errno = 0;
    char *end;
    long long v = strtoll(p, &end, 10);
    end = (char *)skip_blank(end);
    if (*end) {
        snprintf(why, whylen, "not a number");
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        if (errno != ERANGE && v < min)
            snprintf(why, whylen, "value must be at least %lld", (long long)min);
        else if (errno != ERANGE)
            snprintf(why, whylen, "value must be at most %lld", (long long)max);
        else
            snprintf(why, whylen, "value must be between %lld and %lld", (long long)min,
                     (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int cv_parse_double(const char *s, double min, double max, double *out, char *why, size_t whylen)
{
    const char *p = skip_blank(s);
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || *skip_blank(end) || !isfinite(v) || strchr(p, 'x') || strchr(p, 'X')) {
        snprintf(why, whylen, "not a number");
        return -1;
    }
    if (v < min || v > max) {
        snprintf(why, whylen, "value must be between %g and %g", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cv_parse_enum(const char *s, const char *const *names, int *out, char *why, size_t whylen)
{
    const char *p = skip_blank(s);
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    for (int i = 0; names[i]; i++) {
        if (strlen(names[i]) == n && strncasecmp(p, names[i], n) == 0) {
            *out = i;
            return 0;
        }
    }
    size_t w = (size_t)snprintf(why, whylen, "expected one of ");
    for (int i = 0; names[i] && w < whylen; i++)
        w += (size_t)snprintf(why + w, whylen - w, "%s%s", i ? ", " : "", names[i]);
    return -1;
}

void cv_strlist_free(struct sluice_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int cv_strlist_append(struct sluice_strlist *l, const char *item)
{
    char **it = realloc(l->items, (l->n + 1) * sizeof *it);
    if (!it)
        return -1;
    l->items = it;
    if (!(it[l->n] = strdup(item)))
        return -1;
    l->n++;
    return 0;
}

int cv_strlist_copy(struct sluice_strlist *dst, const struct sluice_strlist *src)
{
    struct sluice_strlist t = {0};
    for (size_t i = 0; i < src->n; i++) {
        if (cv_strlist_append(&t, src->items[i]) < 0) {
            cv_strlist_free(&t);
            return -1;
        }
    }
    cv_strlist_free(dst);
    *dst = t;
    return 0;
}

char *cv_strlist_join(const struct sluice_strlist *l)
{
    size_t len = 1;
    for (size_t i = 0; i < l->n; i++)
        len += strlen(l->items[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            *p++ = ',';
        size_t k = strlen(l->items[i]);
        memcpy(p, l->items[i], k + 1);
        p += k;
    }
    return s;
}

int cv_parse_list(const char *s, struct sluice_strlist *out)
{
    struct sluice_strlist t = {0};
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *b = skip_blank(p);
        const char *q = e;
        while (q > b && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        if (q > b) {
            char *item = strndup(b, (size_t)(q - b));
            if (!item || cv_strlist_append(&t, item) < 0) {
                free(item);
                cv_strlist_free(&t);
                return -1;
            }
            free(item);
        }
        p = *e ? e + 1 : e;
    }
    *out = t;
    return 0;
}

int cv_parse_cleanup_policy(const char *s, unsigned *bits, char *why, size_t whylen)
{
    struct sluice_strlist l;
    if (cv_parse_list(s, &l) < 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    unsigned b = 0;
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        if (strcasecmp(l.items[i], "delete") == 0)
            b |= SLUICE_CLEANUP_DELETE;
        else if (strcasecmp(l.items[i], "compact") == 0)
            b |= SLUICE_CLEANUP_COMPACT;
        else {
            snprintf(why, whylen, "expected a list of delete, compact");
            rc = -1;
        }
    }
    if (rc == 0 && b == 0) {
        snprintf(why, whylen, "expected a list of delete, compact");
        rc = -1;
    }
    cv_strlist_free(&l);
    if (rc == 0)
        *bits = b;
    return rc;
}
