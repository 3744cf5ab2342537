#include "group/offsets_topic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/internal_log.h"
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

/* producer_id >= 0: a transactional batch (TxnOffsetCommit). */
static int16_t append_batch(struct broker *b, const char *group_id, const struct gc_record *recs,
                            size_t n, int64_t producer_id, int16_t producer_epoch,
                            gc_write_done done, void *ud)
{
    int16_t err = KP_ERR_NONE;
    if (!offsets_topic_ensure(b, &err))
        return err;
    int32_t p = offsets_topic_partition_for(b, group_id);
    struct partition_log *pl = broker_partition(b, OFFSETS_TOPIC, p, &err);
    if (!pl)
        return err;
    char where[64];
    snprintf(where, sizeof where, "%s-%d", OFFSETS_TOPIC, p);
    struct internal_record *ir = calloc(n ? n : 1, sizeof *ir);
    if (!ir)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    for (size_t i = 0; i < n; i++)
        ir[i] = (struct internal_record){ recs[i].key, recs[i].klen, recs[i].value, recs[i].vlen };
    err = internal_log_append(b, pl, "group", where, ir, n, producer_id, producer_epoch, done, ud);
    free(ir);
    return err;
}

static int16_t append(void *ctx, const char *group_id, const struct gc_record *recs, size_t n,
                      gc_write_done done, void *ud)
{
    return append_batch(ctx, group_id, recs, n, -1, -1, done, ud);
}

static int16_t append_txn(void *ctx, const char *group_id, const struct gc_record *recs, size_t n,
                          int64_t producer_id, int16_t producer_epoch, gc_write_done done,
                          void *ud)
{
    return append_batch(ctx, group_id, recs, n, producer_id, producer_epoch, done, ud);
}

/* ---- loading ------------------------------------------------------------ */

/* A control batch: its one record's key is (version, type), type 0 abort
 * and 1 commit (Kafka's ControlRecordType). */
static int load_marker(struct broker *b, const uint8_t *batch, size_t size, int64_t producer_id,
                       int32_t p)
{
    struct rb_iter it;
    if (rb_iter_init(&it, batch, size, module_registry_decompress, b->modules) != 0)
        return -1;
    struct rb_record rec;
    if (rb_iter_next(&it, &rec) && rec.key && rec.key_len >= 4) {
        int16_t type = (int16_t)((rec.key[2] << 8) | rec.key[3]);
        if (type == 0 || type == 1)
            gc_txn_complete(b->groups, p, producer_id, type == 1);
    }
    int rc = it.err ? -1 : 0;
    rb_iter_free(&it);
    return rc;
}

static int load_batch(struct broker *b, const uint8_t *batch, size_t size, int64_t from,
                      int64_t *next, const char *where, int32_t p)
{
    struct rb_header h;
    if (rb_header_decode(batch, size, &h) < 0)
        return -1;
    *next = h.base_offset + h.last_offset_delta + 1;
    /* Markers complete the transactional offset commits (TxnOffsetCommit)
     * loaded before them; those stay pending until then. */
    if (h.attributes & RB_ATTR_CONTROL)
        return h.base_offset >= from ? load_marker(b, batch, size, h.producer_id, p) : 0;
    bool txn = (h.attributes & RB_ATTR_TRANSACTIONAL) != 0;
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
        } else if ((txn ? gc_load_txn_offset(b->groups, &gr, h.producer_id, p)
                        : gc_load_record(b->groups, &gr)) < 0) {
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

struct load_ctx {
    struct broker *b;
    const char *where;
    int32_t p;
};

static int load_one(void *ud, const uint8_t *batch, size_t size, int64_t from, int64_t *next)
{
    struct load_ctx *lc = ud;
    return load_batch(lc->b, batch, size, from, next, lc->where, lc->p);
}

/* Replays one partition (start-up, before the listener opens). */
static int load_partition(struct broker *b, struct partition_log *pl, int32_t p)
{
    char where[64];
    snprintf(where, sizeof where, "%s-%d", OFFSETS_TOPIC, p);
    struct load_ctx lc = { b, where, p };
    return internal_log_replay(b, pl, "group", where, load_one, &lc);
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
    bool wanted = false; /* the list always holds at least "classic" (config check) */
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
    struct gc_writer w = { append, b, append_txn };
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
