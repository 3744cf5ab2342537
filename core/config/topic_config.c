/* Topic config catalogue; see topic_config.h. */
#include "config/topic_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_value.h"

enum ttype { TT_BOOL, TT_INT, TT_LONG, TT_DOUBLE, TT_COMPRESSION, TT_TIMESTAMP, TT_CLEANUP };

struct trow {
    const char *name;
    enum ttype type;
    int64_t min, max; /* TT_INT/TT_LONG; TT_DOUBLE uses [0, 1] */
    size_t off;
    const char *synonyms[3];
    const char *doc;
};

#define TF(f) offsetof(struct topic_config, f)
#define SYN(...) {__VA_ARGS__}

/* Validators mirror Kafka's LogConfig (atLeast(..), between(..), in(..)). */
static const struct trow trows[] = {
    {"cleanup.policy", TT_CLEANUP, 0, 0, TF(cleanup_policy), SYN("log.cleanup.policy"),
     "delete, compact, or both."},
    {"compression.type", TT_COMPRESSION, 0, 0, TF(compression_type), SYN("compression.type"),
     "Final compression of stored batches: uncompressed, zstd, lz4, snappy, gzip or producer."},
    {"compression.gzip.level", TT_INT, -1, 9, TF(compression_gzip_level), SYN("compression.gzip.level"),
     "Level used when the broker compresses with gzip: 1..9, or -1 for zlib's default."},
    {"compression.lz4.level", TT_INT, 1, 17, TF(compression_lz4_level), SYN("compression.lz4.level"),
     "Level used when the broker compresses with lz4 (1..17)."},
    {"compression.zstd.level", TT_INT, -131072, 22, TF(compression_zstd_level),
     SYN("compression.zstd.level"), "Level used when the broker compresses with zstd (-131072..22)."},
    {"delete.retention.ms", TT_LONG, 0, INT64_MAX, TF(delete_retention_ms),
     SYN("log.cleaner.delete.retention.ms"), "How long tombstones are kept on compacted topics."},
    {"file.delete.delay.ms", TT_LONG, 0, INT64_MAX, TF(file_delete_delay_ms),
     SYN("log.segment.delete.delay.ms"), "Delay before a deleted segment's files are removed."},
    {"flush.messages", TT_LONG, 1, INT64_MAX, TF(flush_messages), SYN("log.flush.interval.messages"),
     "fsync after this many messages."},
    {"flush.ms", TT_LONG, 0, INT64_MAX, TF(flush_ms), SYN("log.flush.interval.ms"),
     "fsync after this many milliseconds."},
    {"index.interval.bytes", TT_INT, 0, INT32_MAX, TF(index_interval_bytes),
     SYN("log.index.interval.bytes"), "Bytes of records between two offset index entries."},
    {"max.compaction.lag.ms", TT_LONG, 1, INT64_MAX, TF(max_compaction_lag_ms),
     SYN("log.cleaner.max.compaction.lag.ms"), "Maximum time a message stays ineligible for compaction."},
    {"max.message.bytes", TT_INT, 0, INT32_MAX, TF(max_message_bytes), SYN("message.max.bytes"),
     "The largest record batch size allowed."},
    {"message.timestamp.type", TT_TIMESTAMP, 0, 0, TF(message_timestamp_type),
     SYN("log.message.timestamp.type"), "CreateTime or LogAppendTime."},
    {"message.timestamp.before.max.ms", TT_LONG, 0, INT64_MAX, TF(message_timestamp_before_max_ms),
     SYN("log.message.timestamp.before.max.ms"), "How far in the past a CreateTime timestamp may be."},
    {"message.timestamp.after.max.ms", TT_LONG, 0, INT64_MAX, TF(message_timestamp_after_max_ms),
     SYN("log.message.timestamp.after.max.ms"), "How far in the future a CreateTime timestamp may be."},
    {"message.timestamp.difference.max.ms", TT_LONG, 0, INT64_MAX,
     TF(message_timestamp_difference_max_ms), SYN("log.message.timestamp.difference.max.ms"),
     "Deprecated: maximum difference between a CreateTime timestamp and the broker time."},
    {"min.cleanable.dirty.ratio", TT_DOUBLE, 0, 1, TF(min_cleanable_dirty_ratio),
     SYN("log.cleaner.min.cleanable.ratio"), "Minimum dirty ratio before the log is compacted."},
    {"min.compaction.lag.ms", TT_LONG, 0, INT64_MAX, TF(min_compaction_lag_ms),
     SYN("log.cleaner.min.compaction.lag.ms"), "Minimum time a message stays uncompacted."},
    {"min.insync.replicas", TT_INT, 1, INT32_MAX, TF(min_insync_replicas), SYN("min.insync.replicas"),
     "Minimum in-sync replicas for acks=all."},
    {"preallocate", TT_BOOL, 0, 0, TF(preallocate), SYN("log.preallocate"), "Preallocate segment files."},
    {"retention.bytes", TT_LONG, INT64_MIN, INT64_MAX, TF(retention_bytes), SYN("log.retention.bytes"),
     "Maximum partition size before old segments are deleted; -1 unlimited."},
    {"retention.ms", TT_LONG, -1, INT64_MAX, TF(retention_ms),
     SYN("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
     "Delete segments older than this; -1 keeps them forever."},
    {"segment.bytes", TT_INT, 14, INT32_MAX, TF(segment_bytes), SYN("log.segment.bytes"),
     "The maximum size of a segment file."},
    {"segment.index.bytes", TT_INT, 4, INT32_MAX, TF(segment_index_bytes),
     SYN("log.index.size.max.bytes"), "The maximum size of an index file."},
    {"segment.jitter.ms", TT_LONG, 0, INT64_MAX, TF(segment_jitter_ms),
     SYN("log.roll.jitter.ms", "log.roll.jitter.hours"), "Maximum random jitter subtracted from segment.ms."},
    {"segment.ms", TT_LONG, 1, INT64_MAX, TF(segment_ms), SYN("log.roll.ms", "log.roll.hours"),
     "Roll a new segment after this many milliseconds."},
    {"unclean.leader.election.enable", TT_BOOL, 0, 0, TF(unclean_leader_election_enable),
     SYN("unclean.leader.election.enable"), "Allow an out-of-sync replica to become leader."},
    {"local.retention.ms", TT_LONG, -2, INT64_MAX, TF(local_retention_ms), SYN("log.local.retention.ms"),
     "Local retention with tiered storage; -2 means retention.ms."},
    {"local.retention.bytes", TT_LONG, -2, INT64_MAX, TF(local_retention_bytes),
     SYN("log.local.retention.bytes"), "Local retention size with tiered storage; -2 means retention.bytes."},
    {"remote.storage.enable", TT_BOOL, 0, 0, TF(remote_storage_enable), SYN(NULL),
     "Tiered storage for this topic (not supported yet; accepted as false only)."},
};

#define NTROWS (sizeof trows / sizeof trows[0])

static const struct trow *find_trow(const char *key, size_t *idx)
{
    for (size_t i = 0; i < NTROWS; i++)
        if (strcmp(trows[i].name, key) == 0) {
            if (idx)
                *idx = i;
            return &trows[i];
        }
    return NULL;
}

bool topic_config_known(const char *key) { return key && find_trow(key, NULL); }
size_t topic_config_count(void) { return NTROWS; }

/* Converts and, when out is non-NULL, stores into the row's field. */
static int apply(const struct trow *r, const char *value, struct topic_config *out, char *err,
                 size_t errlen)
{
    char why[160];
    int rc;
    void *f = out ? (char *)out + r->off : NULL;
    switch (r->type) {
    case TT_BOOL: {
        bool b;
        rc = cv_parse_bool(value, &b, why, sizeof why);
        if (rc == 0 && r->off == TF(remote_storage_enable) && b) {
            snprintf(why, sizeof why, "tiered storage is not supported");
            rc = -1;
        }
        if (rc == 0 && f)
            *(bool *)f = b;
        break;
    }
    case TT_INT:
    case TT_LONG: {
        int64_t v;
        rc = cv_parse_int(value, r->min, r->max, &v, why, sizeof why);
        /* Kafka's gzip level validator: 1..9 or -1, not 0. */
        if (rc == 0 && r->off == TF(compression_gzip_level) && v == 0) {
            snprintf(why, sizeof why, "must be in the range [1, 9] or -1");
            rc = -1;
        }
        if (rc == 0 && f) {
            if (r->type == TT_INT)
                *(int32_t *)f = (int32_t)v;
            else
                *(int64_t *)f = v;
        }
        break;
    }
    case TT_DOUBLE: {
        double d;
        rc = cv_parse_double(value, (double)r->min, (double)r->max, &d, why, sizeof why);
        if (rc == 0 && f)
            *(double *)f = d;
        break;
    }
    case TT_COMPRESSION:
    case TT_TIMESTAMP: {
        int k;
        rc = cv_parse_enum(value,
                           r->type == TT_COMPRESSION ? cv_compression_names : cv_timestamp_type_names,
                           &k, why, sizeof why);
        if (rc == 0 && f)
            *(int *)f = k;
        break;
    }
    case TT_CLEANUP: {
        unsigned bits;
        rc = cv_parse_cleanup_policy(value, &bits, why, sizeof why);
        if (rc == 0 && f)
            *(unsigned *)f = bits;
        break;
    }
    default:
        rc = -1;
        snprintf(why, sizeof why, "internal error");
    }
    if (rc < 0) {
        /* Kafka's ConfigException wording, which clients print verbatim. */
        snprintf(err, errlen, "Invalid value %s for configuration %s: %s", value, r->name, why);
        return SLUICE_ERR_INVALID_CONFIG;
    }
    return 0;
}

int topic_config_validate(const char *key, const char *value, char *err, size_t errlen)
{
    const struct trow *r = key ? find_trow(key, NULL) : NULL;
    if (!r) {
        snprintf(err, errlen, "Unknown topic config name: %s", key ? key : "(null)");
        return SLUICE_ERR_INVALID_CONFIG;
    }
    if (!value)
        return 0;
    return apply(r, value, NULL, err, errlen);
}

static void broker_defaults(const struct sluice_config *b, struct topic_config *t)
{
    memset(t, 0, sizeof *t);
    t->cleanup_policy = b->log_cleanup_policy;
    t->compression_type = b->compression_type;
    t->compression_gzip_level = b->compression_gzip_level;
    t->compression_lz4_level = b->compression_lz4_level;
    t->compression_zstd_level = b->compression_zstd_level;
    t->delete_retention_ms = b->log_cleaner_delete_retention_ms;
    t->file_delete_delay_ms = b->log_segment_delete_delay_ms;
    t->flush_messages = b->log_flush_interval_messages;
    t->flush_ms = b->log_flush_interval_ms;
    t->index_interval_bytes = b->log_index_interval_bytes;
    t->max_compaction_lag_ms = b->log_cleaner_max_compaction_lag_ms;
    t->max_message_bytes = b->message_max_bytes;
    t->message_timestamp_type = b->log_message_timestamp_type;
    t->message_timestamp_before_max_ms = b->log_message_timestamp_before_max_ms;
    t->message_timestamp_after_max_ms = b->log_message_timestamp_after_max_ms;
    t->message_timestamp_difference_max_ms = b->log_message_timestamp_difference_max_ms;
    t->min_cleanable_dirty_ratio = b->log_cleaner_min_cleanable_ratio;
    t->min_compaction_lag_ms = b->log_cleaner_min_compaction_lag_ms;
    t->min_insync_replicas = b->min_insync_replicas;
    t->preallocate = b->log_preallocate;
    t->retention_bytes = b->log_retention_bytes;
    t->retention_ms = b->log_retention_ms;
    t->segment_bytes = b->log_segment_bytes;
    t->segment_index_bytes = b->log_index_size_max_bytes;
    t->segment_jitter_ms = b->log_roll_jitter_ms;
    t->segment_ms = b->log_roll_ms;
    t->unclean_leader_election_enable = b->unclean_leader_election_enable;
    t->local_retention_ms = b->log_local_retention_ms;
    t->local_retention_bytes = b->log_local_retention_bytes;
    t->remote_storage_enable = false;
}

/* Is key set for this topic: as a topic override, else (broker_key) in the
 * broker's file or dynamic config? */
static bool key_set(const struct sluice_config *b, const struct kv *ov, size_t n, const char *key,
                    const char *broker_key)
{
    for (size_t i = 0; i < n; i++)
        if (ov[i].key && ov[i].value && strcmp(ov[i].key, key) == 0)
            return true;
    struct sluice_config_entry e;
    return sluice_config_describe_key(b, broker_key, &e) == 0 && e.source != SLUICE_CS_DEFAULT_CONFIG;
}

/* message.timestamp.difference.max.ms, deprecated by KIP-937, still bounds
 * each side that its successor (before/after.max.ms) leaves unset, as in
 * Kafka 3.6-3.9; unset itself (Long.MAX_VALUE) it changes nothing. */
static void timestamp_difference_fallback(const struct sluice_config *b, const struct kv *ov,
                                          size_t n, struct topic_config *t)
{
    if (t->message_timestamp_difference_max_ms == INT64_MAX)
        return;
    if (!key_set(b, ov, n, "message.timestamp.before.max.ms",
                 "log.message.timestamp.before.max.ms"))
        t->message_timestamp_before_max_ms = t->message_timestamp_difference_max_ms;
    if (!key_set(b, ov, n, "message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms"))
        t->message_timestamp_after_max_ms = t->message_timestamp_difference_max_ms;
}

int topic_config_resolve(const struct sluice_config *broker, const struct kv *overrides, size_t n,
                         struct topic_config *out, char *err, size_t errlen)
{
    struct topic_config t;
    broker_defaults(broker, &t);
    for (size_t i = 0; i < n; i++) {
        const struct trow *r = overrides[i].key ? find_trow(overrides[i].key, NULL) : NULL;
        if (!r) {
            snprintf(err, errlen, "Unknown topic config name: %s",
                     overrides[i].key ? overrides[i].key : "(null)");
            return SLUICE_ERR_INVALID_CONFIG;
        }
        if (!overrides[i].value)
            continue; /* null = no override */
        int rc = apply(r, overrides[i].value, &t, err, errlen);
        if (rc)
            return rc;
    }
    timestamp_difference_fallback(broker, overrides, n, &t);
    if (t.min_compaction_lag_ms > t.max_compaction_lag_ms) {
        snprintf(err, errlen,
                 "conflict topic config setting min.compaction.lag.ms (%lld) > "
                 "max.compaction.lag.ms (%lld)",
                 (long long)t.min_compaction_lag_ms, (long long)t.max_compaction_lag_ms);
        return SLUICE_ERR_INVALID_CONFIG;
    }
    *out = t;
    return 0;
}

static int ttype_kafka(enum ttype t)
{
    switch (t) {
    case TT_BOOL: return SLUICE_CT_BOOLEAN;
    case TT_INT: return SLUICE_CT_INT;
    case TT_LONG: return SLUICE_CT_LONG;
    case TT_DOUBLE: return SLUICE_CT_DOUBLE;
    case TT_CLEANUP: return SLUICE_CT_LIST;
    default: return SLUICE_CT_STRING;
    }
}

static const char *render(const struct trow *r, const struct topic_config *t, char *buf, size_t len)
{
    const void *f = (const char *)t + r->off;
    switch (r->type) {
    case TT_BOOL: return *(const bool *)f ? "true" : "false";
    case TT_INT: snprintf(buf, len, "%d", (int)*(const int32_t *)f); return buf;
    case TT_LONG: snprintf(buf, len, "%lld", (long long)*(const int64_t *)f); return buf;
    case TT_DOUBLE: snprintf(buf, len, "%g", *(const double *)f); return buf;
    case TT_COMPRESSION: return cv_compression_names[*(const int *)f];
    case TT_TIMESTAMP: return cv_timestamp_type_names[*(const int *)f];
    case TT_CLEANUP: {
        unsigned b = *(const unsigned *)f;
        return b == (SLUICE_CLEANUP_DELETE | SLUICE_CLEANUP_COMPACT) ? "compact,delete"
               : b == SLUICE_CLEANUP_COMPACT                         ? "compact"
                                                                     : "delete";
    }
    }
    return "";
}

int topic_config_describe(const struct sluice_config *broker, const struct kv *overrides, size_t n,
                          size_t index, struct topic_config_entry *out)
{
    if (index >= NTROWS)
        return -1;
    const struct trow *r = &trows[index];
    memset(out, 0, sizeof *out);
    out->name = r->name;
    out->type = ttype_kafka(r->type);
    out->doc = r->doc;
    for (size_t k = 0; k < 3 && r->synonyms[k]; k++)
        out->synonyms[out->nsynonyms++] = r->synonyms[k];
    for (size_t i = n; i-- > 0;) {
        if (overrides[i].key && overrides[i].value && strcmp(overrides[i].key, r->name) == 0) {
            out->value = overrides[i].value;
            out->source = SLUICE_CS_DYNAMIC_TOPIC_CONFIG;
            return 0;
        }
    }
    struct topic_config t;
    broker_defaults(broker, &t);
    out->value = render(r, &t, out->buf, sizeof out->buf);
    out->source = SLUICE_CS_DEFAULT_CONFIG;
    for (size_t k = 0; k < out->nsynonyms; k++) {
        struct sluice_config_entry be;
        if (sluice_config_describe_key(broker, out->synonyms[k], &be) == 0 && !be.is_default) {
            out->source = be.source;
            break;
        }
    }
    out->is_default = out->source == SLUICE_CS_DEFAULT_CONFIG;
    return 0;
}
