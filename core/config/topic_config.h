/* Topic-level configuration: the catalogue of Kafka's topic configs, their
 * validation, and how each one defaults from a broker key (retention.ms from
 * log.retention.ms/minutes/hours, segment.bytes from log.segment.bytes, ...).
 * Used by CreateTopics/AlterConfigs (validation), the storage layer
 * (resolved typed values) and DescribeConfigs (iterator with synonyms). */
#ifndef SLUICE_TOPIC_CONFIG_H
#define SLUICE_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/broker_config.h"

#ifndef SLUICE_KV_DEFINED
#define SLUICE_KV_DEFINED
struct kv {
    const char *key;
    const char *value;
};
#endif

/* Kafka error code for bad topic configs. */
#define SLUICE_ERR_INVALID_CONFIG 40

struct topic_config {
    unsigned cleanup_policy; /* SLUICE_CLEANUP_* bits */
    int compression_type;    /* enum sluice_compression */
    int32_t compression_gzip_level; /* -1 or 1..9 */
    int32_t compression_lz4_level;  /* 1..17 */
    int32_t compression_zstd_level; /* -131072..22 */
    int64_t delete_retention_ms;
    int64_t file_delete_delay_ms;
    int64_t flush_messages;
    int64_t flush_ms;
    int32_t index_interval_bytes;
    int64_t max_compaction_lag_ms;
    int32_t max_message_bytes;
    int message_timestamp_type; /* enum sluice_timestamp_type */
    int64_t message_timestamp_before_max_ms;
    int64_t message_timestamp_after_max_ms;
    int64_t message_timestamp_difference_max_ms;
    double min_cleanable_dirty_ratio;
    int64_t min_compaction_lag_ms;
    int32_t min_insync_replicas;
    bool preallocate;
    int64_t retention_bytes; /* -1 unlimited */
    int64_t retention_ms;    /* -1 unlimited */
    int32_t segment_bytes;
    int32_t segment_index_bytes;
    int64_t segment_jitter_ms;
    int64_t segment_ms;
    bool unclean_leader_election_enable;
    int64_t local_retention_ms;    /* -2: same as retention.ms */
    int64_t local_retention_bytes; /* -2: same as retention.bytes */
    bool remote_storage_enable;
};

/* Broker-derived defaults plus overrides (later duplicates win).  Returns 0
 * or SLUICE_ERR_INVALID_CONFIG with err naming the key and the problem. */
int topic_config_resolve(const struct sluice_config *broker, const struct kv *overrides, size_t n,
                         struct topic_config *out, char *err, size_t errlen);

/* Checks one override: 0, or SLUICE_ERR_INVALID_CONFIG for an unknown key or
 * a bad value (value NULL is valid: it means "delete the override"). */
int topic_config_validate(const char *key, const char *value, char *err, size_t errlen);

/* Is key a topic config name? */
bool topic_config_known(const char *key);

/* One DescribeConfigs entry of a topic.  value points into buf or into the
 * overrides/broker config, so use the entry before those change and do not
 * copy it by value across calls. */
struct topic_config_entry {
    const char *name;
    const char *value;
    int source; /* DYNAMIC_TOPIC_CONFIG, DYNAMIC_BROKER_CONFIG, STATIC_BROKER_CONFIG or DEFAULT_CONFIG */
    bool is_default;
    bool read_only;
    bool is_sensitive;
    int type; /* enum sluice_config_type */
    const char *doc;
    const char *synonyms[3]; /* broker keys it defaults from, most specific first */
    size_t nsynonyms;
    char buf[32];
};

size_t topic_config_count(void);
/* index in [0, topic_config_count()); 0 or -1 when out of range. */
int topic_config_describe(const struct sluice_config *broker, const struct kv *overrides, size_t n,
                          size_t index, struct topic_config_entry *out);

#endif
