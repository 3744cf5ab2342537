/* The broker's own metrics (see broker_metrics.h).  Series handles are
 * looked up once at start-up, so the request path does one atomic add. */
#include "broker/broker_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker.h"
#include "metrics/metrics.h"

struct broker_metrics {
    struct metric *requests[KP_API_MAX + 1];
    struct metric *latency[KP_API_MAX + 1]; /* Produce and Fetch only */
    struct metric *bytes_in, *bytes_out;
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
                             .help = "Record batch bytes appended by Produce requests (Kafka's "
                                     "BytesInPerSec)."};
    struct metric_spec out = {.type = METRIC_COUNTER,
                              .name = "sluice_bytes_out_total",
                              .help = "Record batch bytes sent in Fetch responses (Kafka's "
                                      "BytesOutPerSec)."};
    if (metrics_register(b->metrics, NULL, &in, &bm->bytes_in, err, errlen) != 0 ||
        metrics_register(b->metrics, NULL, &out, &bm->bytes_out, err, errlen) != 0)
        return -1;
    return 0;
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
    if (metrics_write_file(b->metrics, path, err, sizeof err) != 0)
        slog(b->log, SLOG_WARN, "metrics", "cannot write metrics file: %s", err);
}
