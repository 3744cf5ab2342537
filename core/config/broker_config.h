/* Broker configuration: a read-only declarative table (one row per key, in
 * the style of nginx's command tables and Fluent Bit's config maps) drives
 * parsing, validation, defaults, DescribeConfigs and dynamic updates, so a
 * new key is one row plus one struct field.
 *
 * Key names and defaults follow Kafka's KafkaConfig so an existing
 * server.properties mostly loads unchanged; Kafka keys that make no sense for
 * a single-node broker (thread counts, ZooKeeper, quorum) are accepted and
 * ignored with an INFO line.  Sluice's own keys: log.file, log.level,
 * plugin.dir, module.load.
 *
 * Loading: sluice_config_load() reads the file, then "modules.d/NAME.conf" in
 * the config file's directory (sorted by name; later values win, module.load
 * lines accumulate).  A bad value stops start-up with
 *   "<file>:<line>: <key>: <why> (got '<value>')"
 * An unknown key is a WARN, unless it looks like a typo of a known key
 * (edit distance <= 2, or equal after ignoring case and '.' vs '_'), which is
 * an error "<file>:<line>: unknown key 'x' (did you mean 'y'?)". */
#ifndef SLUICE_BROKER_CONFIG_H
#define SLUICE_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sluice_logger;

/* Kafka's DescribeConfigs ConfigType numbers. */
enum sluice_config_type {
    SLUICE_CT_UNKNOWN = 0,
    SLUICE_CT_BOOLEAN = 1,
    SLUICE_CT_STRING = 2,
    SLUICE_CT_INT = 3,
    SLUICE_CT_SHORT = 4,
    SLUICE_CT_LONG = 5,
    SLUICE_CT_DOUBLE = 6,
    SLUICE_CT_LIST = 7,
    SLUICE_CT_CLASS = 8,
    SLUICE_CT_PASSWORD = 9,
};

/* Kafka's DescribeConfigs ConfigSource numbers. */
enum sluice_config_source {
    SLUICE_CS_UNKNOWN = 0,
    SLUICE_CS_DYNAMIC_TOPIC_CONFIG = 1,
    SLUICE_CS_DYNAMIC_BROKER_CONFIG = 2,
    SLUICE_CS_DYNAMIC_DEFAULT_BROKER_CONFIG = 3,
    SLUICE_CS_STATIC_BROKER_CONFIG = 4,
    SLUICE_CS_DEFAULT_CONFIG = 5,
};

/* Kafka's compression.type names, in this order. */
enum sluice_compression {
    SLUICE_COMPRESSION_UNCOMPRESSED = 0,
    SLUICE_COMPRESSION_ZSTD,
    SLUICE_COMPRESSION_LZ4,
    SLUICE_COMPRESSION_SNAPPY,
    SLUICE_COMPRESSION_GZIP,
    SLUICE_COMPRESSION_PRODUCER,
};

enum sluice_timestamp_type {
    SLUICE_TIMESTAMP_CREATE_TIME = 0,
    SLUICE_TIMESTAMP_LOG_APPEND_TIME = 1,
};

/* cleanup.policy bits */
enum { SLUICE_CLEANUP_DELETE = 1, SLUICE_CLEANUP_COMPACT = 2 };

struct sluice_strlist {
    char **items;
    size_t n;
};

/* Upper bound on table rows (checked at compile time in broker_config.c). */
#define SLUICE_CONFIG_MAX_KEYS 256

/* Where the current value of one table row came from. */
struct sluice_config_slot {
    char *static_value;  /* canonical string from the file, or NULL */
    char *dynamic_value; /* canonical string from sluice_config_set, or NULL */
    char *file;          /* of static_value */
    int line;
};

struct sluice_config {
    /* --- network --- */
    struct sluice_strlist listeners;            /* listeners */
    struct sluice_strlist advertised_listeners; /* empty: same as listeners */
    char *listener_security_protocol_map;
    int32_t socket_request_max_bytes;
    int64_t connections_max_idle_ms;
    int32_t queued_max_requests;

    /* --- identity --- */
    int32_t node_id;       /* effective: node.id, else broker.id, else 1 */
    int32_t node_id_cfg;   /* node.id as written (-1 unset) */
    int32_t broker_id_cfg; /* broker.id as written (-1 unset) */

    /* --- storage --- */
    struct sluice_strlist log_dirs; /* effective: log.dirs, else log.dir */
    struct sluice_strlist log_dirs_cfg;
    char *log_dir_cfg;
    char *metadata_log_dir; /* effective: metadata.log.dir, else log_dirs[0] */
    char *metadata_log_dir_cfg;

    /* --- topic defaults --- */
    int32_t num_partitions;
    int32_t default_replication_factor;
    bool auto_create_topics_enable;
    bool delete_topic_enable;
    int32_t min_insync_replicas;
    bool unclean_leader_election_enable;
    int32_t log_segment_bytes;
    int64_t log_roll_ms;     /* effective: log.roll.ms, else log.roll.hours */
    int64_t log_roll_ms_cfg; /* INT64_MIN: unset (null) */
    int32_t log_roll_hours;
    int64_t log_roll_jitter_ms; /* effective */
    int64_t log_roll_jitter_ms_cfg;
    int32_t log_roll_jitter_hours;
    int64_t log_retention_ms; /* effective, -1 unlimited: ms > minutes > hours */
    int64_t log_retention_ms_cfg;      /* INT64_MIN: unset */
    int64_t log_retention_minutes_cfg; /* INT64_MIN: unset */
    int32_t log_retention_hours;
    int64_t log_retention_bytes;
    int64_t log_retention_check_interval_ms;
    int64_t log_segment_delete_delay_ms;
    int32_t log_index_interval_bytes;
    int32_t log_index_size_max_bytes;
    int log_message_timestamp_type; /* enum sluice_timestamp_type */
    int64_t log_message_timestamp_before_max_ms;
    int64_t log_message_timestamp_after_max_ms;
    int64_t log_message_timestamp_difference_max_ms;
    int32_t message_max_bytes;
    int64_t log_flush_interval_messages;
    int64_t log_flush_interval_ms;     /* effective: else scheduler interval */
    int64_t log_flush_interval_ms_cfg; /* INT64_MIN: unset */
    int64_t log_flush_scheduler_interval_ms;
    bool log_preallocate;
    int compression_type;    /* enum sluice_compression */
    int32_t compression_gzip_level; /* -1 (zlib default) or 1..9 (KIP-390) */
    int32_t compression_lz4_level;  /* 1..17, default 9 */
    int32_t compression_zstd_level; /* -131072..22, default 3 */
    unsigned log_cleanup_policy; /* SLUICE_CLEANUP_* bits */
    struct sluice_strlist log_cleanup_policy_list;
    int64_t log_cleaner_delete_retention_ms;
    int64_t log_cleaner_min_compaction_lag_ms;
    int64_t log_cleaner_max_compaction_lag_ms;
    double log_cleaner_min_cleanable_ratio;
    bool log_cleaner_enable;
    int32_t log_cleaner_threads;
    int64_t log_cleaner_dedupe_buffer_size;
    int32_t log_cleaner_io_buffer_size;
    double log_cleaner_io_buffer_load_factor;
    double log_cleaner_io_max_bytes_per_second;
    int64_t log_cleaner_backoff_ms;
    int64_t log_local_retention_ms;
    int64_t log_local_retention_bytes;

    /* --- coordinators --- */
    int32_t offsets_topic_num_partitions;
    int16_t offsets_topic_replication_factor;
    int32_t offsets_topic_segment_bytes;
    int32_t offsets_retention_minutes;
    int32_t transaction_state_log_num_partitions;
    int16_t transaction_state_log_replication_factor;
    int32_t transaction_state_log_min_isr;
    int32_t transaction_state_log_segment_bytes;
    int32_t group_initial_rebalance_delay_ms;
    int32_t group_min_session_timeout_ms;
    int32_t group_max_session_timeout_ms;
    int32_t transaction_max_timeout_ms;
    /* --- transaction coordinator (core/txn) --- */
    int32_t transactional_id_expiration_ms;
    int32_t transaction_abort_timed_out_transaction_cleanup_interval_ms;
    int32_t transaction_remove_expired_transaction_cleanup_interval_ms;
    bool transaction_partition_verification_enable;
    /* --- idempotent producers --- */
    int32_t producer_id_expiration_ms;
    int32_t producer_id_expiration_check_interval_ms;
    int32_t group_max_size;
    int64_t offsets_retention_check_interval_ms;
    int32_t offset_metadata_max_bytes;
    int32_t group_consumer_session_timeout_ms;
    int32_t group_consumer_heartbeat_interval_ms;
    int32_t group_consumer_max_size;
    struct sluice_strlist group_rebalance_protocols; /* group.coordinator.rebalance.protocols */
    char *group_consumer_assignors;
    bool unstable_api_versions_enable;

    /* --- Sluice's own --- */
    char *log_file;  /* NULL: stderr */
    int log_level;   /* enum sluice_log_level */
    char *plugin_dir;
    struct sluice_strlist module_load; /* one entry per module.load line */
    /* "module.<name>.<key>=<value>" lines, file order (later wins): module
     * options, read by modules through host->config_get_*. */
    struct sluice_strlist module_opts;

    /* --- security (SASL framework, authorizer) --- */
    struct sluice_strlist sasl_enabled_mechanisms; /* empty: every loaded mechanism */
    int64_t connections_max_reauth_ms;             /* 0: no re-authentication (KIP-368) */
    int32_t connection_failed_authentication_delay_ms;
    char *super_users;                             /* read by the authorizer module */
    bool allow_everyone_if_no_acl_found;           /* read by the authorizer module */

    /* Path given to sluice_config_load (NULL for defaults). */
    char *config_path;
    struct sluice_config_slot slots[SLUICE_CONFIG_MAX_KEYS];
};

/* Fills cfg with the defaults (cfg needs no prior init).  0 or -1 (ENOMEM). */
int sluice_config_defaults(struct sluice_config *cfg);

/* Defaults, then path, then modules.d/NAME.conf beside it.  log may be NULL;
 * warnings/notes go to it with component "config".  On failure cfg is left
 * freed-and-defaulted and err holds the message.  0 or -1. */
int sluice_config_load(struct sluice_config *cfg, const char *path, struct sluice_logger *log,
                       char *err, size_t errlen);

void sluice_config_free(struct sluice_config *cfg);

/* The value of a module option "module.<name>.<key>" (the last one given),
 * or NULL.  Such keys are not in the table: modules define them. */
const char *sluice_config_module_option(const struct sluice_config *cfg, const char *key);

/* The per-listener override "listener.name.<listener>.<key>" (the listener
 * name compared case-insensitively, as Kafka's prefix is its lower-cased
 * name), or NULL. */
const char *sluice_config_listener_option(const struct sluice_config *cfg, const char *listener,
                                          const char *key);

/* True for "listener.name.<name>.<key>": a per-listener override (Kafka's
 * syntax, lower-case listener name) kept like module options, read by the
 * transport of that listener. */
bool sluice_config_is_listener_option(const char *key);

/* The raw current value of key for modules: a module or listener option,
 * else the table's value (sensitive ones included, unlike
 * sluice_config_describe), else NULL. */
const char *sluice_config_value(const struct sluice_config *cfg, const char *key);

/* True for "module.<name>.<key>" with a valid module name and a key; sets
 * *name_len to the length of <name>. */
bool sluice_config_is_module_option(const char *key, size_t *name_len);

/* Dynamic per-broker update (IncrementalAlterConfigs SET; value NULL = DELETE,
 * reverting to the static or default value).  Returns 0, or a Kafka error
 * code: 40 INVALID_CONFIG for unknown keys/bad values, 
 * 42 INVALID_REQUEST for keys that are read-only at runtime. */
int sluice_config_set(struct sluice_config *cfg, const char *key, const char *value, char *err,
                      size_t errlen);

/* One DescribeConfigs entry.  Pointers stay valid until cfg changes. */
struct sluice_config_entry {
    const char *name;
    const char *value; /* NULL for sensitive values and unset nullable keys */
    int source;        /* enum sluice_config_source */
    bool is_default;
    bool read_only;
    bool is_sensitive;
    int type; /* enum sluice_config_type */
    const char *doc;
};

size_t sluice_config_count(void);
/* index in [0, sluice_config_count()); 0 or -1 when out of range. */
int sluice_config_describe(const struct sluice_config *cfg, size_t index,
                           struct sluice_config_entry *out);
/* By name; 0 or -1 when unknown. */
int sluice_config_describe_key(const struct sluice_config *cfg, const char *name,
                               struct sluice_config_entry *out);

#endif
