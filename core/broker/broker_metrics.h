/* The broker's own metrics, in the registry it owns (core/metrics) and
 * shares with modules: requests per API, record bytes in/out and a
 * Produce/Fetch latency histogram, named after Kafka's RequestsPerSec,
 * BytesInPerSec, BytesOutPerSec and TotalTimeMs. */
#ifndef SLUICE_BROKER_METRICS_H
#define SLUICE_BROKER_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct request;

/* Creates b->metrics and registers the core families (before any module
 * loads, so the names stay the broker's).  0 or -1 with err. */
int broker_metrics_init(struct broker *b, char *err, size_t errlen);
void broker_metrics_free(struct broker *b);

/* A request passed header decoding and dispatch (counted per API). */
void broker_metrics_request(struct broker *b, int16_t api_key);
/* A response (resp NULL: none, e.g. acks=0) is about to be sent for rq:
 * latency for Produce/Fetch, record bytes for Fetch. */
void broker_metrics_response(struct request *rq, const void *resp);
/* Record bytes appended by a Produce. */
void broker_metrics_bytes_in(struct broker *b, size_t n);

/* Reads the state-derived series (cleaner totals, partitions, log size)
 * into the registry; done before every exposition. */
void broker_metrics_collect(struct broker *b);

/* Writes the exposition to path (SIGUSR1 / shutdown dump; NULL: no-op). */
void broker_metrics_dump(struct broker *b, const char *path);

#endif
