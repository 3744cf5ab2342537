#include "group/offsets_topic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/group_records.h"
#include "group/partitioner.h"
#include "plugin/module_loader.h"
#include "storage/batch_builder.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"

struct broker_topic *offsets_topic_ensure(struct broker *b, int16_t *err)
{
    struct broker_topic *t = broker_topic(b, OFFSETS_TOPIC);
    if (t)
        return t;
    /* Kafka's GroupCoordinator.offsetsTopicConfigs on top of the compacted
     * internal topic (cleanup.policy=compact, segment.bytes from
     * offsets.topic.segment.bytes): the coordinator's batches are stored as
     * written.  The log cleaner keeps the latest commit of every
     * group/partition and the latest group metadata. */
    static const struct kv extra[] = { { "compression.type", "producer" } };
    char msg[256];
    *err = broker_create_internal_topic(b, OFFSETS_TOPIC, b->cfg->offsets_topic_num_partitions,
                                        b->cfg->offsets_topic_replication_factor,
                                        b->cfg->offsets_topic_segment_bytes, extra,
                                        sizeof extra / sizeof extra[0], msg, sizeof msg);
    if (*err) {
        slog(b->log, SLOG_ERROR, "group", "cannot create %s: %s (%s)", OFFSETS_TOPIC,
             kp_error_name(*err), msg);
        return NULL;
    }
    return broker_topic(b, OFFSETS_TOPIC);
}

int32_t offsets_topic_partition_for(struct broker *b, const char *group_id)
{
    struct broker_topic *t = broker_topic(b, OFFSETS_TOPIC);
    return group_partition_for(group_id, t ? t->nparts : b->cfg->offsets_topic_num_partitions);
}

/* ---- the coordinator's writer ----------------------------------------- */

struct flush_wait {
    gc_write_done done;
    void *ud;
};

static void flushed(void *ud, int err)
{
    struct flush_wait *fw = ud;
    fw->done(fw->ud, err ? KP_ERR_KAFKA_STORAGE_ERROR : KP_ERR_NONE);
    free(fw);
}

static int16_t append(void *ctx, const char *group_id, const struct gc_record *recs, size_t n,
                      gc_write_done done, void *ud)
{
    struct broker *b = ctx;
    int16_t err = KP_ERR_NONE;
    if (!offsets_topic_ensure(b, &err))
        return err;
    int32_t p = offsets_topic_partition_for(b, group_id);
    struct partition_log *pl = broker_partition(b, OFFSETS_TOPIC, p, &err);
    if (!pl)
        return err;
    int64_t now = broker_now_ms(b);
    struct batch_builder bb;
    batch_builder_init(&bb);
    for (size_t i = 0; i < n; i++)
        batch_builder_add(&bb, now, recs[i].key, recs[i].klen, recs[i].value,
                          recs[i].value ? recs[i].vlen : -1);
    size_t len;
    uint8_t *batch = batch_builder_finish(&bb, 0, -1, -1, &len);
    if (!batch)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    struct plog_append_result res;
    memset(&res, 0, sizeof res);
    plog_append_ex(pl, batch, len, 0, now, module_registry_decompress, b->modules, 0, &res);
    free(batch);
    if (res.error) {
        slog(b->log, SLOG_WARN, "group", "%s-%d: append refused: %s (%s)", OFFSETS_TOPIC, p,
             kp_error_name(res.error), res.errmsg);
        return res.error;
    }
    broker_fetch_wake(b);
    if (!res.need_flush) {
        done(ud, KP_ERR_NONE);
        return KP_ERR_NONE;
    }
    struct flush_wait *fw = malloc(sizeof *fw);
    if (!fw)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    fw->done = done;
    fw->ud = ud;
    if (plog_flush(pl, flushed, fw) < 0) {
        free(fw);
        return KP_ERR_KAFKA_STORAGE_ERROR;
    }
    return KP_ERR_NONE;
}

/* ---- loading ------------------------------------------------------------ */

static int load_batch(struct broker *b, const uint8_t *batch, size_t size, int64_t from,
                      int64_t *next, const char *where)
{
    struct rb_header h;
    if (rb_header_decode(batch, size, &h) < 0)
        return -1;
    *next = h.base_offset + h.last_offset_delta + 1;
    /* Control batches carry no records to apply; transactional offset
     * commits (TxnOffsetCommit) are not written by this broker yet. */
    if (h.attributes & (RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL))
        return 0;
    struct rb_iter it;
    if (rb_iter_init(&it, batch, size, module_registry_decompress, b->modules) != 0)
        return -1;
    struct rb_record rec;
    struct kp_arena a;
    kp_arena_init(&a);
    while (rb_iter_next(&it, &rec)) {
        if (rec.offset < from)
            continue;
        struct grec gr;
        if (grec_decode(rec.key, rec.key_len, rec.value, rec.value_len, &a, &gr) < 0) {
            slog(b->log, SLOG_WARN, "group", "%s offset %lld: record does not decode as a "
                 "group coordinator record; skipped", where, (long long)rec.offset);
        } else if (gc_load_record(b->groups, &gr) < 0) {
            kp_arena_free(&a);
            rb_iter_free(&it);
            return -1;
        }
        kp_arena_free(&a);
        kp_arena_init(&a);
    }
    kp_arena_free(&a);
    int rc = it.err ? -1 : 0;
    rb_iter_free(&it);
    return rc;
}

/* Replays one partition (start-up, before the listener opens). */
static int load_partition(struct broker *b, struct partition_log *pl, int32_t p)
{
    char where[64];
    snprintf(where, sizeof where, "%s-%d", OFFSETS_TOPIC, p);
    int64_t offset = plog_log_start_offset(pl), end = plog_high_watermark(pl);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (offset < end && rc == 0) {
        struct plog_read_result rr;
        memset(&rr, 0, sizeof rr);
        plog_read(pl, offset, 1 << 20, end, &rr);
        if (rr.error || rr.bytes == 0) {
            slog(b->log, SLOG_ERROR, "group", "%s: read at offset %lld failed (%s)", where,
                 (long long)offset, kp_error_name(rr.error));
            rc = -1;
            break;
        }
        if (rr.bytes > cap) {
            uint8_t *nb = realloc(buf, rr.bytes);
            if (!nb) {
                rc = -1;
                break;
            }
            buf = nb;
            cap = rr.bytes;
        }
        size_t got = 0;
        for (int i = 0; i < rr.nspans && rc == 0; i++) {
            ssize_t n = pread(rr.spans[i].fd, buf + got, rr.spans[i].len, rr.spans[i].off);
            if (n != (ssize_t)rr.spans[i].len)
                rc = -1;
            else
                got += (size_t)n;
        }
        int64_t before = offset;
        for (size_t pos = 0; pos < got && rc == 0;) {
            size_t sz = rb_batch_size(buf + pos, got - pos);
            if (sz == 0 || sz > got - pos)
                break;
            int64_t next = offset;
            if (load_batch(b, buf + pos, sz, offset, &next, where) < 0) {
                slog(b->log, SLOG_ERROR, "group", "%s: cannot load the batch at offset %lld",
                     where, (long long)offset);
                rc = -1;
            }
            if (next > offset)
                offset = next;
            pos += sz;
        }
        if (rc == 0 && offset == before) {
            rc = -1;
            slog(b->log, SLOG_ERROR, "group", "%s: no progress at offset %lld", where,
                 (long long)offset);
        }
    }
    free(buf);
    return rc;
}

/* ---- topic metadata for KIP-848 groups ---------------------------------- */

static void fill_info(const struct broker_topic *t, struct gc_topic_info *out)
{
    memcpy(out->id, t->id.b, 16);
    out->name = t->name;
    out->nparts = t->nparts;
    out->internal = !strcmp(t->name, OFFSETS_TOPIC) || !strcmp(t->name, "__transaction_state") ||
                    !strcmp(t->name, "__share_group_state");
}

static bool meta_by_name(void *ctx, const char *name, struct gc_topic_info *out)
{
    struct broker_topic *t = broker_topic(ctx, name);
    if (t)
        fill_info(t, out);
    return t != NULL;
}

static bool meta_by_id(void *ctx, const uint8_t id[16], struct gc_topic_info *out)
{
    struct kp_uuid u;
    memcpy(u.b, id, 16);
    struct broker_topic *t = broker_topic_by_id(ctx, &u);
    if (t)
        fill_info(t, out);
    return t != NULL;
}

static bool meta_next(void *ctx, size_t *it, struct gc_topic_info *out)
{
    struct broker *b = ctx;
    void *v;
    if (!strmap_next(&b->topics, it, NULL, &v))
        return false;
    fill_info(v, out);
    return true;
}

/* Consumer-protocol groups need their assignor modules.  Asked for in the
 * config, a missing one stops start-up (better than failing every
 * ConsumerGroupHeartbeat); left at the defaults, the protocol is switched
 * off with a warning so a broker loading no assignor still serves classic
 * groups, and ApiVersions stops advertising ConsumerGroupHeartbeat. */
static int enable_consumer_protocol(struct broker *b, struct group_coordinator *gc, char *err,
                                    size_t errlen)
{
    const struct sluice_strlist *protos = &b->cfg->group_rebalance_protocols;
    bool wanted = protos->n == 0; /* unset list: Kafka's default has "consumer" */
    for (size_t i = 0; i < protos->n; i++)
        wanted = wanted || strcmp(protos->items[i], "consumer") == 0;
    gc->consumer_protocol = false;
    if (!wanted)
        return 0;
    if (gc_check_assignors(gc, err, errlen) == 0) {
        gc->consumer_protocol = true;
        return 0;
    }
    struct sluice_config_entry protocols, assignors;
    if (sluice_config_describe_key(b->cfg, "group.coordinator.rebalance.protocols", &protocols) ||
        sluice_config_describe_key(b->cfg, "group.consumer.assignors", &assignors) ||
        !protocols.is_default || !assignors.is_default)
        return -1;
    slog(b->log, SLOG_WARN, "group",
         "the consumer group protocol (KIP-848) is off: %s; classic groups are served", err);
    err[0] = '\0';
    return 0;
}

int offsets_topic_start(struct broker *b, char *err, size_t errlen)
{
    struct group_coordinator *gc = calloc(1, sizeof *gc);
    if (!gc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct gc_config cfg;
    gc_config_default(&cfg);
    cfg.min_session_timeout_ms = b->cfg->group_min_session_timeout_ms;
    cfg.max_session_timeout_ms = b->cfg->group_max_session_timeout_ms;
    cfg.max_size = b->cfg->group_max_size;
    cfg.initial_rebalance_delay_ms = b->cfg->group_initial_rebalance_delay_ms;
    cfg.offsets_retention_ms = (int64_t)b->cfg->offsets_retention_minutes * 60000;
    cfg.retention_check_interval_ms = b->cfg->offsets_retention_check_interval_ms;
    cfg.offset_metadata_max_bytes = b->cfg->offset_metadata_max_bytes;
    cfg.consumer_session_timeout_ms = b->cfg->group_consumer_session_timeout_ms;
    cfg.consumer_heartbeat_interval_ms = b->cfg->group_consumer_heartbeat_interval_ms;
    cfg.consumer_max_size = b->cfg->group_consumer_max_size;
    cfg.consumer_assignors = b->cfg->group_consumer_assignors;
    struct gc_writer w = { append, b };
    gc_init(gc, b->loop, b->log, &cfg, &w);
    gc->meta = (struct gc_metadata){ meta_by_name, meta_by_id, meta_next, b };
    gc->modules = b->modules;
    b->groups = gc;
    if (enable_consumer_protocol(b, gc, err, errlen) < 0)
        return -1;
    struct broker_topic *t = broker_topic(b, OFFSETS_TOPIC);
    if (t) {
        int64_t t0 = broker_now_ms(b);
        for (int32_t p = 0; p < t->nparts; p++) {
            if (t->logs[p] && load_partition(b, t->logs[p], p) < 0) {
                snprintf(err, errlen, "cannot load %s-%d", OFFSETS_TOPIC, p);
                return -1;
            }
        }
        slog(b->log, SLOG_INFO, "group", "loaded %zu groups from %s in %lld ms",
             gc->groups.count, OFFSETS_TOPIC, (long long)(broker_now_ms(b) - t0));
    }
    gc_start(gc);
    return 0;
}

void offsets_topic_stop(struct broker *b)
{
    if (!b->groups)
        return;
    gc_shutdown(b->groups);
}
