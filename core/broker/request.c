/* Request dispatch: header, table lookup, body decode, handler, encode. */
#include "broker/broker.h"
#include "broker/broker_metrics.h"
#include "broker/sasl.h"
#include "broker/session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t broker_now_ms(const struct broker *b)
{
    (void)b;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rq_free(struct request *rq)
{
    kp_arena_free(&rq->arena);
    free(rq);
}

void *rq_alloc(struct request *rq, size_t size, int32_t n)
{
    if (n <= 0)
        return NULL;
    return kp_arena_alloc(&rq->arena, size * (size_t)n);
}

void *rq_items(struct request *rq, const struct kp_struct *elem, int32_t n)
{
    if (n <= 0 || !elem)
        return NULL;
    uint8_t *v = kp_arena_alloc(&rq->arena, elem->size * (size_t)n);
    if (!v)
        return NULL;
    for (int32_t i = 0; i < n; i++)
        kp_struct_defaults(elem, v + elem->size * (size_t)i);
    return v;
}

const struct kp_struct *kp_sub(const struct kp_struct *s, const char *field)
{
    for (uint16_t i = 0; s && i < s->nfields; i++)
        if (strcmp(s->fields[i].name, field) == 0)
            return s->fields[i].sub;
    return NULL;
}

struct kp_str rq_str(struct request *rq, const char *s)
{
    struct kp_str r = { NULL, -1 };
    if (!s)
        return r;
    size_t n = strlen(s);
    r.s = kp_arena_strndup(&rq->arena, s, n);
    r.len = r.s ? (int32_t)n : -1;
    return r;
}

static void rq_send(struct request *rq, const void *resp)
{
    struct wire_writer w;
    wire_writer_init(&w);
    kp_encode_response_header(&w, rq->hdr.ApiKey, rq->hdr.ApiVersion, rq->hdr.CorrelationId);
    int rc = kp_encode(kp_response_message(rq->hdr.ApiKey), rq->hdr.ApiVersion, resp, &w);
    if (rc < 0 || w.err) {
        /* A response we cannot encode is a bug in a handler; the client
         * would wait forever for it, so close the connection instead. */
        slog(rq->b->log, SLOG_ERROR, "request",
             "cannot encode response for api %d v%d (error %d): closing connection",
             rq->hdr.ApiKey, rq->hdr.ApiVersion, rc);
        wire_writer_free(&w);
        struct net_conn *c = net_request_conn(rq->nreq);
        net_respond_none(rq->nreq);
        if (c)
            net_conn_close(c);
        return;
    }
    net_respond(rq->nreq, &w);
    wire_writer_free(&w);
}

void rq_respond(struct request *rq, const void *resp)
{
    broker_metrics_response(rq, resp);
    rq_send(rq, resp);
    rq_free(rq);
}

void rq_respond_none(struct request *rq)
{
    broker_metrics_response(rq, NULL);
    net_respond_none(rq->nreq);
    rq_free(rq);
}

/* Kafka answers an ApiVersions request it cannot parse (too new a version)
 * with a v0 body carrying UNSUPPORTED_VERSION and the supported ranges, so
 * the client can retry with a version both support. */
static void respond_api_versions_unsupported(struct request *rq)
{
    struct kp_ApiVersionsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(kp_response_message(KP_API_API_VERSIONS)->body, &resp);
    resp.ErrorCode = KP_ERR_UNSUPPORTED_VERSION;
    api_versions_fill(rq, &resp);
    rq->hdr.ApiVersion = 0;
    rq_respond(rq, &resp);
}

void broker_on_request(void *ud, struct net_conn *c, struct net_request *nreq)
{
    struct broker *b = ud;
    if (sasl_on_frame(b, c, nreq))
        return;
    struct request *rq = calloc(1, sizeof *rq);
    if (!rq) {
        net_respond_none(nreq);
        net_conn_close(c);
        return;
    }
    rq->b = b;
    rq->nreq = nreq;
    rq->received_ms = broker_now_ms(b);
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    rq->received_mono_ns = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec;
    kp_arena_init(&rq->arena);
    /* A request can't legitimately decode into much more than its own size;
     * the cap stops a hostile one from exhausting memory. */
    kp_arena_set_cap(&rq->arena, nreq->len * 8 + (1 << 20));

    struct wire_reader r;
    wire_reader_init(&r, nreq->data, nreq->len);
    if (kp_decode_request_header(&r, &rq->hdr, &rq->arena) < 0) {
        slog(b->log, SLOG_WARN, "request", "%s: malformed request header (%zu bytes): closing",
             net_conn_peer(c), nreq->len);
        goto close;
    }
    const struct api_entry *e = api_table_lookup(rq->hdr.ApiKey);
    if (!e || !api_available(b, e) || rq->hdr.ApiVersion < e->min_version ||
        rq->hdr.ApiVersion > api_max_version(b, e)) {
        if (rq->hdr.ApiKey == KP_API_API_VERSIONS) {
            respond_api_versions_unsupported(rq);
            return;
        }
        /* Kafka closes the connection on an API or version it does not
         * support: there is no response format it could be sure the client
         * parses. */
        slog(b->log, SLOG_WARN, "request",
             "%s: unsupported api key %d version %d (client %s): closing connection",
             net_conn_peer(c), rq->hdr.ApiKey, rq->hdr.ApiVersion,
             rq->hdr.ClientId.s ? rq->hdr.ClientId.s : "-");
        goto close;
    }
    if (!sasl_request_allowed(b, broker_session_of(c), rq))
        goto close;
    const struct kp_message *m = kp_request_message(rq->hdr.ApiKey);
    rq->body = kp_arena_alloc(&rq->arena, m->body->size);
    if (!rq->body || kp_decode(m, rq->hdr.ApiVersion, &r, rq->body, &rq->arena) < 0) {
        slog(b->log, SLOG_WARN, "request",
             "%s: malformed %s v%d at byte %zu of %zu (client %s): closing connection",
             net_conn_peer(c), m->name, rq->hdr.ApiVersion, r.pos, nreq->len,
             rq->hdr.ClientId.s ? rq->hdr.ClientId.s : "-");
        goto close;
    }
    broker_metrics_request(b, rq->hdr.ApiKey);
    e->handler(b, rq);
    return;
close:
    net_respond_none(nreq);
    net_conn_close(c);
    rq_free(rq);
}
