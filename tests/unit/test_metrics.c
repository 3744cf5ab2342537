/* Metrics registry: registration rules, lock-free updates from several
 * threads, and the exact Prometheus text exposition. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "tap.h"

#define THREADS 4
#define PER_THREAD 100000

struct hammer {
    struct metric *counter, *gauge, *hist;
};

static void *hammer(void *ud)
{
    struct hammer *h = ud;
    for (int i = 0; i < PER_THREAD; i++) {
        metric_add(h->counter, 1);
        metric_add(h->gauge, i % 2 ? 1 : -1);
        metric_observe(h->hist, (i % 4) * 0.5); /* 0, 0.5, 1, 1.5 */
    }
    return NULL;
}

static int owner_a, owner_b; /* distinct addresses used as owner tags */

int main(void)
{
    char err[256];
    struct metrics_registry *r = metrics_registry_new();
    ok(r != NULL, "registry created");

    /* ---- registration ------------------------------------------------ */
    const char *get_labels[] = {"request", "Produce", NULL};
    struct metric *produce = NULL, *again = NULL, *fetch = NULL;
    struct metric_spec s = {.type = METRIC_COUNTER,
                            .name = "sluice_requests_total",
                            .help = "Requests handled, by API.",
                            .labels = get_labels};
    is_int(metrics_register(r, NULL, &s, &produce, err, sizeof err), 0, "counter registered");
    is_int(metrics_register(r, NULL, &s, &again, err, sizeof err), 0, "same series again");
    ok(again == produce, "registering the same series returns the same handle");
    const char *fetch_labels[] = {"request", "Fetch", NULL};
    s.labels = fetch_labels;
    is_int(metrics_register(r, NULL, &s, &fetch, err, sizeof err), 0, "second series");
    ok(fetch != produce, "other label values: another series");

    s.labels = get_labels;
    struct metric *m = NULL;
    is_int(metrics_register(r, &owner_a, &s, &m, err, sizeof err), -2,
           "a family belongs to its first registrant");
    is_str(err, "metric sluice_requests_total is already registered by another owner",
           "... with that message");
    ok(m == NULL, "... and no handle");
    s.type = METRIC_GAUGE;
    is_int(metrics_register(r, NULL, &s, &m, err, sizeof err), -2, "type mismatch refused");
    s.type = METRIC_COUNTER;
    const char *other_names[] = {"api", "Produce", NULL};
    s.labels = other_names;
    is_int(metrics_register(r, NULL, &s, &m, err, sizeof err), -2,
           "label names are fixed by the first series");

    struct metric_spec bad = {.type = METRIC_COUNTER, .name = "9lives"};
    is_int(metrics_register(r, NULL, &bad, &m, err, sizeof err), -1, "name may not start with a digit");
    is_str(err, "invalid metric name '9lives' (want [a-zA-Z_:][a-zA-Z0-9_:]*)", "... message");
    bad.name = "ok_name";
    const char *reserved[] = {"__name__", "x", NULL};
    bad.labels = reserved;
    is_int(metrics_register(r, NULL, &bad, &m, err, sizeof err), -1, "__ label names are reserved");
    const char *dup[] = {"a", "1", "a", "2", NULL};
    bad.labels = dup;
    is_int(metrics_register(r, NULL, &bad, &m, err, sizeof err), -1, "duplicate label refused");
    is_str(err, "metric ok_name: label 'a' given twice", "... message");
    bad.type = METRIC_HISTOGRAM;
    const char *le[] = {"le", "1", NULL};
    bad.labels = le;
    is_int(metrics_register(r, NULL, &bad, &m, err, sizeof err), -1, "le is reserved on histograms");
    double unsorted[] = {1, 0.5};
    bad.labels = NULL;
    bad.buckets = unsorted;
    bad.nbuckets = 2;
    is_int(metrics_register(r, NULL, &bad, &m, err, sizeof err), -1, "buckets must increase");
    bad.type = 7;
    is_int(metrics_register(r, NULL, &bad, &m, err, sizeof err), -1, "unknown type refused");

    /* ---- concurrent updates ------------------------------------------ */
    struct metric_spec gs = {.type = METRIC_GAUGE, .name = "g", .help = "a gauge"};
    double bounds[] = {0.5, 1};
    const char *hl[] = {"path", "a\"b\\c\nd", NULL};
    struct metric_spec hs = {.type = METRIC_HISTOGRAM, .name = "lat_seconds", .help = "line1\nline2 \\",
                             .labels = hl, .buckets = bounds, .nbuckets = 2};
    struct hammer h = {.counter = produce};
    is_int(metrics_register(r, &owner_a, &gs, &h.gauge, err, sizeof err), 0, "gauge registered");
    is_int(metrics_register(r, &owner_a, &hs, &h.hist, err, sizeof err), 0, "histogram registered");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, &h);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    is_int((long long)metric_value(produce), THREADS * PER_THREAD,
           "%d threads x %d increments: no lost update", THREADS, PER_THREAD);
    is_int((long long)metric_value(h.gauge), 0, "gauge +1/-1 from all threads nets 0");
    is_int((long long)metric_value(h.hist), THREADS * PER_THREAD, "every observation counted");

    /* Type-mismatched and invalid updates are ignored. */
    metric_add(produce, -5);
    metric_add(produce, NAN);
    metric_set(produce, 1);
    metric_observe(produce, 1);
    metric_add(NULL, 1);
    is_int((long long)metric_value(produce), THREADS * PER_THREAD, "counters never go down");
    metric_add(fetch, 2.5);
    metric_set(h.gauge, -1.25);

    /* ---- exposition -------------------------------------------------- */
    char want[2048];
    unsigned n = THREADS * PER_THREAD, q = n / 4;
    snprintf(want, sizeof want,
             "# HELP sluice_requests_total Requests handled, by API.\n"
             "# TYPE sluice_requests_total counter\n"
             "sluice_requests_total{request=\"Produce\"} %u\n"
             "sluice_requests_total{request=\"Fetch\"} 2.5\n"
             "# HELP g a gauge\n"
             "# TYPE g gauge\n"
             "g -1.25\n"
             "# HELP lat_seconds line1\\nline2 \\\\\n"
             "# TYPE lat_seconds histogram\n"
             "lat_seconds_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"0.5\"} %u\n"
             "lat_seconds_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"1\"} %u\n"
             "lat_seconds_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} %u\n"
             "lat_seconds_sum{path=\"a\\\"b\\\\c\\nd\"} %u\n"
             "lat_seconds_count{path=\"a\\\"b\\\\c\\nd\"} %u\n",
             n, 2 * q, 3 * q, n, q * 3 /* 0.5 + 1 + 1.5 per quarter */, n);
    size_t len = 0;
    char *text = metrics_expose(r, &len);
    is_str(text, want, "exposition text, exact");
    is_int(len, strlen(want), "length reported");
    free(text);

    /* Shortest round-tripping numbers. */
    struct metric *f3 = NULL;
    struct metric_spec fs = {.type = METRIC_GAUGE, .name = "f3"};
    metrics_register(r, &owner_b, &fs, &f3, err, sizeof err);
    metric_set(f3, 0.1);
    text = metrics_expose(r, NULL);
    ok(strstr(text, "\nf3 0.1\n") != NULL, "0.1 printed as 0.1");
    free(text);
    metric_set(f3, 1e21);
    text = metrics_expose(r, NULL);
    ok(strstr(text, "\nf3 1e+21\n") != NULL, "large values in exponent form");
    free(text);
    metric_set(f3, INFINITY);
    text = metrics_expose(r, NULL);
    ok(strstr(text, "\nf3 +Inf\n") != NULL, "+Inf spelled the Prometheus way");
    free(text);

    /* ---- unregister an owner ----------------------------------------- */
    metrics_unregister_owner(r, &owner_a);
    text = metrics_expose(r, NULL);
    ok(strstr(text, "lat_seconds") == NULL && strstr(text, "# TYPE g ") == NULL,
       "owner's families are gone");
    ok(strstr(text, "sluice_requests_total{request=\"Fetch\"} 2.5") != NULL &&
           strstr(text, "# TYPE f3 gauge") != NULL,
       "other owners' families stay");
    free(text);
    /* Registration order survives removal from the middle: a new family
     * lands last. */
    struct metric *after = NULL;
    struct metric_spec as = {.type = METRIC_COUNTER, .name = "after_total"};
    is_int(metrics_register(r, &owner_a, &as, &after, err, sizeof err), 0,
           "owner can register again after unregister");
    text = metrics_expose(r, NULL);
    char *pf3 = strstr(text, "# TYPE f3"), *pafter = strstr(text, "# TYPE after_total");
    ok(pf3 && pafter && pf3 < pafter, "new family appended after the survivors");
    free(text);

    /* ---- textfile ---------------------------------------------------- */
    char path[] = "/tmp/sluice-metrics-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    is_int(metrics_write_file(r, path, err, sizeof err), 0, "metrics file written");
    FILE *fp = fopen(path, "r");
    char line[256] = "";
    ok(fp && fgets(line, sizeof line, fp), "metrics file readable");
    is_str(line, "# HELP sluice_requests_total Requests handled, by API.\n", "file starts with the first family");
    if (fp)
        fclose(fp);
    unlink(path);
    is_int(metrics_write_file(r, "/nonexistent-dir/x.prom", err, sizeof err), -1,
           "unwritable path fails");

    metrics_registry_free(r);
    return done_testing();
}
