/* Metrics registry and Prometheus text exposition (see metrics.h).
 *
 * Values are doubles stored as their bit patterns in _Atomic uint64_t and
 * updated with compare-and-swap, so updates are lock-free from any thread
 * without a per-thread shard (increments are per request or per module
 * tick, far from contended).  Histogram buckets are plain atomic counters,
 * stored per bucket (not cumulative) so one observation is one increment;
 * exposition accumulates them. */
#include "config.h"

#include "metrics/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const double metric_default_buckets[11] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                           0.5,   1,    2.5,   5,    10};

struct metric {
    struct metric *next;       /* next series of the family */
    struct metric_family *fam;
    char **label_values;       /* fam->nlabels entries */
    _Atomic uint64_t value;    /* counter/gauge: double bits; histogram: sum */
    _Atomic uint64_t *buckets; /* histogram: nbuckets + 1 (+Inf) counts */
};

struct metric_family {
    struct metric_family *next;
    const void *owner;
    enum metric_type type;
    char *name;
    char *help;
    size_t nlabels;
    char **label_names;
    double *bounds;
    size_t nbounds;
    struct metric *series, **series_tail;
};

struct metrics_registry {
    pthread_mutex_t mu;
    struct metric_family *families, **tail;
};

/* ---------------------------------------------------------------------- */

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void metric_add(struct metric *m, double v)
{
    if (!m || isnan(v))
        return;
    if (m->fam->type == METRIC_COUNTER) {
        if (v < 0)
            return;
    } else if (m->fam->type != METRIC_GAUGE) {
        return;
    }
    atomic_add_double(&m->value, v);
}

void metric_set(struct metric *m, double v)
{
    if (m && m->fam->type == METRIC_GAUGE)
        atomic_store_explicit(&m->value, dbits(v), memory_order_relaxed);
}

void metric_observe(struct metric *m, double v)
{
    if (!m || m->fam->type != METRIC_HISTOGRAM || isnan(v))
        return;
    /* Buckets are few (<= 64): a linear scan beats a branchy search. */
    size_t i = 0;
    while (i < m->fam->nbounds && v > m->fam->bounds[i])
        i++;
    atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&m->value, v);
}

double metric_value(const struct metric *m)
{
    if (!m)
        return 0;
    if (m->fam->type != METRIC_HISTOGRAM)
        return bitsd(atomic_load_explicit(&m->value, memory_order_relaxed));
    uint64_t n = 0;
    for (size_t i = 0; i <= m->fam->nbounds; i++)
        n += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
    return (double)n;
}

/* ---------------------------------------------------------------------- */

struct metrics_registry *metrics_registry_new(void)
{
    struct metrics_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return NULL;
    }
    r->tail = &r->families;
    return r;
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void series_free(struct metric *m, size_t nlabels)
{
    free_strv(m->label_values, nlabels);
    free(m->buckets);
    free(m);
}

static void family_free(struct metric_family *f)
{
    for (struct metric *m = f->series, *nx; m; m = nx) {
        nx = m->next;
        series_free(m, f->nlabels);
    }
    free(f->name);
    free(f->help);
    free_strv(f->label_names, f->nlabels);
    free(f->bounds);
    free(f);
}

void metrics_registry_free(struct metrics_registry *r)
{
    if (!r)
        return;
    for (struct metric_family *f = r->families, *nx; f; f = nx) {
        nx = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void metrics_unregister_owner(struct metrics_registry *r, const void *owner)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    struct metric_family **pp = &r->families;
    r->tail = &r->families;
    while (*pp) {
        struct metric_family *f = *pp;
        if (f->owner == owner) {
            *pp = f->next;
            family_free(f);
        } else {
            pp = &f->next;
            r->tail = pp;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---------------------------------------------------------------------- */
/* Validation                                                              */

static int valid_metric_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > METRIC_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static int valid_label_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > METRIC_MAX_NAME || strncmp(s, "__", 2) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int check_spec(const struct metric_spec *s, size_t *nlabels_r, char *err, size_t errlen)
{
    if (s->type != METRIC_COUNTER && s->type != METRIC_GAUGE && s->type != METRIC_HISTOGRAM)
        return fail(err, errlen, -1, "metric type %d is not counter, gauge or histogram",
                    (int)s->type);
    if (!valid_metric_name(s->name))
        return fail(err, errlen, -1, "invalid metric name '%s' (want [a-zA-Z_:][a-zA-Z0-9_:]*)",
                    s->name ? s->name : "(null)");
    size_t n = 0;
    while (s->labels && s->labels[2 * n]) {
        const char *k = s->labels[2 * n], *v = s->labels[2 * n + 1];
        if (n == METRIC_MAX_LABELS)
            return fail(err, errlen, -1, "metric %s: more than %d labels", s->name,
                        METRIC_MAX_LABELS);
        if (!valid_label_name(k) || (s->type == METRIC_HISTOGRAM && strcmp(k, "le") == 0))
            return fail(err, errlen, -1, "metric %s: invalid label name '%s'", s->name, k);
        if (!v)
            return fail(err, errlen, -1, "metric %s: label '%s' has no value", s->name, k);
        if (strlen(v) > METRIC_MAX_LABEL_VALUE)
            return fail(err, errlen, -1, "metric %s: value of label '%s' is longer than %d bytes",
                        s->name, k, METRIC_MAX_LABEL_VALUE);
        for (size_t j = 0; j < n; j++)
            if (strcmp(s->labels[2 * j], k) == 0)
                return fail(err, errlen, -1, "metric %s: label '%s' given twice", s->name, k);
        n++;
    }
    if (s->type == METRIC_HISTOGRAM && s->buckets) {
        if (s->nbuckets == 0 || s->nbuckets > METRIC_MAX_BUCKETS)
            return fail(err, errlen, -1, "metric %s: %zu buckets (want 1..%d)", s->name,
                        s->nbuckets, METRIC_MAX_BUCKETS);
        for (size_t i = 0; i < s->nbuckets; i++)
            if (!isfinite(s->buckets[i]) || (i > 0 && s->buckets[i] <= s->buckets[i - 1]))
                return fail(err, errlen, -1,
                            "metric %s: bucket bounds must be finite and strictly increasing",
                            s->name);
    }
    *nlabels_r = n;
    return 0;
}

/* ---------------------------------------------------------------------- */

static struct metric_family *find_family(struct metrics_registry *r, const char *name)
{
    for (struct metric_family *f = r->families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static struct metric_family *family_new(const void *owner, const struct metric_spec *s,
                                        size_t nlabels)
{
    struct metric_family *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->owner = owner;
    f->type = s->type;
    f->series_tail = &f->series;
    f->nlabels = nlabels;
    f->name = strdup(s->name);
    f->help = strdup(s->help ? s->help : "");
    int ok = f->name && f->help;
    if (ok && nlabels) {
        f->label_names = calloc(nlabels, sizeof *f->label_names);
        ok = f->label_names != NULL;
        for (size_t i = 0; ok && i < nlabels; i++)
            ok = (f->label_names[i] = strdup(s->labels[2 * i])) != NULL;
    }
    if (ok && s->type == METRIC_HISTOGRAM) {
        const double *b = s->buckets ? s->buckets : metric_default_buckets;
        f->nbounds = s->buckets ? s->nbuckets
                                : sizeof metric_default_buckets / sizeof metric_default_buckets[0];
        f->bounds = malloc(f->nbounds * sizeof *f->bounds);
        ok = f->bounds != NULL;
        if (ok)
            memcpy(f->bounds, b, f->nbounds * sizeof *f->bounds);
    }
    if (!ok) {
        family_free(f);
        return NULL;
    }
    return f;
}

/* Same shape: the family can take this spec's series. */
static int family_matches(const struct metric_family *f, const struct metric_spec *s,
                          size_t nlabels)
{
    if (f->type != s->type || f->nlabels != nlabels)
        return 0;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(f->label_names[i], s->labels[2 * i]) != 0)
            return 0;
    if (s->type == METRIC_HISTOGRAM) {
        const double *b = s->buckets ? s->buckets : metric_default_buckets;
        size_t nb = s->buckets ? s->nbuckets
                               : sizeof metric_default_buckets / sizeof metric_default_buckets[0];
        if (nb != f->nbounds || memcmp(b, f->bounds, nb * sizeof *b) != 0)
            return 0;
    }
    return 1;
}

static struct metric *series_new(struct metric_family *f, const struct metric_spec *s)
{
    struct metric *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fam = f;
    atomic_init(&m->value, dbits(0.0));
    int ok = 1;
    if (f->nlabels) {
        m->label_values = calloc(f->nlabels, sizeof *m->label_values);
        ok = m->label_values != NULL;
        for (size_t i = 0; ok && i < f->nlabels; i++)
            ok = (m->label_values[i] = strdup(s->labels[2 * i + 1])) != NULL;
    }
    if (ok && f->type == METRIC_HISTOGRAM) {
        m->buckets = calloc(f->nbounds + 1, sizeof *m->buckets);
        ok = m->buckets != NULL;
        for (size_t i = 0; ok && i <= f->nbounds; i++)
            atomic_init(&m->buckets[i], 0);
    }
    if (!ok) {
        series_free(m, f->nlabels);
        return NULL;
    }
    return m;
}

int metrics_register(struct metrics_registry *r, const void *owner, const struct metric_spec *spec,
                     struct metric **out, char *err, size_t errlen)
{
    size_t nlabels = 0;
    *out = NULL;
    if (!r)
        return fail(err, errlen, -1, "no metrics registry");
    if (check_spec(spec, &nlabels, err, errlen) != 0)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    struct metric_family *f = find_family(r, spec->name);
    int fresh = 0;
    if (f) {
        if (f->owner != owner) {
            rc = fail(err, errlen, -2, "metric %s is already registered by another owner",
                      spec->name);
            goto out;
        }
        if (!family_matches(f, spec, nlabels)) {
            rc = fail(err, errlen, -2,
                      "metric %s is already registered with another type, label names or "
                      "buckets",
                      spec->name);
            goto out;
        }
        for (struct metric *m = f->series; m; m = m->next) {
            size_t i = 0;
            while (i < nlabels && strcmp(m->label_values[i], spec->labels[2 * i + 1]) == 0)
                i++;
            if (i == nlabels) {
                *out = m;
                goto out;
            }
        }
    } else {
        if (!(f = family_new(owner, spec, nlabels))) {
            rc = fail(err, errlen, -3, "out of memory");
            goto out;
        }
        fresh = 1;
    }
    struct metric *m = series_new(f, spec);
    if (!m) {
        if (fresh)
            family_free(f);
        rc = fail(err, errlen, -3, "out of memory");
        goto out;
    }
    *f->series_tail = m;
    f->series_tail = &m->next;
    if (fresh) {
        *r->tail = f;
        r->tail = &f->next;
    }
    *out = m;
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Exposition                                                              */

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_grow(struct sbuf *b, size_t need)
{
    if (b->oom || b->cap - b->len > need)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= need)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
        b->oom = 1;
        return;
    }
    b->p = np;
    b->cap = cap;
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* The exposition format escapes '\' and newline in HELP, and also '"' in
 * label values. */
static void sb_escaped(struct sbuf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_put(b, "\\\\", 2);
        else if (*s == '\n')
            sb_put(b, "\\n", 2);
        else if (quote && *s == '"')
            sb_put(b, "\\\"", 2);
        else
            sb_put(b, s, 1);
    }
}

/* Shortest "%g" that reads back as the same double, Go-style spellings
 * for the special values (+Inf, -Inf, NaN). */
static void fmt_double(char *buf, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void sb_double(struct sbuf *b, double v)
{
    char buf[40];
    fmt_double(buf, sizeof buf, v);
    sb_str(b, buf);
}

static void sb_u64(struct sbuf *b, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    sb_str(b, buf);
}

/* name{l1="v1",...,extra_k="extra_v"} */
static void sb_series(struct sbuf *b, const struct metric_family *f, const struct metric *m,
                      const char *suffix, const char *extra_k, const char *extra_v)
{
    sb_str(b, f->name);
    sb_str(b, suffix);
    if (f->nlabels == 0 && !extra_k) {
        sb_put(b, " ", 1);
        return;
    }
    sb_put(b, "{", 1);
    for (size_t i = 0; i < f->nlabels; i++) {
        if (i)
            sb_put(b, ",", 1);
        sb_str(b, f->label_names[i]);
        sb_put(b, "=\"", 2);
        sb_escaped(b, m->label_values[i], 1);
        sb_put(b, "\"", 1);
    }
    if (extra_k) {
        if (f->nlabels)
            sb_put(b, ",", 1);
        sb_str(b, extra_k);
        sb_put(b, "=\"", 2);
        sb_str(b, extra_v);
        sb_put(b, "\"", 1);
    }
    sb_put(b, "} ", 2);
}

static const char *type_name(enum metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

char *metrics_expose(struct metrics_registry *r, size_t *len_r)
{
    struct sbuf b = {0};
    sb_grow(&b, 1);
    if (b.oom)
        return NULL;
    b.p[0] = '\0';
    pthread_mutex_lock(&r->mu);
    for (const struct metric_family *f = r->families; f; f = f->next) {
        sb_str(&b, "# HELP ");
        sb_str(&b, f->name);
        sb_put(&b, " ", 1);
        sb_escaped(&b, f->help, 0);
        sb_str(&b, "\n# TYPE ");
        sb_str(&b, f->name);
        sb_put(&b, " ", 1);
        sb_str(&b, type_name(f->type));
        sb_put(&b, "\n", 1);
        for (const struct metric *m = f->series; m; m = m->next) {
            if (f->type != METRIC_HISTOGRAM) {
                sb_series(&b, f, m, "", NULL, NULL);
                sb_double(&b, metric_value(m));
                sb_put(&b, "\n", 1);
                continue;
            }
            uint64_t cum = 0;
            for (size_t i = 0; i <= f->nbounds; i++) {
                char le[40];
                if (i < f->nbounds)
                    fmt_double(le, sizeof le, f->bounds[i]);
                else
                    snprintf(le, sizeof le, "+Inf");
                cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
                sb_series(&b, f, m, "_bucket", "le", le);
                sb_u64(&b, cum);
                sb_put(&b, "\n", 1);
            }
            sb_series(&b, f, m, "_sum", NULL, NULL);
            sb_double(&b, bitsd(atomic_load_explicit(&m->value, memory_order_relaxed)));
            sb_put(&b, "\n", 1);
            /* _count is the +Inf bucket by definition; using the same sum
             * keeps the two equal even while observations race in. */
            sb_series(&b, f, m, "_count", NULL, NULL);
            sb_u64(&b, cum);
            sb_put(&b, "\n", 1);
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len_r)
        *len_r = b.len;
    return b.p;
}

int metrics_write_file(struct metrics_registry *r, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = metrics_expose(r, &len);
    if (!text)
        return fail(err, errlen, -1, "out of memory");
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        free(text);
        return fail(err, errlen, -1, "%s: path too long", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(text);
        return fail(err, errlen, -1, "%s: %s", tmp, strerror(errno));
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(text);
            return fail(err, errlen, -1, "%s: %s", tmp, strerror(e));
        }
        off += (size_t)n;
    }
    free(text);
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, errlen, -1, "%s: %s", path, strerror(e));
    }
    return 0;
}
