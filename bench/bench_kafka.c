/*
 * bench_kafka: drive the same producer/consumer load against Sluice and
 * librdkafka's in-process mock cluster and print the results side by side.
 *
 * Each scenario (record size x acks x partition count) gets a fresh topic on
 * every target.  A producer sends N records as fast as librdkafka accepts
 * them and records, per record, the time from enqueue to delivery report;
 * then a consumer without a group reads the topic back from the beginning.
 * Every record carries its sequence number so the consumer can prove that
 * each one arrived (duplicates are counted, not double-counted).
 *
 * The mock cluster is the yardstick: it is librdkafka's own broker
 * emulation, without disks or replication, so "ratio" says how far Sluice
 * is from a broker that does almost nothing per request.
 *
 * Exit status: 0 only if every enabled target delivered and returned every
 * record of every scenario (see the README for the mock's retention cap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <dirent.h>
#include <limits.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_PARTITIONS 64
#define MAX_REPEAT 15
/* Warm-up records: one per partition before the clock starts, so that
 * connection set-up and librdkafka's first use of each partition are not
 * charged to the broker.  They are 8 bytes of all-ones; measured records are
 * at least 100 bytes, so the consumer tells them apart. */
#define WARMUP_SEQ ((uintptr_t)-1)
#define WARMUP_MARK UINT64_MAX

struct opts {
    const char *sluiced;       /* path of the daemon to start */
    const char *config_flag;   /* how sluiced takes its config ("" = positional) */
    const char *bootstrap;     /* benchmark a running broker instead */
    int skip_sluice;
    int skip_mock;
    int quick;
    long records;              /* 0 = per-size default */
    int timeout_s;             /* bound of every phase of one run */
    int start_timeout_s;       /* bound for sluiced to write its port file */
    int keep_tmp;
    int verbose;
    int repeat;                /* runs per scenario and target; medians shown */
    const char *compression;   /* librdkafka compression.codec of the base scenarios */
    const char *extra_cfg[32]; /* --sluice-config lines appended to sluiced's config */
    int n_extra_cfg;
    int no_modules;            /* don't load the build's codec modules into sluiced */
};

struct scenario {
    int record_size;
    const char *acks;          /* librdkafka "acks" value */
    int partitions;
    const char *codec;         /* compression.codec; NULL = --compression */
};

static const char *sc_codec(const struct scenario *sc, const struct opts *o)
{
    return sc->codec ? sc->codec : o->compression;
}

struct result {
    int ran;
    int ok;
    int partitions;            /* what the broker actually has */
    long records;
    /* produce */
    long delivered;
    long failed;
    double prod_secs;
    double prod_msgs_s;
    double prod_mb_s;
    double p50_ms, p99_ms, p999_ms;
    /* consume */
    long consumed;             /* distinct sequence numbers seen */
    long dups;
    long retained;             /* records the broker still had (hi - lo) */
    double cons_secs;
    double first_ms;           /* consume start -> first record */
    double cons_msgs_s;
    double cons_mb_s;
    /* compression check */
    int64_t tx_bytes;          /* producer's bytes on the wire (librdkafka stats), -1 unknown */
    int64_t log_bytes;         /* sluice: size of the topic's segment files, -1 unknown */
    char note[512];
};

enum target_kind { T_SLUICE, T_EXTERNAL, T_MOCK };

struct sluice_proc {
    pid_t pid;
    char tmpdir[256];
    char logpath[300];
    int exited;                /* reaped already */
    int status;
};

struct target {
    const char *name;
    enum target_kind kind;
    int enabled;
    int usable;                /* started and not crashed */
    char bootstrap[256];
    rd_kafka_t *mock_rk;
    rd_kafka_mock_cluster_t *mcluster;
    struct sluice_proc proc;
    char modules[4096];        /* module.load value given to sluiced */
};

/* Per-client context handed to librdkafka callbacks through the conf opaque. */
struct client_ctx {
    const char *target;
    int verbose;
    /* producer only */
    int64_t *enq_us;           /* enqueue time per sequence number */
    int64_t *lat_us;           /* collected delivery latencies */
    long n_lat;
    long delivered;
    long failed;
    rd_kafka_resp_err_t first_err;
    int64_t last_dr_us;
    long errors_logged;
    long warmup_done;
    long warmup_failed;
    /* statistics (compression runs only) */
    int64_t stats_tx_bytes;    /* "tx_bytes" of the latest stats, -1 before any */
    int64_t stats_at_us;       /* when it arrived */
    long compression_logs;     /* librdkafka COMPRESSION log lines (e.g. "not compressing") */
    char compression_log[200];
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

__attribute__((format(printf, 3, 4)))
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* librdkafka plumbing                                                 */

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct client_ctx *cc = opaque;
    /* Transient errors (a broker closing a connection) are normal during
     * shutdown; cap the noise but never hide the first ones. */
    if (cc->errors_logged++ < 5 || cc->verbose)
        fprintf(stderr, "  [%s] %s: %s: %s\n", cc->target, rd_kafka_name(rk),
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct client_ctx *cc = rd_kafka_opaque(rk);
    /* librdkafka says so when it sends a batch uncompressed although a
     * codec is configured (e.g. the broker's ApiVersions lack what it
     * requires for that codec): keep it for the row's note. */
    if (cc && strcmp(fac, "COMPRESSION") == 0 && cc->compression_logs++ == 0)
        snprintf(cc->compression_log, sizeof cc->compression_log, "%s", buf);
    fprintf(stderr, "  [rdkafka %.3f %d %s] %s\n", (double)now_us() / 1e6, level, fac, buf);
}

/* Total bytes the client sent to brokers, from the top-level "tx_bytes" of
 * librdkafka's statistics JSON. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)len;
    struct client_ctx *cc = opaque;
    const char *p = strstr(json, "\"tx_bytes\":");
    if (p) {
        cc->stats_tx_bytes = strtoll(p + 11, NULL, 10);
        cc->stats_at_us = now_us();
    }
    return 0;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct client_ctx *cc = opaque;
    int64_t t = now_us();
    uintptr_t seq = (uintptr_t)m->_private;

    if (seq == WARMUP_SEQ) {
        if (m->err)
            cc->warmup_failed++;
        else
            cc->warmup_done++;
        return;
    }
    cc->last_dr_us = t;
    if (m->err) {
        if (!cc->failed)
            cc->first_err = m->err;
        cc->failed++;
        return;
    }
    cc->delivered++;
    cc->lat_us[cc->n_lat++] = t - cc->enq_us[seq];
}

static rd_kafka_conf_t *base_conf(const char *bootstrap, struct client_ctx *cc,
                                  char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, errlen) ||
        rd_kafka_conf_set(conf, "client.id", "sluice-bench", err, errlen) ||
        /* Idle connections closed by a broker are not errors here. */
        rd_kafka_conf_set(conf, "log.connection.close", "false", err, errlen) ||
        /* Nagle on the client holds back the tail of a pipelined request
         * until the broker's delayed ACK (40 ms on Linux); the Java client
         * always sets TCP_NODELAY, so a benchmark should too. */
        rd_kafka_conf_set(conf, "socket.nagle.disable", "true", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (cc->verbose &&
        rd_kafka_conf_set(conf, "debug", "broker,protocol,msg,fetch", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, cc);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
}

/* Waits until the broker reports the topic with a leader for every
 * partition; returns the partition count, or -1 with err set. */
static int wait_topic(rd_kafka_t *rk, const char *topic, int64_t deadline,
                      char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const char *last = "no metadata response";
    char lastbuf[160];
    int parts = -1;

    if (!rkt) {
        errf(err, errlen, "rd_kafka_topic_new(%s): %s", topic,
             rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    while (now_us() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        int64_t left_ms = (deadline - now_us()) / 1000;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md,
                                                  left_ms > 2000 ? 2000 : (int)left_ms + 1);
        if (e) {
            snprintf(lastbuf, sizeof lastbuf, "metadata request: %s", rd_kafka_err2str(e));
            last = lastbuf;
        } else if (md->topic_cnt < 1) {
            last = "topic missing from metadata response";
        } else if (md->topics[0].err) {
            snprintf(lastbuf, sizeof lastbuf, "topic error %s",
                     rd_kafka_err2name(md->topics[0].err));
            last = lastbuf;
        } else if (md->topics[0].partition_cnt < 1) {
            last = "topic has no partitions";
        } else {
            int ready = 1;
            for (int i = 0; i < md->topics[0].partition_cnt; i++)
                if (md->topics[0].partitions[i].err || md->topics[0].partitions[i].leader < 0)
                    ready = 0;
            if (ready)
                parts = md->topics[0].partition_cnt;
            else
                last = "partitions without leader";
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        if (parts > 0)
            break;
        usleep(100 * 1000);
    }
    rd_kafka_topic_destroy(rkt);
    if (parts < 0)
        errf(err, errlen, "topic %s not ready before timeout (%s)", topic, last);
    return parts;
}

/* CreateTopics through the admin API; an already existing topic is fine.
 * Returns 0, or -1 with err set (caller may fall back to auto-create). */
static int admin_create_topic(rd_kafka_t *rk, const char *topic, int partitions,
                              int timeout_ms, char *err, size_t errlen)
{
    char e[256];
    int rc = -1;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, e, sizeof e);
    if (!nt) {
        errf(err, errlen, "NewTopic: %s", e);
        return -1;
    }
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, e, sizeof e);
    rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, e, sizeof e);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);

    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    if (!ev) {
        errf(err, errlen, "CreateTopics: no result within %d ms", timeout_ms + 2000);
    } else if (rd_kafka_event_error(ev)) {
        errf(err, errlen, "CreateTopics: %s", rd_kafka_event_error_string(ev));
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        if (!tr || n != 1) {
            errf(err, errlen, "CreateTopics: unexpected result with %zu topics", n);
        } else {
            rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[0]);
            if (te == RD_KAFKA_RESP_ERR_NO_ERROR || te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                rc = 0;
            else
                errf(err, errlen, "CreateTopics %s: %s (%s)", topic, rd_kafka_err2name(te),
                     rd_kafka_topic_result_error_string(tr[0]) ? rd_kafka_topic_result_error_string(tr[0]) : "");
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static int64_t sluice_log_bytes(const struct target *t, const char *topic);

/* Appends to the row's note whether the batches really were compressed:
 * the producer's bytes on the wire (librdkafka statistics) and, on a
 * sluiced this benchmark started, the size of the topic's segment files,
 * each against the bytes of record values delivered.  Uncompressed, both
 * are above 100 % (record and batch overhead); the benchmark's values
 * compress about 3x, so anything under 70 % means compressed. */
static void check_compression(const struct target *t, const struct opts *o,
                              const struct scenario *sc, const char *topic, struct result *r)
{
    const char *codec = sc_codec(sc, o);
    if (strcmp(codec, "none") == 0 || r->delivered == 0)
        return;
    double values = (double)r->delivered * sc->record_size;
    if (t->kind == T_SLUICE)
        r->log_bytes = sluice_log_bytes(t, topic);
    char wire[64] = "wire ?", disk[64] = "";
    if (r->tx_bytes >= 0)
        snprintf(wire, sizeof wire, "wire %.0f%%", 100.0 * (double)r->tx_bytes / values);
    if (r->log_bytes >= 0)
        snprintf(disk, sizeof disk, ", log %.0f%%", 100.0 * (double)r->log_bytes / values);
    const char *verdict = r->tx_bytes < 0 ? "unknown (no statistics)"
                          : (double)r->tx_bytes < 0.7 * values ? "yes"
                                                               : "NO, sent uncompressed";
    size_t len = strlen(r->note);
    snprintf(r->note + len, sizeof r->note - len, "%s%s compressed: %s (%s%s of values)",
             len ? "; " : "", codec, verdict, wire, disk);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in ms. */
static double pct_ms(const int64_t *v, long n, double p)
{
    if (n <= 0)
        return 0;
    long idx = (long)(p * (double)n + 0.999999) - 1;
    if (idx < 0)
        idx = 0;
    if (idx >= n)
        idx = n - 1;
    return (double)v[idx] / 1000.0;
}

/* ------------------------------------------------------------------ */
/* one run: produce then consume                                       */

#define TEXT_SIZE ((size_t)1 << 20)

/* Deterministic English-like filler (words and digits). */
static void fill_text(unsigned char *p, size_t n)
{
    static const char *words[] = {"kafka ",  "sluice ",    "record ", "batch ",  "offset ",
                                  "topic ",  "partition ", "leader ", "replica ", "commit\n"};
    uint32_t x = 2463534242u;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const char *w = words[x % 10];
        for (; *w && i < n; w++)
            p[i++] = (unsigned char)*w;
        if (i < n && (x >> 8) % 3 == 0)
            p[i++] = (unsigned char)('0' + (x >> 12) % 10);
    }
}

static int run_produce(struct target *t, const struct opts *o, const struct scenario *sc,
                       const char *topic, struct result *r, char *err, size_t errlen)
{
    struct client_ctx cc = { .target = t->name, .verbose = o->verbose, .stats_tx_bytes = -1 };
    const char *codec = sc_codec(sc, o);
    int compressing = strcmp(codec, "none") != 0;
    char e[512];
    char num[32];
    int rc = -1;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    unsigned char *payload = NULL, *text = NULL;
    int64_t deadline = now_us() + (int64_t)o->timeout_s * 1000000;

    cc.enq_us = calloc((size_t)r->records, sizeof *cc.enq_us);
    cc.lat_us = calloc((size_t)r->records, sizeof *cc.lat_us);
    payload = malloc((size_t)sc->record_size);
    if (!cc.enq_us || !cc.lat_us || !payload) {
        errf(err, errlen, "out of memory for %ld records", r->records);
        goto out;
    }
    /* Record values are windows into 1 MiB of word salad at a different
     * offset each, so batches compress roughly like text (about 3x with
     * lz4/zstd), not like one value repeated 10000 times. */
    text = malloc(TEXT_SIZE);
    if (!text) {
        errf(err, errlen, "out of memory");
        goto out;
    }
    fill_text(text, TEXT_SIZE);

    rd_kafka_conf_t *conf = base_conf(t->bootstrap, &cc, e, sizeof e);
    snprintf(num, sizeof num, "%d", o->timeout_s * 1000);
    if (!conf ||
        rd_kafka_conf_set(conf, "acks", sc->acks, e, sizeof e) ||
        rd_kafka_conf_set(conf, "linger.ms", "5", e, sizeof e) ||
        rd_kafka_conf_set(conf, "batch.num.messages", "10000", e, sizeof e) ||
        rd_kafka_conf_set(conf, "message.timeout.ms", num, e, sizeof e) ||
        rd_kafka_conf_set(conf, "compression.codec", codec, e, sizeof e) ||
        /* Statistics only where they are used: whether batches really
         * went out compressed (bytes on the wire vs bytes of values). */
        (compressing && rd_kafka_conf_set(conf, "statistics.interval.ms", "250", e, sizeof e))) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        errf(err, errlen, "producer config: %s", e);
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    if (compressing)
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        errf(err, errlen, "producer: %s", e);
        goto out;
    }

    /* Topic set-up is not timed: it is a one-off, not the steady state. */
    if (t->kind == T_MOCK) {
        rd_kafka_resp_err_t me = rd_kafka_mock_topic_create(t->mcluster, topic, sc->partitions, 1);
        if (me) {
            errf(err, errlen, "mock_topic_create: %s", rd_kafka_err2str(me));
            goto out;
        }
    } else if (admin_create_topic(rk, topic, sc->partitions,
                                  o->timeout_s * 1000 / 2 < 10000 ? o->timeout_s * 1000 / 2 : 10000,
                                  e, sizeof e)) {
        fprintf(stderr, "  [%s] %s; relying on auto-create\n", t->name, e);
    }
    r->partitions = wait_topic(rk, topic, deadline, err, errlen);
    if (r->partitions < 0)
        goto out;
    if (r->partitions > MAX_PARTITIONS) {
        errf(err, errlen, "topic has %d partitions, more than %d", r->partitions, MAX_PARTITIONS);
        goto out;
    }
    if (r->partitions != sc->partitions)
        snprintf(r->note, sizeof r->note, "topic has %d partitions, wanted %d",
                 r->partitions, sc->partitions);

    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt) {
        errf(err, errlen, "rd_kafka_topic_new: %s", rd_kafka_err2str(rd_kafka_last_error()));
        goto out;
    }

    for (int p = 0; p < r->partitions; p++) {
        unsigned char mark[8];
        put_le64(mark, WARMUP_MARK);
        rd_kafka_resp_err_t pe = rd_kafka_producev(
            rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(p), RD_KAFKA_V_VALUE(mark, sizeof mark),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void *)WARMUP_SEQ),
            RD_KAFKA_V_END);
        if (pe) {
            errf(err, errlen, "warm-up produce to partition %d: %s", p, rd_kafka_err2str(pe));
            goto out;
        }
    }
    while (rd_kafka_outq_len(rk) > 0 && now_us() < deadline)
        rd_kafka_flush(rk, 100);
    if (cc.warmup_done != r->partitions) {
        errf(err, errlen, "warm-up: %ld of %d records delivered%s", cc.warmup_done, r->partitions,
             cc.warmup_failed ? "" : " before timeout");
        goto out;
    }

    int64_t t0 = now_us();
    for (long seq = 0; seq < r->records;) {
        memcpy(payload, text + ((size_t)seq * 7919u) % (TEXT_SIZE - (size_t)sc->record_size),
               (size_t)sc->record_size);
        put_le64(payload, (uint64_t)seq);
        cc.enq_us[seq] = now_us();
        rd_kafka_resp_err_t pe = rd_kafka_producev(
            rk, RD_KAFKA_V_RKT(rkt),
            /* Explicit round-robin spreads load evenly and deterministically. */
            RD_KAFKA_V_PARTITION((int32_t)(seq % r->partitions)),
            RD_KAFKA_V_VALUE(payload, (size_t)sc->record_size),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
        if (pe == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 5);
            if (now_us() > deadline) {
                errf(err, errlen, "timeout: producer queue still full after %ds (%ld enqueued, %ld delivered)",
                     o->timeout_s, seq, cc.delivered);
                goto out;
            }
            continue;
        }
        if (pe) {
            errf(err, errlen, "produce #%ld: %s", seq, rd_kafka_err2str(pe));
            goto out;
        }
        seq++;
        if ((seq & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0 && now_us() < deadline)
        rd_kafka_flush(rk, 100);
    int64_t t1 = cc.last_dr_us ? cc.last_dr_us : now_us();

    r->delivered = cc.delivered;
    r->failed = cc.failed;
    r->prod_secs = (double)(t1 - t0) / 1e6;
    if (r->prod_secs > 0) {
        r->prod_msgs_s = (double)cc.delivered / r->prod_secs;
        r->prod_mb_s = (double)cc.delivered * sc->record_size / r->prod_secs / 1e6;
    }
    if (compressing) {
        /* Wait for statistics taken after the last delivery (at most two
         * intervals) so tx_bytes covers every batch. */
        int64_t done_us = now_us(), until = done_us + 600 * 1000;
        while (cc.stats_at_us <= done_us && now_us() < until)
            rd_kafka_poll(rk, 50);
        r->tx_bytes = cc.stats_at_us > done_us ? cc.stats_tx_bytes : -1;
        if (cc.compression_logs) {
            size_t len = strlen(r->note);
            snprintf(r->note + len, sizeof r->note - len, "%slibrdkafka: %s", len ? "; " : "",
                     cc.compression_log);
        }
    }
    qsort(cc.lat_us, (size_t)cc.n_lat, sizeof *cc.lat_us, cmp_i64);
    r->p50_ms = pct_ms(cc.lat_us, cc.n_lat, 0.50);
    r->p99_ms = pct_ms(cc.lat_us, cc.n_lat, 0.99);
    r->p999_ms = pct_ms(cc.lat_us, cc.n_lat, 0.999);

    if (rd_kafka_outq_len(rk) > 0) {
        errf(err, errlen, "timeout: %d messages still in flight after %ds (%ld delivered)",
             rd_kafka_outq_len(rk), o->timeout_s, cc.delivered);
        goto out;
    }
    if (cc.failed) {
        errf(err, errlen, "%ld of %ld records failed delivery, first error: %s",
             cc.failed, r->records, rd_kafka_err2str(cc.first_err));
        goto out;
    }
    if (cc.delivered != r->records) {
        errf(err, errlen, "only %ld of %ld records delivered", cc.delivered, r->records);
        goto out;
    }
    rc = 0;
out:
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rk) {
        /* Undelivered messages would make destroy wait; purge them so a
         * failed run cannot hang the benchmark. */
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk, 0);
        rd_kafka_destroy(rk);
    }
    free(cc.enq_us);
    free(cc.lat_us);
    free(payload);
    free(text);
    return rc;
}

static int run_consume(struct target *t, const struct opts *o, const struct scenario *sc,
                       const char *topic, struct result *r, char *err, size_t errlen)
{
    struct client_ctx cc = { .target = t->name, .verbose = o->verbose };
    char e[512];
    int rc = -1;
    int started = 0;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_queue_t *q = NULL;
    unsigned char *seen = NULL;
    int64_t lo[MAX_PARTITIONS], hi[MAX_PARTITIONS], next[MAX_PARTITIONS];
    int64_t deadline = now_us() + (int64_t)o->timeout_s * 1000000;
    int P = r->partitions;
    long msg_errors = 0;
    long warmups = 0;

    seen = calloc((size_t)r->records / 8 + 1, 1);
    if (!seen) {
        errf(err, errlen, "out of memory");
        goto out;
    }
    rd_kafka_conf_t *conf = base_conf(t->bootstrap, &cc, e, sizeof e);
    if (!conf || rd_kafka_conf_set(conf, "enable.partition.eof", "false", e, sizeof e)) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        errf(err, errlen, "consumer config: %s", e);
        goto out;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        errf(err, errlen, "consumer: %s", e);
        goto out;
    }

    /* The watermarks say where each partition ends, so the consumer stops
     * on offsets, not on counting (duplicates cannot fool it).  A low
     * watermark above 0 means the broker already dropped data. */
    r->retained = 0;
    for (int p = 0; p < P; p++) {
        int64_t left_ms = (deadline - now_us()) / 1000;
        rd_kafka_resp_err_t we = rd_kafka_query_watermark_offsets(
            rk, topic, p, &lo[p], &hi[p], left_ms > 10000 ? 10000 : (int)(left_ms > 0 ? left_ms : 1));
        if (we) {
            errf(err, errlen, "ListOffsets %s[%d]: %s", topic, p, rd_kafka_err2str(we));
            goto out;
        }
        next[p] = lo[p];
        r->retained += hi[p] - lo[p];
    }

    /* The legacy per-partition API consumes without any group: no
     * coordinator, no commits, just Fetch from the log start. */
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    q = rd_kafka_queue_new(rk);
    if (!rkt || !q) {
        errf(err, errlen, "consumer topic/queue: %s", rd_kafka_err2str(rd_kafka_last_error()));
        goto out;
    }
    int64_t t0 = now_us();
    for (int p = 0; p < P; p++) {
        /* Start at the low watermark just queried rather than at
         * OFFSET_BEGINNING: the same offset, but librdkafka would resolve
         * the logical offset again, and it sometimes schedules that
         * ListOffsets 500 ms late, which would be charged to the broker. */
        if (rd_kafka_consume_start_queue(rkt, p, lo[p], q) == -1) {
            errf(err, errlen, "consume_start %s[%d]: %s", topic, p,
                 rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        started = p + 1;
    }

    rd_kafka_message_t *batch[1024];
    int64_t t_first = 0, t_last = t0;
    for (;;) {
        int done = 1;
        for (int p = 0; p < P; p++)
            if (next[p] < hi[p])
                done = 0;
        if (done)
            break;
        if (now_us() > deadline) {
            errf(err, errlen, "timeout: consumed %ld of %ld records in %ds",
                 r->consumed, r->retained, o->timeout_s);
            goto out;
        }
        /* The batch call waits until the batch is full or the timeout hits,
         * which would add up to a timeout per partial batch; so take what is
         * there, and block only for a single message when nothing is. */
        ssize_t n = rd_kafka_consume_batch_queue(q, 0, batch, 1024);
        if (n < 0) {
            errf(err, errlen, "consume_batch_queue: %s", rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        if (n == 0) {
            batch[0] = rd_kafka_consume_queue(q, 100);
            n = batch[0] ? 1 : 0;
        }
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && msg_errors++ < 5)
                    fprintf(stderr, "  [%s] consume %s[%d]: %s\n", t->name, topic,
                            m->partition, rd_kafka_message_errstr(m));
            } else if (m->len == 8 && get_le64(m->payload) == WARMUP_MARK && m->partition >= 0 &&
                       m->partition < P) {
                warmups++;
                if (m->offset + 1 > next[m->partition])
                    next[m->partition] = m->offset + 1;
            } else if (m->len != (size_t)sc->record_size || m->partition < 0 ||
                       m->partition >= P) {
                errf(err, errlen, "bad record at %s[%d]@%" PRId64 ": %zu bytes, expected %d",
                     topic, m->partition, m->offset, m->len, sc->record_size);
                rd_kafka_message_destroy(m);
                for (ssize_t j = i + 1; j < n; j++)
                    rd_kafka_message_destroy(batch[j]);
                goto out;
            } else {
                uint64_t seq = get_le64(m->payload);
                if (seq >= (uint64_t)r->records || seq % (uint64_t)P != (uint64_t)m->partition) {
                    errf(err, errlen, "record at %s[%d]@%" PRId64 " has sequence %" PRIu64
                         ", not one this run produced there", topic, m->partition, m->offset, seq);
                    rd_kafka_message_destroy(m);
                    for (ssize_t j = i + 1; j < n; j++)
                        rd_kafka_message_destroy(batch[j]);
                    goto out;
                }
                if (seen[seq / 8] & (1u << (seq % 8))) {
                    r->dups++;
                } else {
                    seen[seq / 8] |= (unsigned char)(1u << (seq % 8));
                    r->consumed++;
                }
                if (m->offset + 1 > next[m->partition])
                    next[m->partition] = m->offset + 1;
                t_last = now_us();
                if (!t_first)
                    t_first = t_last;
            }
            rd_kafka_message_destroy(m);
        }
    }
    /* Throughput runs from the first record on: the start-up (ListOffsets,
     * first Fetch) is reported on its own as first_ms. */
    if (t_first) {
        r->first_ms = (double)(t_first - t0) / 1000.0;
        r->cons_secs = (double)(t_last - t_first) / 1e6;
    }
    if (r->cons_secs > 0) {
        r->cons_msgs_s = (double)(r->consumed + r->dups) / r->cons_secs;
        r->cons_mb_s = (double)(r->consumed + r->dups) * sc->record_size / r->cons_secs / 1e6;
    }

    long dropped = 0;
    for (int p = 0; p < P; p++)
        dropped += lo[p];
    if (dropped == 0 && r->consumed != r->records) {
        errf(err, errlen, "read back %ld distinct records of %ld produced", r->consumed, r->records);
        goto out;
    }
    if (dropped > 0) {
        /* The mock keeps only ~5 MiB per partition; Sluice must keep all. */
        size_t len = strlen(r->note);
        snprintf(r->note + len, sizeof r->note - len,
                 "%slog start > 0, broker kept %ld of %ld", len ? "; " : "",
                 r->consumed + r->dups, r->records);
        if (t->kind != T_MOCK) {
            errf(err, errlen, "broker dropped %ld records (log start offset > 0)", dropped);
            goto out;
        }
        if (r->consumed + r->dups + warmups < r->retained) {
            errf(err, errlen, "read back %ld of %ld retained records",
                 r->consumed + r->dups + warmups, r->retained);
            goto out;
        }
    }
    rc = 0;
out:
    for (int p = 0; p < started; p++)
        rd_kafka_consume_stop(rkt, p);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rk)
        rd_kafka_destroy(rk);
    free(seen);
    return rc;
}

/* ------------------------------------------------------------------ */
/* targets                                                             */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void print_log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[4096];
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    fprintf(stderr, "---- tail of %s ----\n%s%s---- end ----\n", path, buf,
            n && buf[n - 1] != '\n' ? "\n" : "");
}

/* Parses "PLAINTEXT <port>" from the port file once it is complete:
 * either newline-terminated or unchanged across two reads. */
static int read_port_file(const char *path, char *prev, size_t prevlen)
{
    char buf[512];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    int complete = (n > 0 && buf[n - 1] == '\n') || (n > 0 && strcmp(buf, prev) == 0);
    snprintf(prev, prevlen, "%s", buf);
    if (!complete)
        return 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        int port = 0;
        if (sscanf(line, "PLAINTEXT %d", &port) == 1 && port > 0 && port < 65536)
            return port;
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Comma-separated absolute paths of the codec_*.so modules built next to
 * `sluiced` (libtool puts them in modules/codec_X/.libs/). */
static void find_codec_modules(const char *sluiced, char *out, size_t outlen)
{
    static const char *names[] = {"codec_gzip", "codec_snappy", "codec_lz4", "codec_zstd"};
    char real[PATH_MAX];
    out[0] = 0;
    if (!realpath(sluiced, real))
        return;
    char *slash = strrchr(real, '/');
    if (!slash)
        return;
    *slash = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%.1000s/modules/%s/.libs/%s.so", real, names[i], names[i]);
        if (access(path, R_OK) != 0)
            continue;
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s%s", len ? "," : "", path);
    }
}

/* Bytes in the segment files (*.log) of every partition directory of
 * `topic` under sluiced's data dir, or -1 when none was found. */
static int64_t sluice_log_bytes(const struct target *t, const char *topic)
{
    char datadir[320];
    snprintf(datadir, sizeof datadir, "%s/data", t->proc.tmpdir);
    DIR *d = opendir(datadir);
    if (!d)
        return -1;
    int64_t total = -1;
    size_t tl = strlen(topic);
    struct dirent *de;
    while ((de = readdir(d))) {
        /* "<topic>-<partition>" */
        if (strncmp(de->d_name, topic, tl) != 0 || de->d_name[tl] != '-' ||
            strspn(de->d_name + tl + 1, "0123456789") != strlen(de->d_name + tl + 1))
            continue;
        char pdir[700];
        snprintf(pdir, sizeof pdir, "%s/%s", datadir, de->d_name);
        DIR *pd = opendir(pdir);
        if (!pd)
            continue;
        struct dirent *fe;
        while ((fe = readdir(pd))) {
            size_t n = strlen(fe->d_name);
            if (n < 5 || strcmp(fe->d_name + n - 4, ".log") != 0)
                continue;
            char fpath[1000];
            struct stat st;
            snprintf(fpath, sizeof fpath, "%s/%s", pdir, fe->d_name);
            if (stat(fpath, &st) == 0)
                total = (total < 0 ? 0 : total) + (int64_t)st.st_size;
        }
        closedir(pd);
    }
    closedir(d);
    return total;
}

static int sluice_start(struct target *t, const struct opts *o, char *err, size_t errlen)
{
    struct sluice_proc *sp = &t->proc;
    char cfg[320], portfile[320], datadir[320];
    const char *tmp = getenv("TMPDIR");

    if (access(o->sluiced, X_OK) != 0) {
        errf(err, errlen, "%s: not executable (%s); build it or pass --sluiced/--skip-sluice",
             o->sluiced, strerror(errno));
        return -1;
    }
    snprintf(sp->tmpdir, sizeof sp->tmpdir, "%s/sluice-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sp->tmpdir)) {
        errf(err, errlen, "mkdtemp %s: %s", sp->tmpdir, strerror(errno));
        sp->tmpdir[0] = 0;
        return -1;
    }
    snprintf(cfg, sizeof cfg, "%s/server.properties", sp->tmpdir);
    snprintf(portfile, sizeof portfile, "%s/port", sp->tmpdir);
    snprintf(datadir, sizeof datadir, "%s/data", sp->tmpdir);
    snprintf(sp->logpath, sizeof sp->logpath, "%s/sluiced.log", sp->tmpdir);
    if (mkdir(datadir, 0700) != 0) {
        errf(err, errlen, "mkdir %s: %s", datadir, strerror(errno));
        return -1;
    }
    FILE *f = fopen(cfg, "w");
    if (!f) {
        errf(err, errlen, "%s: %s", cfg, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# written by bench_kafka\n"
            "listeners=PLAINTEXT://127.0.0.1:0\n"
            "log.dirs=%s\n"
            "num.partitions=16\n"
            "auto.create.topics.enable=true\n",
            datadir);
    /* The codec modules of the build sluiced comes from.  Each sits in
     * its own modules/codec_X/.libs and module.load takes names looked up
     * in the one plugin.dir, so gather symlinks to them in the work dir. */
    char mods[4096] = "", moddir[320];
    snprintf(moddir, sizeof moddir, "%s/modules", sp->tmpdir);
    if (!o->no_modules)
        find_codec_modules(o->sluiced, mods, sizeof mods);
    if (mods[0] && mkdir(moddir, 0700) == 0)
        fprintf(f, "plugin.dir=%s\n", moddir);
    else
        mods[0] = 0;
    for (char *m = mods; *m;) {
        size_t n = strcspn(m, ",");
        char path[1100], link[400];
        snprintf(path, sizeof path, "%.*s", (int)n, m);
        const char *base = strrchr(path, '/') + 1;
        snprintf(link, sizeof link, "%s/%s", moddir, base);
        if (symlink(path, link) == 0)
            fprintf(f, "module.load=%.*s\n", (int)(strlen(base) - 3), base); /* minus ".so" */
        m += n + (m[n] == ',');
    }
    for (int i = 0; i < o->n_extra_cfg; i++)
        fprintf(f, "%s\n", o->extra_cfg[i]);
    snprintf(t->modules, sizeof t->modules, "%s", mods);
    if (fclose(f) != 0) {
        errf(err, errlen, "%s: %s", cfg, strerror(errno));
        return -1;
    }

    char *argv[8];
    int ac = 0;
    argv[ac++] = (char *)o->sluiced;
    if (o->config_flag[0])
        argv[ac++] = (char *)o->config_flag;
    argv[ac++] = cfg;
    argv[ac++] = "--port-file";
    argv[ac++] = portfile;
    argv[ac] = NULL;

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        errf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
#ifdef __linux__
        /* If the benchmark dies (Ctrl-C), the broker must not linger. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        int lf = open(sp->logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nf = open("/dev/null", O_RDONLY);
        if (lf >= 0) {
            dup2(lf, 1);
            dup2(lf, 2);
        }
        if (nf >= 0)
            dup2(nf, 0);
        execv(o->sluiced, argv);
        fprintf(stderr, "exec %s: %s\n", o->sluiced, strerror(errno));
        _exit(127);
    }
    sp->pid = pid;
    t->usable = 0;

    char prev[512] = "";
    int64_t deadline = now_us() + (int64_t)o->start_timeout_s * 1000000;
    while (now_us() < deadline) {
        int port = read_port_file(portfile, prev, sizeof prev);
        if (port > 0) {
            snprintf(t->bootstrap, sizeof t->bootstrap, "127.0.0.1:%d", port);
            t->usable = 1;
            return 0;
        }
        if (waitpid(pid, &sp->status, WNOHANG) == pid) {
            sp->exited = 1;
            print_log_tail(sp->logpath);
            if (WIFEXITED(sp->status))
                errf(err, errlen, "sluiced exited with status %d before listening (log: %s)",
                     WEXITSTATUS(sp->status), sp->logpath);
            else
                errf(err, errlen, "sluiced killed by signal %d before listening (log: %s)",
                     WTERMSIG(sp->status), sp->logpath);
            return -1;
        }
        usleep(50 * 1000);
    }
    print_log_tail(sp->logpath);
    errf(err, errlen, "sluiced wrote no usable port file %s within %ds (log: %s)", portfile,
         o->start_timeout_s, sp->logpath);
    return -1;
}

/* Returns 0 if the daemon is still running. */
static int sluice_check(struct target *t, char *err, size_t errlen)
{
    struct sluice_proc *sp = &t->proc;
    if (sp->pid <= 0 || sp->exited)
        return sp->pid > 0 ? -1 : 0;
    if (waitpid(sp->pid, &sp->status, WNOHANG) == sp->pid) {
        sp->exited = 1;
        errf(err, errlen, "sluiced died (%s %d), log: %s",
             WIFEXITED(sp->status) ? "exit status" : "signal",
             WIFEXITED(sp->status) ? WEXITSTATUS(sp->status) : WTERMSIG(sp->status), sp->logpath);
        print_log_tail(sp->logpath);
        return -1;
    }
    return 0;
}

/* Stops the daemon; returns 0 if it was alive and shut down cleanly. */
static int sluice_stop(struct target *t, const struct opts *o, int keep)
{
    struct sluice_proc *sp = &t->proc;
    int rc = 0;
    if (sp->pid > 0 && !sp->exited) {
        kill(sp->pid, SIGTERM);
        int64_t deadline = now_us() + 10 * 1000000;
        while (!sp->exited && now_us() < deadline) {
            if (waitpid(sp->pid, &sp->status, WNOHANG) == sp->pid)
                sp->exited = 1;
            else
                usleep(20 * 1000);
        }
        if (!sp->exited) {
            fprintf(stderr, "sluiced did not stop within 10s of SIGTERM; killing it\n");
            kill(sp->pid, SIGKILL);
            waitpid(sp->pid, &sp->status, 0);
            sp->exited = 1;
            rc = -1;
        } else if (WIFSIGNALED(sp->status) && WTERMSIG(sp->status) != SIGTERM) {
            fprintf(stderr, "sluiced died from signal %d on shutdown\n", WTERMSIG(sp->status));
            rc = -1;
        }
    } else if (sp->pid > 0) {
        rc = -1; /* it had died earlier */
    }
    if (sp->tmpdir[0]) {
        if (keep || o->keep_tmp || rc) {
            fprintf(stderr, "sluiced work dir kept: %s\n", sp->tmpdir);
        } else {
            nftw(sp->tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        }
    }
    return rc;
}

static int mock_start(struct target *t, char *err, size_t errlen)
{
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A handle of its own: the mock's broker threads live inside it, and no
     * benchmark client shares its queues. */
    rd_kafka_conf_set(conf, "client.id", "sluice-bench-mock", e, sizeof e);
    /* It has no bootstrap.servers on purpose; silence that notice. */
    rd_kafka_conf_set(conf, "log_level", "4", e, sizeof e);
    t->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!t->mock_rk) {
        rd_kafka_conf_destroy(conf);
        errf(err, errlen, "mock handle: %s", e);
        return -1;
    }
    t->mcluster = rd_kafka_mock_cluster_new(t->mock_rk, 1);
    if (!t->mcluster) {
        errf(err, errlen, "rd_kafka_mock_cluster_new failed");
        return -1;
    }
    snprintf(t->bootstrap, sizeof t->bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(t->mcluster));
    t->usable = 1;
    return 0;
}

static void mock_stop(struct target *t)
{
    if (t->mcluster)
        rd_kafka_mock_cluster_destroy(t->mcluster);
    if (t->mock_rk)
        rd_kafka_destroy(t->mock_rk);
    t->mcluster = NULL;
    t->mock_rk = NULL;
}

/* ------------------------------------------------------------------ */
/* output                                                              */

static void print_machine(void)
{
    struct utsname u;
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            char *c = strchr(line, ':');
            if (!strncmp(line, "model name", 10) && c) {
                snprintf(model, sizeof model, "%s", c + 2);
                model[strcspn(model, "\n")] = 0;
                break;
            }
        }
        fclose(f);
    }
    uname(&u);
    printf("machine: %s %s %s, %ld cores online (%s)\n", u.sysname, u.release, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN), model);
    printf("librdkafka: %s (header 0x%08x)\n", rd_kafka_version_str(), RD_KAFKA_VERSION);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(const struct result *v, int n, size_t field)
{
    double xs[MAX_REPEAT];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (v[i].ok)
            xs[k++] = *(const double *)((const char *)&v[i] + field);
    if (k == 0)
        return *(const double *)((const char *)&v[0] + field);
    qsort(xs, (size_t)k, sizeof xs[0], cmp_dbl);
    return k % 2 ? xs[k / 2] : (xs[k / 2 - 1] + xs[k / 2]) / 2;
}

/* Per-metric medians over the successful repetitions; the combined run is
 * ok only if every repetition was. */
static void combine(struct result *out, const struct result *v, int n)
{
    const struct result *base = &v[0];
    for (int i = 0; i < n; i++)
        if (!v[i].ok) {
            base = &v[i];
            break;
        }
    *out = *base;
    out->ok = 1;
    for (int i = 0; i < n; i++)
        out->ok &= v[i].ok;
    static const size_t fields[] = {
        offsetof(struct result, prod_msgs_s), offsetof(struct result, prod_mb_s),
        offsetof(struct result, p50_ms),      offsetof(struct result, p99_ms),
        offsetof(struct result, p999_ms),     offsetof(struct result, cons_msgs_s),
        offsetof(struct result, cons_mb_s),   offsetof(struct result, first_ms),
    };
    if (out->ok || n > 1)
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            *(double *)((char *)out + fields[f]) = median_of(v, n, fields[f]);
}

static void print_header(void)
{
    printf("  %-7s %10s %7s %8s %8s %8s %10s %7s %7s  %s\n", "target", "prod/s", "MB/s", "p50ms",
           "p99ms", "p999ms", "cons/s", "MB/s", "1st ms", "status");
}

static void print_row(const char *name, const struct result *r, const char *err)
{
    if (!r->ok && r->delivered == 0) {
        /* Nothing was measured; zeros would only look like numbers. */
        printf("  %-7s %10s %7s %8s %8s %8s %10s %7s %7s  FAIL: %s\n", name, "-", "-", "-", "-",
               "-", "-", "-", "-", err && *err ? err : "unknown error");
        return;
    }
    printf("  %-7s %10.0f %7.1f %8.2f %8.2f %8.2f %10.0f %7.1f %7.1f  %s", name, r->prod_msgs_s,
           r->prod_mb_s, r->p50_ms, r->p99_ms, r->p999_ms, r->cons_msgs_s, r->cons_mb_s,
           r->first_ms, r->ok ? "ok" : "FAIL");
    if (r->note[0])
        printf(" (%s)", r->note);
    if (!r->ok && err && *err)
        printf(": %s", err);
    printf("\n");
}

/* A ratio, or "-" when either side did not produce a number. */
static const char *ratio_str(char *buf, size_t len, double a, double b)
{
    if (a > 0 && b > 0)
        snprintf(buf, len, "%.2f", a / b);
    else
        snprintf(buf, len, "-");
    return buf;
}

static const char *num_str(char *buf, size_t len, const struct result *r, double v, int decimals)
{
    if (r->ran && v > 0)
        snprintf(buf, len, "%.*f", decimals, v);
    else
        snprintf(buf, len, "-");
    return buf;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "  --sluiced PATH       sluiced binary to start (default ./sluiced)\n"
            "  --config-flag FLAG   option that passes sluiced its config file\n"
            "                       (default --config; \"\" = positional)\n"
            "  --bootstrap H:P      benchmark a running broker instead of starting sluiced\n"
            "  --skip-sluice        only run against the mock cluster\n"
            "  --skip-mock          only run against Sluice\n"
            "  --records N          records per run (default 200000 for 100 B, 100000 for 1 KiB)\n"
            "  --quick              divide record counts by 10\n"
            "  --repeat K           run each scenario K times per target, show medians\n"
            "  --timeout S          bound of each produce/consume phase (default 120)\n"
            "  --start-timeout S    bound for sluiced to start listening (default 30)\n"
            "  --keep-tmp           keep sluiced's work directory\n"
            "  --compression C      compression.codec of the base scenarios: none (default),\n"
            "                       gzip, snappy, lz4, zstd (two lz4/zstd rows always run)\n"
            "  --sluice-config L    extra line for sluiced's config (repeatable), e.g.\n"
            "                       --sluice-config compression.zstd.level=1\n"
            "  --no-modules         don't load the build's codec modules into sluiced\n"
            "  --verbose            librdkafka debug logging\n",
            argv0);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "sluiced", required_argument, 0, 's' },
        { "config-flag", required_argument, 0, 'c' },
        { "bootstrap", required_argument, 0, 'b' },
        { "skip-sluice", no_argument, 0, 'S' },
        { "skip-mock", no_argument, 0, 'M' },
        { "records", required_argument, 0, 'n' },
        { "quick", no_argument, 0, 'q' },
        { "timeout", required_argument, 0, 't' },
        { "start-timeout", required_argument, 0, 'T' },
        { "repeat", required_argument, 0, 'r' },
        { "keep-tmp", no_argument, 0, 'k' },
        { "verbose", no_argument, 0, 'v' },
        { "compression", required_argument, 0, 'C' },
        { "sluice-config", required_argument, 0, 'X' },
        { "no-modules", no_argument, 0, 'N' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 's': o->sluiced = optarg; break;
        case 'c': o->config_flag = optarg; break;
        case 'b': o->bootstrap = optarg; break;
        case 'S': o->skip_sluice = 1; break;
        case 'M': o->skip_mock = 1; break;
        case 'q': o->quick = 1; break;
        case 'k': o->keep_tmp = 1; break;
        case 'v': o->verbose = 1; break;
        case 'N': o->no_modules = 1; break;
        case 'C':
            if (strcmp(optarg, "none") && strcmp(optarg, "gzip") && strcmp(optarg, "snappy") &&
                strcmp(optarg, "lz4") && strcmp(optarg, "zstd")) {
                fprintf(stderr, "--compression: want none, gzip, snappy, lz4 or zstd, got %s\n",
                        optarg);
                return -1;
            }
            o->compression = optarg;
            break;
        case 'X':
            if (o->n_extra_cfg == (int)(sizeof o->extra_cfg / sizeof o->extra_cfg[0]) ||
                strchr(optarg, '\n') || !strchr(optarg, '=')) {
                fprintf(stderr, "--sluice-config: want at most 32 single KEY=VALUE lines, got %s\n",
                        optarg);
                return -1;
            }
            o->extra_cfg[o->n_extra_cfg++] = optarg;
            break;
        case 'n':
            o->records = strtol(optarg, &end, 10);
            if (*end || o->records < 1 || o->records > 100000000) {
                fprintf(stderr, "--records: want 1..100000000, got %s\n", optarg);
                return -1;
            }
            break;
        case 'r':
            o->repeat = (int)strtol(optarg, &end, 10);
            if (*end || o->repeat < 1 || o->repeat > MAX_REPEAT) {
                fprintf(stderr, "--repeat: want 1..%d, got %s\n", MAX_REPEAT, optarg);
                return -1;
            }
            break;
        case 't':
        case 'T': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 86400) {
                fprintf(stderr, "--%s: want 1..86400 seconds, got %s\n",
                        c == 't' ? "timeout" : "start-timeout", optarg);
                return -1;
            }
            if (c == 't')
                o->timeout_s = (int)v;
            else
                o->start_timeout_s = (int)v;
            break;
        }
        case 'h': usage(stdout, argv[0]); exit(0);
        default: usage(stderr, argv[0]); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
        return -1;
    }
    if (o->skip_sluice && o->skip_mock) {
        fprintf(stderr, "--skip-sluice and --skip-mock leave nothing to run\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .sluiced = "./sluiced", .config_flag = "--config",
                      .timeout_s = 120, .start_timeout_s = 30, .repeat = 1,
                      .compression = "none" };
    /* The eight base scenarios use --compression (default none); the last
     * two always compress, with the codecs librdkafka can use against
     * Sluice (see the README). */
    static const struct scenario scenarios[] = {
        { 1024, "1", 1, NULL },  { 1024, "1", 16, NULL },  { 1024, "all", 1, NULL },
        { 1024, "all", 16, NULL }, { 100, "1", 1, NULL },  { 100, "1", 16, NULL },
        { 100, "all", 1, NULL },  { 100, "all", 16, NULL },
        { 1024, "1", 1, "lz4" },  { 1024, "1", 1, "zstd" },
    };
    enum { NSC = sizeof scenarios / sizeof scenarios[0] };
    struct target targets[2] = {
        { .name = "sluice", .kind = T_SLUICE },
        { .name = "mock", .kind = T_MOCK },
    };
    struct result res[NSC][2];
    struct result reps[2][MAX_REPEAT];
    char errs[NSC][2][512];
    char err[512];
    int failures = 0;

    if (parse_opts(argc, argv, &o))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    memset(res, 0, sizeof res);
    memset(errs, 0, sizeof errs);

    /* Topic names unique per run so a reused --bootstrap broker never
     * serves records from an earlier run. */
    unsigned runid = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);

    print_machine();
    targets[0].enabled = !o.skip_sluice;
    targets[1].enabled = !o.skip_mock;
    if (targets[0].enabled) {
        if (o.bootstrap) {
            targets[0].kind = T_EXTERNAL;
            snprintf(targets[0].bootstrap, sizeof targets[0].bootstrap, "%s", o.bootstrap);
            targets[0].usable = 1;
            printf("sluice: running broker at %s\n", o.bootstrap);
        } else if (sluice_start(&targets[0], &o, err, sizeof err)) {
            fprintf(stderr, "sluice: %s\n", err);
            failures++;
        } else {
            printf("sluice: %s (pid %d) listening on %s, work dir %s\n", o.sluiced,
                   (int)targets[0].proc.pid, targets[0].bootstrap, targets[0].proc.tmpdir);
            printf("sluice: module.load=%s\n",
                   targets[0].modules[0] ? targets[0].modules : "(none: no codec modules found)");
        }
    }
    if (targets[1].enabled) {
        if (mock_start(&targets[1], err, sizeof err)) {
            fprintf(stderr, "mock: %s\n", err);
            failures++;
        } else {
            printf("mock: librdkafka mock cluster (1 broker, in-process) at %s\n", targets[1].bootstrap);
        }
    }
    printf("producer: linger.ms=5 batch.num.messages=10000, compression.codec=%s (last two "
           "scenarios: lz4, zstd); latency = enqueue -> delivery report\n", o.compression);
    fflush(stdout);

    for (int s = 0; s < NSC; s++) {
        const struct scenario *sc = &scenarios[s];
        long n = o.records ? o.records : (sc->record_size >= 1024 ? 100000 : 200000);
        if (o.quick)
            n = n / 10 > 0 ? n / 10 : 1;
        printf("\n== %s records, acks=%s, %d partition%s, %ld records, compression %s ==\n",
               sc->record_size >= 1024 ? "1 KiB" : "100 B", sc->acks, sc->partitions,
               sc->partitions == 1 ? "" : "s", n, sc_codec(sc, &o));
        print_header();
        fflush(stdout);
        /* Repetitions alternate the targets so that drift of the machine
         * (other load, page cache) hits both alike. */
        for (int rep = 0; rep < o.repeat; rep++) {
            for (int ti = 0; ti < 2; ti++) {
                struct target *t = &targets[ti];
                struct result *r = &reps[ti][rep];
                char e[512] = "";
                char topic[128];
                if (!t->enabled)
                    continue;
                memset(r, 0, sizeof *r);
                r->tx_bytes = r->log_bytes = -1;
                r->ran = 1;
                r->records = n;
                if (!t->usable) {
                    snprintf(e, sizeof e, "target not available (see earlier errors)");
                } else if (t->kind == T_SLUICE && sluice_check(t, e, sizeof e)) {
                    t->usable = 0;
                } else {
                    snprintf(topic, sizeof topic, "bench-%08x-%s-acks%s-p%d-%s-r%d", runid,
                             sc->record_size >= 1024 ? "1k" : "100b", sc->acks, sc->partitions,
                             sc_codec(sc, &o), rep);
                    if (run_produce(t, &o, sc, topic, r, e, sizeof e) == 0 &&
                        run_consume(t, &o, sc, topic, r, e, sizeof e) == 0)
                        r->ok = 1;
                    check_compression(t, &o, sc, topic, r);
                }
                if (!r->ok && !errs[s][ti][0])
                    snprintf(errs[s][ti], sizeof errs[s][ti], "%s", e);
                if (!r->ok && r->delivered == 0 && t->usable) {
                    /* Not one record got through: the target is down or
                     * unusable, and every further run would just wait out
                     * its timeout. */
                    t->usable = 0;
                    fprintf(stderr, "  [%s] nothing delivered; skipping this target from now on\n",
                            t->name);
                }
                if (o.repeat > 1) {
                    char label[32];
                    snprintf(label, sizeof label, "%s/%d", t->name, rep + 1);
                    print_row(label, r, e);
                    fflush(stdout);
                }
            }
        }
        for (int ti = 0; ti < 2; ti++) {
            if (!targets[ti].enabled)
                continue;
            combine(&res[s][ti], reps[ti], o.repeat);
            if (!res[s][ti].ok)
                failures++;
            print_row(targets[ti].name, &res[s][ti], errs[s][ti]);
            fflush(stdout);
        }
        if (targets[0].enabled && targets[1].enabled) {
            char r1[16], r2[16], r3[16];
            printf("  %-7s %10s %7s %8s %8s %8s %10s   (sluice/mock)\n", "ratio",
                   ratio_str(r1, sizeof r1, res[s][0].prod_msgs_s, res[s][1].prod_msgs_s), "", "",
                   ratio_str(r2, sizeof r2, res[s][0].p99_ms, res[s][1].p99_ms), "",
                   ratio_str(r3, sizeof r3, res[s][0].cons_msgs_s, res[s][1].cons_msgs_s));
        }
        fflush(stdout);
    }

    if (targets[0].enabled && targets[0].kind == T_SLUICE) {
        if (sluice_stop(&targets[0], &o, failures > 0))
            failures++;
    }
    mock_stop(&targets[1]);

    printf("\n== summary (msgs/s; ratio = sluice/mock) ==\n");
    printf("  %-29s %10s %10s %7s %9s %9s %7s %10s %10s %7s\n", "scenario", "prod sl", "prod mock",
           "ratio", "p99 sl", "p99 mock", "ratio", "cons sl", "cons mock", "ratio");
    for (int s = 0; s < NSC; s++) {
        const struct scenario *sc = &scenarios[s];
        char label[64];
        const struct result *a = &res[s][0], *b = &res[s][1];
        snprintf(label, sizeof label, "%s acks=%s p=%d%s%s",
                 sc->record_size >= 1024 ? "1KiB" : "100B", sc->acks, sc->partitions,
                 strcmp(sc_codec(sc, &o), "none") ? " " : "",
                 strcmp(sc_codec(sc, &o), "none") ? sc_codec(sc, &o) : "");
        char v[9][24];
        printf("  %-29s %10s %10s %7s %9s %9s %7s %10s %10s %7s\n", label,
               num_str(v[0], 24, a, a->prod_msgs_s, 0), num_str(v[1], 24, b, b->prod_msgs_s, 0),
               ratio_str(v[2], 24, a->prod_msgs_s, b->prod_msgs_s),
               num_str(v[3], 24, a, a->p99_ms, 2), num_str(v[4], 24, b, b->p99_ms, 2),
               ratio_str(v[5], 24, a->p99_ms, b->p99_ms),
               num_str(v[6], 24, a, a->cons_msgs_s, 0), num_str(v[7], 24, b, b->cons_msgs_s, 0),
               ratio_str(v[8], 24, a->cons_msgs_s, b->cons_msgs_s));
    }
    printf("\n%s: %d failure%s\n", failures ? "FAIL" : "OK", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
