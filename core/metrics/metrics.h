/* The core metrics registry: counters, gauges and histograms with a name
 * and labels, owned by the broker and shared with modules (through the host
 * API's metric_register), rendered in the Prometheus text exposition format
 * (version 0.0.4) so later work can serve it over HTTP.
 *
 * Model (Prometheus'): a family is a name + help + type (+ histogram bucket
 * bounds); a series is one set of label values within a family and is what
 * a struct metric handle points to.  The first registrant of a family name
 * owns it (the core registers its own families before any module loads, so
 * a module can't take them over); the same owner may register more series
 * of it, or the same series again (getting the same handle).
 *
 * Threads: registration, unregistration and exposition take the registry
 * mutex; updates (metric_add/set/observe) are lock-free atomics, safe from
 * any thread, including module threads.  A series lives until its owner is
 * unregistered (module unload) or the registry is freed; updating a handle
 * after that is a use-after-free, which is why a module's handles die with
 * its fini. */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric_type {
    METRIC_COUNTER = 1, /* values are the SLUICE_METRIC_* numbers of the plugin ABI */
    METRIC_GAUGE = 2,
    METRIC_HISTOGRAM = 3,
};

/* Most labels one series may have, and the longest name/label/value. */
#define METRIC_MAX_LABELS 16
#define METRIC_MAX_NAME 200
#define METRIC_MAX_LABEL_VALUE 1024
#define METRIC_MAX_BUCKETS 64

struct metrics_registry;
struct metric;

/* Prometheus' default buckets (seconds), used when a histogram gives none. */
extern const double metric_default_buckets[11];

struct metric_spec {
    enum metric_type type;
    const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]* */
    const char *help; /* may be NULL */
    /* NULL, or pairs {"name", "value", ..., NULL}.  Label names are
     * [a-zA-Z_][a-zA-Z0-9_]* and may not start with "__" (reserved by
     * Prometheus) nor be "le" on a histogram. */
    const char *const *labels;
    /* Histograms: finite, strictly increasing upper bounds; +Inf is implied.
     * NULL/0 means metric_default_buckets. */
    const double *buckets;
    size_t nbuckets;
};

/* NULL when out of memory. */
struct metrics_registry *metrics_registry_new(void);
void metrics_registry_free(struct metrics_registry *r);

/* Finds or creates the series described by spec, owned by `owner` (an
 * opaque tag: NULL for the core, the module ctx for a module).  Returns 0
 * with *out set; -1 (bad name, label, bucket list, or too many labels) or
 * -2 (family exists with another owner, type, label names or buckets; a
 * family's label names are fixed by its first series) with err set, or -3
 * when out of memory.  All strings are copied. */
int metrics_register(struct metrics_registry *r, const void *owner, const struct metric_spec *spec,
                     struct metric **out, char *err, size_t errlen);

/* Drops every family `owner` registered (module unload). */
void metrics_unregister_owner(struct metrics_registry *r, const void *owner);

/* Updates; any thread, lock-free.  A call that doesn't fit the type
 * (set on a counter, observe on a gauge, a negative or NaN counter add)
 * is ignored: counters only go up.  m may be NULL (no-op), so a failed
 * registration never needs a check at every update site. */
void metric_add(struct metric *m, double v);     /* counter, gauge */
void metric_set(struct metric *m, double v);     /* gauge */
void metric_observe(struct metric *m, double v); /* histogram */

/* Current value (counter/gauge) or observation count (histogram); for
 * tests and diagnostics. */
double metric_value(const struct metric *m);

/* The whole registry in the Prometheus text format, version 0.0.4
 * (Content-Type: text/plain; version=0.0.4), families in registration
 * order.  Returns a malloc'd NUL-terminated string (length in *len_r when
 * len_r is non-NULL), or NULL when out of memory. */
char *metrics_expose(struct metrics_registry *r, size_t *len_r);

/* Writes metrics_expose() to path atomically (path.tmp + rename), the
 * node_exporter "textfile" convention.  Returns 0 or -1 with err. */
int metrics_write_file(struct metrics_registry *r, const char *path, char *err, size_t errlen);

#endif
