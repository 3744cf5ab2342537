/* The broker's own metrics (see broker_metrics.h).  Series handles are
 * looked up once at start-up, so the request path does one atomic add. */
#include "broker/broker_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker.h"
#include "metrics/metrics.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"

/* Values read from the broker's state when the metrics are exposed, not
 * pushed on every change: the cleaner's totals (Kafka's LogCleaner
 * metrics) and the log size and partition gauges. */
enum state_metric {
    SM_CLEANINGS,
    SM_CLEANINGS_ABORTED,
    SM_CLEANINGS_FAILED,
    SM_CLEANER_BYTES_READ,
    SM_CLEANER_BYTES_WRITTEN,
    SM_CLEANER_RECORDS_READ,
    SM_CLEANER_RECORDS_KEPT,
    SM_CLEANER_BUSY_SECONDS,
    SM_PARTITIONS,
    SM_OFFLINE_PARTITIONS,
    SM_LOG_BYTES,
    SM_COUNT
};

static const struct state_metric_def {
    enum metric_type type;
    const char *name, *help;
} state_metric_defs[SM_COUNT] = {
    [SM_CLEANINGS] = {METRIC_COUNTER, "sluice_log_cleaner_cleanings_total",
                      "Log cleanings (compactions) completed."},
    [SM_CLEANINGS_ABORTED] = {METRIC_COUNTER, "sluice_log_cleaner_aborted_total",
                              "Cleanings aborted (topic deleted, directory failed, shutdown)."},
    [SM_CLEANINGS_FAILED] = {METRIC_COUNTER, "sluice_log_cleaner_failed_total",
                             "Cleanings that failed (the log is marked uncleanable for a while)."},
    [SM_CLEANER_BYTES_READ] = {METRIC_COUNTER, "sluice_log_cleaner_read_bytes_total",
                               "Log bytes the cleaner read."},
    [SM_CLEANER_BYTES_WRITTEN] = {METRIC_COUNTER, "sluice_log_cleaner_written_bytes_total",
                                  "Bytes the cleaner wrote into cleaned segments."},
    [SM_CLEANER_RECORDS_READ] = {METRIC_COUNTER, "sluice_log_cleaner_read_records_total",
                                 "Records the cleaner read."},
    [SM_CLEANER_RECORDS_KEPT] = {METRIC_COUNTER, "sluice_log_cleaner_retained_records_total",
                                 "Records the cleaner kept (the rest were superseded or expired "
                                 "tombstones)."},
    [SM_CLEANER_BUSY_SECONDS] = {METRIC_COUNTER, "sluice_log_cleaner_busy_seconds_total",
                                 "Time spent cleaning, summed over cleaner threads."},
    [SM_PARTITIONS] = {METRIC_GAUGE, "sluice_partitions", "Partitions this broker hosts."},
    [SM_OFFLINE_PARTITIONS] = {METRIC_GAUGE, "sluice_offline_partitions",
                               "Hosted partitions that are offline (failed log directory) or "
                               "moving (Kafka's OfflinePartitionsCount)."},
    [SM_LOG_BYTES] = {METRIC_GAUGE, "sluice_log_size_bytes",
                      "Bytes of all partition logs on disk (Kafka's Log Size, summed)."},
};

struct broker_metrics {
    struct metric *requests[KP_API_MAX + 1];
    struct metric *latency[KP_API_MAX + 1]; /* Produce and Fetch only */
    struct metric *bytes_in, *bytes_out;
    struct metric *state[SM_COUNT];
    double state_last[SM_COUNT]; /* counters: the value already added */
};

/* Request latencies run from sub-millisecond (an in-cache fetch) to the
 * max.wait.ms of a long poll (500 ms by default) and fsync'd produces. */
static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,   0.5,   1,      2.5,   5,    10,    30};

/* "ProduceRequest" -> "Produce": Kafka's request="..." tag values. */
static void api_label(int16_t key, char *buf, size_t len)
{
    const struct kp_message *m = kp_request_message(key);
    const char *name = m ? m->name : "Unknown";
    size_t n = strlen(name);
    if (n > 7 && strcmp(name + n - 7, "Request") == 0)
        n -= 7;
    snprintf(buf, len, "%.*s", (int)n, name);
}

int broker_metrics_init(struct broker *b, char *err, size_t errlen)
{
    b->metrics = metrics_registry_new();
    b->bmetrics = calloc(1, sizeof *b->bmetrics);
    if (!b->metrics || !b->bmetrics) {
        snprintf(err, errlen, "out of memory creating the metrics registry");
        return -1;
    }
    struct broker_metrics *bm = b->bmetrics;
    size_t n;
    const struct api_entry *apis = api_table_entries(&n);
    for (size_t i = 0; i < n; i++) {
        int16_t key = apis[i].api_key;
        char label[64];
        api_label(key, label, sizeof label);
        const char *labels[] = {"request", label, NULL};
        struct metric_spec rs = {.type = METRIC_COUNTER,
                                 .name = "sluice_requests_total",
                                 .help = "Requests received, by API (Kafka's RequestsPerSec).",
                                 .labels = labels};
        if (metrics_register(b->metrics, NULL, &rs, &bm->requests[key], err, errlen) != 0)
            return -1;
        if (key != KP_API_PRODUCE && key != KP_API_FETCH)
            continue;
        struct metric_spec ls = {.type = METRIC_HISTOGRAM,
                                 .name = "sluice_request_latency_seconds",
                                 .help = "Time from receiving a request to sending its response "
                                         "(Kafka's TotalTimeMs), Produce and Fetch.",
                                 .labels = labels,
                                 .buckets = latency_buckets,
                                 .nbuckets = sizeof latency_buckets / sizeof latency_buckets[0]};
        if (metrics_register(b->metrics, NULL, &ls, &bm->latency[key], err, errlen) != 0)
            return -1;
    }
    struct metric_spec in = {.type = METRIC_COUNTER,
                             .name = "sluice_bytes_in_total",
                             .help = "Record batch bytes accepted by Produce requests, retried "
                                     "duplicates included (Kafka's "
                                     "BytesInPerSec)."};
    struct metric_spec out = {.type = METRIC_COUNTER,
                              .name = "sluice_bytes_out_total",
                              .help = "Record batch bytes sent in Fetch responses (Kafka's "
                                      "BytesOutPerSec)."};
    if (metrics_register(b->metrics, NULL, &in, &bm->bytes_in, err, errlen) != 0 ||
        metrics_register(b->metrics, NULL, &out, &bm->bytes_out, err, errlen) != 0)
        return -1;
    for (int i = 0; i < SM_COUNT; i++) {
        struct metric_spec sp = {.type = state_metric_defs[i].type,
                                 .name = state_metric_defs[i].name,
                                 .help = state_metric_defs[i].help};
        if (metrics_register(b->metrics, NULL, &sp, &bm->state[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

static void set_state(struct broker_metrics *bm, enum state_metric i, double v)
{
    if (state_metric_defs[i].type == METRIC_GAUGE) {
        metric_set(bm->state[i], v);
    } else if (v > bm->state_last[i]) {
        metric_add(bm->state[i], v - bm->state_last[i]);
        bm->state_last[i] = v;
    }
}

void broker_metrics_collect(struct broker *b)
{
    struct broker_metrics *bm = b->bmetrics;
    if (!bm)
        return;
    if (b->cleaner) {
        struct log_cleaner_stats st;
        log_cleaner_get_stats(b->cleaner, &st);
        set_state(bm, SM_CLEANINGS, (double)st.cleanings);
        set_state(bm, SM_CLEANINGS_ABORTED, (double)st.aborted);
        set_state(bm, SM_CLEANINGS_FAILED, (double)st.failed);
        set_state(bm, SM_CLEANER_BYTES_READ, (double)st.bytes_read);
        set_state(bm, SM_CLEANER_BYTES_WRITTEN, (double)st.bytes_written);
        set_state(bm, SM_CLEANER_RECORDS_READ, (double)st.records_read);
        set_state(bm, SM_CLEANER_RECORDS_KEPT, (double)st.records_retained);
        set_state(bm, SM_CLEANER_BUSY_SECONDS, st.busy_seconds);
    }
    double parts = 0, offline = 0, bytes = 0;
    size_t iter = 0;
    const char *name;
    void *v;
    while (strmap_next(&b->topics, &iter, &name, &v)) {
        const struct broker_topic *t = v;
        for (int32_t p = 0; p < t->nparts; p++) {
            parts++;
            if (!t->logs[p])
                offline++;
            else
                bytes += (double)plog_size(t->logs[p]);
        }
    }
    set_state(bm, SM_PARTITIONS, parts);
    set_state(bm, SM_OFFLINE_PARTITIONS, offline);
    set_state(bm, SM_LOG_BYTES, bytes);
}

void broker_metrics_free(struct broker *b)
{
    metrics_registry_free(b->metrics);
    b->metrics = NULL;
    free(b->bmetrics);
    b->bmetrics = NULL;
}

void broker_metrics_request(struct broker *b, int16_t api_key)
{
    if (b->bmetrics && api_key >= 0 && api_key <= KP_API_MAX)
        metric_add(b->bmetrics->requests[api_key], 1);
}

void broker_metrics_bytes_in(struct broker *b, size_t n)
{
    if (b->bmetrics)
        metric_add(b->bmetrics->bytes_in, (double)n);
}

static uint64_t fetch_record_bytes(const struct kp_FetchResponse *resp)
{
    uint64_t n = 0;
    for (int32_t i = 0; i < resp->Responses.count; i++) {
        const struct kp_FetchResponse_FetchableTopicResponse *t = &resp->Responses.items[i];
        for (int32_t j = 0; j < t->Partitions.count; j++)
            if (t->Partitions.items[j].Records.len > 0)
                n += (uint64_t)t->Partitions.items[j].Records.len;
    }
    return n;
}

void broker_metrics_response(struct request *rq, const void *resp)
{
    struct broker_metrics *bm = rq->b->bmetrics;
    int16_t key = rq->hdr.ApiKey;
    if (!bm || (key != KP_API_PRODUCE && key != KP_API_FETCH))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (rq->received_mono_ns > 0 && now_ns >= rq->received_mono_ns)
        metric_observe(bm->latency[key], (double)(now_ns - rq->received_mono_ns) / 1e9);
    if (key == KP_API_FETCH && resp)
        metric_add(bm->bytes_out, (double)fetch_record_bytes(resp));
}

void broker_metrics_dump(struct broker *b, const char *path)
{
    char err[512];
    if (!path || !b->metrics)
        return;
    broker_metrics_collect(b);
    if (metrics_write_file(b->metrics, path, err, sizeof err) != 0)
        slog(b->log, SLOG_WARN, "metrics", "cannot write metrics file: %s", err);
}
