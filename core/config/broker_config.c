/* The broker config table and its loader; see broker_config.h. */
#include "config/broker_config.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_value.h"
#include "config/properties.h"
#include "util/logger.h"

#ifndef SLUICE_MODULE_DIR
#define SLUICE_MODULE_DIR "/usr/local/lib/sluice/modules"
#endif

enum row_type { T_BOOL, T_INT, T_SHORT, T_LONG, T_DOUBLE, T_STRING, T_LIST, T_PASSWORD, T_ENUM };

enum {
    F_DYNAMIC = 1 << 0,     /* per-broker dynamic (IncrementalAlterConfigs) */
    F_SENSITIVE = 1 << 1,   /* never shown (DescribeConfigs value null) */
    F_IGNORED = 1 << 2,     /* Kafka key accepted for compatibility, no effect */
    F_REPEATABLE = 1 << 3,  /* one list item per line (module.load) */
    F_TOPIC_DEFAULT = 1 << 4, /* a topic config defaults from this key */
    F_RANGE = 1 << 5,       /* min/max (or dmin/dmax) apply */
};

#define NOFIELD SIZE_MAX
#define FLD(f) offsetof(struct sluice_config, f)
/* Nullable LONG keys hold this while unset. */
#define UNSET INT64_MIN
#define LMAX "9223372036854775807"

struct cfg_row {
    const char *name;
    enum row_type type;
    const char *def; /* NULL: null */
    int64_t min, max;
    double dmin, dmax;
    const char *const *enums;
    size_t off;
    unsigned flags;
    /* Extra check on the converted string value (e.g. listener syntax). */
    int (*check)(const char *value, char *why, size_t whylen);
    const char *doc;
};

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace", NULL};

/* "NAME://host:port" with a numeric port in 0..65535; host may be empty
 * (all interfaces) or a bracketed IPv6 address. */
static int check_listeners(const char *value, char *why, size_t whylen)
{
    struct sluice_strlist l;
    if (cv_parse_list(value, &l) < 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        const char *it = l.items[i];
        const char *sep = strstr(it, "://");
        const char *colon = sep ? strrchr(sep + 3, ':') : NULL;
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!sep || sep == it || !colon || end == colon + 1 || *end || port < 0 || port > 65535) {
            snprintf(why, whylen, "listener '%s' is not of the form NAME://host:port", it);
            rc = -1;
        }
    }
    cv_strlist_free(&l);
    return rc;
}

static int check_cleanup_policy(const char *value, char *why, size_t whylen)
{
    unsigned bits;
    return cv_parse_cleanup_policy(value, &bits, why, whylen);
}

static int check_module_name(const char *value, char *why, size_t whylen)
{
    /* A name, or an absolute path to a .so (the loader resolves both). */
    if (!*value || strpbrk(value, ", \t") || (value[0] != '/' && strchr(value, '/'))) {
        snprintf(why, whylen,
                 "expected one module name (or absolute path to a .so) per module.load line");
        return -1;
    }
    return 0;
}

/* Kafka's gzip level validator: Deflater's 1..9, or -1 for its default
 * (0, "no compression", is refused like Kafka does). */
static int check_gzip_level(const char *value, char *why, size_t whylen)
{
    if (strcmp(value, "-1") != 0 && (strcmp(value, "0") == 0 || value[0] == '-')) {
        snprintf(why, whylen, "must be in the range [1, 9] or -1");
        return -1;
    }
    return 0;
}

/* Kafka's GroupCoordinatorConfig: "classic" is mandatory, "consumer"
 * (KIP-848) optional; other names are refused. */
static int check_rebalance_protocols(const char *value, char *why, size_t whylen)
{
    struct sluice_strlist l;
    if (cv_parse_list(value, &l) < 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    int rc = 0;
    bool classic = false;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        if (strcmp(l.items[i], "classic") == 0)
            classic = true;
        else if (strcmp(l.items[i], "consumer") != 0) {
            snprintf(why, whylen, "unknown group protocol '%s' (known: classic, consumer)",
                     l.items[i]);
            rc = -1;
        }
    }
    if (rc == 0 && !classic) {
        snprintf(why, whylen, "must contain 'classic'");
        rc = -1;
    }
    cv_strlist_free(&l);
    return rc;
}

static int check_nonempty(const char *value, char *why, size_t whylen)
{
    if (!*value) {
        snprintf(why, whylen, "must not be empty");
        return -1;
    }
    return 0;
}

#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define INT_ROW(n, d, lo, hi, f, fl, dc)                                                        \
    {.name = n, .type = T_INT, .def = d, RANGE(lo, hi), .off = f, .flags = (fl) | F_RANGE, .doc = dc}
#define LONG_ROW(n, d, lo, hi, f, fl, dc)                                                       \
    {.name = n, .type = T_LONG, .def = d, RANGE(lo, hi), .off = f, .flags = (fl) | F_RANGE, .doc = dc}
#define BOOL_ROW(n, d, f, fl, dc) {.name = n, .type = T_BOOL, .def = d, .off = f, .flags = fl, .doc = dc}
#define STR_ROW(n, d, f, fl, dc) {.name = n, .type = T_STRING, .def = d, .off = f, .flags = fl, .doc = dc}

static const struct cfg_row rows[] = {
    /* network */
    {.name = "listeners", .type = T_LIST, .def = "PLAINTEXT://:9092", .off = FLD(listeners),
     .check = check_listeners,
     .doc = "Comma-separated URIs to listen on, NAME://host:port; an empty host binds all interfaces."},
    {.name = "advertised.listeners", .type = T_LIST, .def = NULL, .off = FLD(advertised_listeners),
     .check = check_listeners,
     .doc = "Listeners published to clients in Metadata responses when they differ from listeners."},
    STR_ROW("listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
            FLD(listener_security_protocol_map), 0,
            "Map between listener names and security protocols."),
    INT_ROW("socket.request.max.bytes", "104857600", 1, INT32_MAX, FLD(socket_request_max_bytes), 0,
            "The maximum number of bytes in a socket request."),
    LONG_ROW("connections.max.idle.ms", "600000", INT64_MIN, INT64_MAX, FLD(connections_max_idle_ms), 0,
             "Idle connections are closed after this many milliseconds."),
    INT_ROW("queued.max.requests", "500", 1, INT32_MAX, FLD(queued_max_requests), 0,
            "Requests queued per connection before the network layer stops reading."),
    INT_ROW("num.network.threads", "3", 1, INT32_MAX, NOFIELD, F_IGNORED | F_DYNAMIC,
            "Accepted for compatibility; Sluice sizes its event loops itself."),
    INT_ROW("num.io.threads", "8", 1, INT32_MAX, NOFIELD, F_IGNORED | F_DYNAMIC,
            "Accepted for compatibility; Sluice sizes its event loops itself."),
    INT_ROW("socket.send.buffer.bytes", "102400", -1, INT32_MAX, NOFIELD, F_IGNORED,
            "Accepted for compatibility; ignored."),
    INT_ROW("socket.receive.buffer.bytes", "102400", -1, INT32_MAX, NOFIELD, F_IGNORED,
            "Accepted for compatibility; ignored."),

    /* identity */
    INT_ROW("node.id", "1", 0, INT32_MAX, FLD(node_id_cfg), 0, "The node id of this broker."),
    INT_ROW("broker.id", "-1", -1, INT32_MAX, FLD(broker_id_cfg), 0,
            "Older name of node.id; used when node.id is not set, and must match it otherwise."),
    {.name = "process.roles", .type = T_LIST, .def = NULL, .off = NOFIELD, .flags = F_IGNORED,
     .doc = "Accepted for compatibility; Sluice is always a combined single node."},
    STR_ROW("controller.quorum.voters", NULL, NOFIELD, F_IGNORED, "Accepted for compatibility; ignored."),
    STR_ROW("controller.quorum.bootstrap.servers", NULL, NOFIELD, F_IGNORED,
            "Accepted for compatibility; ignored."),
    STR_ROW("controller.listener.names", NULL, NOFIELD, F_IGNORED, "Accepted for compatibility; ignored."),
    STR_ROW("inter.broker.listener.name", NULL, NOFIELD, F_IGNORED, "Accepted for compatibility; ignored."),
    STR_ROW("zookeeper.connect", NULL, NOFIELD, F_IGNORED, "Accepted for compatibility; ignored."),
    /* TLS: read by the transport_tls module for SSL and SASL_SSL listeners
     * (listener.name.<name>.ssl.* overrides are kept as listener options). */
    STR_ROW("ssl.keystore.type", "PKCS12", NOFIELD, 0,
            "Key store format: PKCS12 or PEM (JKS is not supported; convert it with keytool "
            "-importkeystore -deststoretype PKCS12)."),
    STR_ROW("ssl.keystore.location", NULL, NOFIELD, 0,
            "The key store file: the server certificate chain and its private key."),
    {.name = "ssl.keystore.password", .type = T_PASSWORD, .def = NULL, .off = NOFIELD,
     .flags = F_SENSITIVE, .doc = "Password of the key store file (PKCS12), or of the PEM key "
                                  "when ssl.key.password is not set."},
    {.name = "ssl.key.password", .type = T_PASSWORD, .def = NULL, .off = NOFIELD,
     .flags = F_SENSITIVE, .doc = "Password of the private key in the key store."},
    {.name = "ssl.keystore.certificate.chain", .type = T_PASSWORD, .def = NULL, .off = NOFIELD,
     .flags = F_SENSITIVE, .doc = "PEM certificate chain given inline (ssl.keystore.type=PEM)."},
    {.name = "ssl.keystore.key", .type = T_PASSWORD, .def = NULL, .off = NOFIELD,
     .flags = F_SENSITIVE, .doc = "PEM private key given inline (ssl.keystore.type=PEM)."},
    STR_ROW("ssl.truststore.type", "PKCS12", NOFIELD, 0, "Trust store format: PKCS12 or PEM."),
    STR_ROW("ssl.truststore.location", NULL, NOFIELD, 0,
            "The trust store file: CA certificates that client certificates must chain to."),
    {.name = "ssl.truststore.password", .type = T_PASSWORD, .def = NULL, .off = NOFIELD,
     .flags = F_SENSITIVE, .doc = "Password of the trust store file (PKCS12)."},
    {.name = "ssl.truststore.certificates", .type = T_PASSWORD, .def = NULL, .off = NOFIELD,
     .flags = F_SENSITIVE, .doc = "Trusted PEM certificates given inline (ssl.truststore.type=PEM)."},
    STR_ROW("ssl.client.auth", "none", NOFIELD, 0,
            "Client certificates: none, requested (verified when sent) or required."),
    {.name = "ssl.enabled.protocols", .type = T_LIST, .def = "TLSv1.2,TLSv1.3", .off = NOFIELD,
     .doc = "TLS versions accepted from clients."},
    STR_ROW("ssl.protocol", "TLSv1.3", NOFIELD, 0,
            "The newest TLS version the broker negotiates (TLSv1.2 or TLSv1.3)."),
    {.name = "ssl.cipher.suites", .type = T_LIST, .def = NULL, .off = NOFIELD,
     .doc = "Cipher suites allowed (OpenSSL or IANA TLS_* names); empty: OpenSSL's defaults."},
    STR_ROW("ssl.principal.mapping.rules", "DEFAULT", NOFIELD, 0,
            "Rules (RULE:pattern/replacement/[LU], DEFAULT) mapping a client certificate's "
            "distinguished name to the principal name."),
    STR_ROW("ssl.endpoint.identification.algorithm", "https", NOFIELD, F_IGNORED,
            "Accepted for compatibility; the broker does not connect out over TLS."),
    STR_ROW("ssl.keymanager.algorithm", "SunX509", NOFIELD, F_IGNORED,
            "Accepted for compatibility; Java only."),
    STR_ROW("ssl.trustmanager.algorithm", "PKIX", NOFIELD, F_IGNORED,
            "Accepted for compatibility; Java only."),
    STR_ROW("ssl.secure.random.implementation", NULL, NOFIELD, F_IGNORED,
            "Accepted for compatibility; Java only."),

    /* storage */
    {.name = "log.dirs", .type = T_LIST, .def = NULL, .off = FLD(log_dirs_cfg),
     .doc = "Directories where partition data is stored; log.dir is used when unset. Relative "
            "paths resolve against the working directory."},
    {.name = "log.dir", .type = T_STRING, .def = "/tmp/sluice-logs", .off = FLD(log_dir_cfg),
     .check = check_nonempty, .doc = "The data directory, used when log.dirs is not set."},
    STR_ROW("metadata.log.dir", NULL, FLD(metadata_log_dir_cfg), 0,
            "Directory of the metadata log; the first log directory when unset."),
    INT_ROW("num.recovery.threads.per.data.dir", "1", 1, INT32_MAX, NOFIELD, F_IGNORED | F_DYNAMIC,
            "Accepted for compatibility; ignored."),

    /* topic defaults */
    INT_ROW("num.partitions", "1", 1, INT32_MAX, FLD(num_partitions), 0,
            "The default number of partitions of auto-created topics."),
    INT_ROW("default.replication.factor", "1", INT32_MIN, INT32_MAX, FLD(default_replication_factor), 0,
            "The default replication factor of auto-created topics; only 1 is supported."),
    BOOL_ROW("auto.create.topics.enable", "true", FLD(auto_create_topics_enable), 0,
             "Create a topic when a client asks for its metadata or produces to it."),
    BOOL_ROW("delete.topic.enable", "true", FLD(delete_topic_enable), 0,
             "Allow DeleteTopics; when false deletions are refused."),
    INT_ROW("min.insync.replicas", "1", 1, INT32_MAX, FLD(min_insync_replicas),
            F_DYNAMIC | F_TOPIC_DEFAULT, "Minimum in-sync replicas for acks=all."),
    BOOL_ROW("unclean.leader.election.enable", "false", FLD(unclean_leader_election_enable),
             F_DYNAMIC | F_TOPIC_DEFAULT, "Allow an out-of-sync replica to become leader."),
    INT_ROW("log.segment.bytes", "1073741824", 14, INT32_MAX, FLD(log_segment_bytes),
            F_DYNAMIC | F_TOPIC_DEFAULT, "The maximum size of a single log segment file."),
    LONG_ROW("log.roll.ms", NULL, 1, INT64_MAX, FLD(log_roll_ms_cfg), F_DYNAMIC | F_TOPIC_DEFAULT,
             "Roll a new segment after this many ms; log.roll.hours is used when unset."),
    INT_ROW("log.roll.hours", "168", 1, INT32_MAX, FLD(log_roll_hours), F_TOPIC_DEFAULT,
            "Roll a new segment after this many hours (secondary to log.roll.ms)."),
    LONG_ROW("log.roll.jitter.ms", NULL, 0, INT64_MAX, FLD(log_roll_jitter_ms_cfg),
             F_DYNAMIC | F_TOPIC_DEFAULT, "Maximum random jitter subtracted from the roll time."),
    INT_ROW("log.roll.jitter.hours", "0", 0, INT32_MAX, FLD(log_roll_jitter_hours), F_TOPIC_DEFAULT,
            "Maximum roll jitter in hours (secondary to log.roll.jitter.ms)."),
    LONG_ROW("log.retention.ms", NULL, -1, INT64_MAX, FLD(log_retention_ms_cfg),
             F_DYNAMIC | F_TOPIC_DEFAULT,
             "Delete segments older than this many ms; -1 keeps them forever. Takes precedence "
             "over log.retention.minutes and log.retention.hours."),
    LONG_ROW("log.retention.minutes", NULL, -1, INT32_MAX, FLD(log_retention_minutes_cfg),
             F_TOPIC_DEFAULT, "Retention in minutes; takes precedence over log.retention.hours."),
    INT_ROW("log.retention.hours", "168", -1, INT32_MAX, FLD(log_retention_hours), F_TOPIC_DEFAULT,
            "Retention in hours (tertiary to log.retention.ms and log.retention.minutes)."),
    LONG_ROW("log.retention.bytes", "-1", INT64_MIN, INT64_MAX, FLD(log_retention_bytes),
             F_DYNAMIC | F_TOPIC_DEFAULT, "Maximum partition size before old segments are deleted; -1 unlimited."),
    LONG_ROW("log.retention.check.interval.ms", "300000", 1, INT64_MAX,
             FLD(log_retention_check_interval_ms), 0, "How often retention is enforced."),
    LONG_ROW("log.segment.delete.delay.ms", "60000", 0, INT64_MAX, FLD(log_segment_delete_delay_ms),
             F_DYNAMIC | F_TOPIC_DEFAULT, "Delay before a deleted segment's files are removed."),
    INT_ROW("log.index.interval.bytes", "4096", 0, INT32_MAX, FLD(log_index_interval_bytes),
            F_DYNAMIC | F_TOPIC_DEFAULT, "Bytes of records between two offset index entries."),
    INT_ROW("log.index.size.max.bytes", "10485760", 4, INT32_MAX, FLD(log_index_size_max_bytes),
            F_DYNAMIC | F_TOPIC_DEFAULT, "The maximum size of an offset or time index file."),
    {.name = "log.message.timestamp.type", .type = T_ENUM, .def = "CreateTime",
     .enums = cv_timestamp_type_names, .off = FLD(log_message_timestamp_type),
     .flags = F_DYNAMIC | F_TOPIC_DEFAULT,
     .doc = "CreateTime keeps the producer's timestamps, LogAppendTime stamps the broker time."},
    LONG_ROW("log.message.timestamp.before.max.ms", LMAX, 0, INT64_MAX,
             FLD(log_message_timestamp_before_max_ms), F_DYNAMIC | F_TOPIC_DEFAULT,
             "How far in the past a CreateTime timestamp may be."),
    /* Kafka 4.0's default (KIP-1030); 3.x had no bound. */
    LONG_ROW("log.message.timestamp.after.max.ms", "3600000", 0, INT64_MAX,
             FLD(log_message_timestamp_after_max_ms), F_DYNAMIC | F_TOPIC_DEFAULT,
             "How far in the future a CreateTime timestamp may be."),
    LONG_ROW("log.message.timestamp.difference.max.ms", LMAX, 0, INT64_MAX,
             FLD(log_message_timestamp_difference_max_ms), F_DYNAMIC | F_TOPIC_DEFAULT,
             "Deprecated: maximum difference between a CreateTime timestamp and the broker time."),
    INT_ROW("message.max.bytes", "1048588", 0, INT32_MAX, FLD(message_max_bytes),
            F_DYNAMIC | F_TOPIC_DEFAULT, "The largest record batch size allowed."),
    LONG_ROW("log.flush.interval.messages", LMAX, 1, INT64_MAX, FLD(log_flush_interval_messages),
             F_DYNAMIC | F_TOPIC_DEFAULT, "fsync a partition after this many messages."),
    LONG_ROW("log.flush.interval.ms", NULL, 0, INT64_MAX, FLD(log_flush_interval_ms_cfg),
             F_DYNAMIC | F_TOPIC_DEFAULT,
             "fsync a partition after this many ms; log.flush.scheduler.interval.ms when unset."),
    LONG_ROW("log.flush.scheduler.interval.ms", LMAX, 0, INT64_MAX,
             FLD(log_flush_scheduler_interval_ms), 0, "How often the flusher checks for due partitions."),
    LONG_ROW("log.flush.offset.checkpoint.interval.ms", "60000", 0, INT32_MAX, NOFIELD, F_IGNORED,
             "Accepted for compatibility; ignored."),
    BOOL_ROW("log.preallocate", "false", FLD(log_preallocate), F_DYNAMIC | F_TOPIC_DEFAULT,
             "Preallocate segment files."),
    {.name = "compression.type", .type = T_ENUM, .def = "producer", .enums = cv_compression_names,
     .off = FLD(compression_type), .flags = F_DYNAMIC | F_TOPIC_DEFAULT,
     .doc = "Final compression of stored batches; producer keeps the producer's codec."},
    {.name = "compression.gzip.level", .type = T_INT, .def = "-1", RANGE(-1, 9),
     .off = FLD(compression_gzip_level), .flags = F_DYNAMIC | F_TOPIC_DEFAULT | F_RANGE,
     .check = check_gzip_level,
     .doc = "Level used when the broker compresses with gzip: 1..9, or -1 for zlib's default."},
    INT_ROW("compression.lz4.level", "9", 1, 17, FLD(compression_lz4_level),
            F_DYNAMIC | F_TOPIC_DEFAULT, "Level used when the broker compresses with lz4 (1..17)."),
    INT_ROW("compression.zstd.level", "3", -131072, 22, FLD(compression_zstd_level),
            F_DYNAMIC | F_TOPIC_DEFAULT, "Level used when the broker compresses with zstd (-131072..22)."),
    {.name = "log.cleanup.policy", .type = T_LIST, .def = "delete", .off = FLD(log_cleanup_policy_list),
     .flags = F_DYNAMIC | F_TOPIC_DEFAULT, .check = check_cleanup_policy,
     .doc = "delete, compact, or both (comma-separated)."},
    BOOL_ROW("log.cleaner.enable", "true", FLD(log_cleaner_enable), 0,
             "Run the log cleaner, which compacts logs with cleanup.policy=compact."),
    INT_ROW("log.cleaner.threads", "1", 0, INT32_MAX, FLD(log_cleaner_threads), F_DYNAMIC,
            "Number of log cleaner threads."),
    LONG_ROW("log.cleaner.dedupe.buffer.size", "134217728", 0, INT64_MAX,
             FLD(log_cleaner_dedupe_buffer_size), F_DYNAMIC,
             "Memory for the cleaners' offset maps, shared by all cleaner threads."),
    INT_ROW("log.cleaner.io.buffer.size", "524288", 0, INT32_MAX, FLD(log_cleaner_io_buffer_size),
            F_DYNAMIC, "I/O buffer memory of the cleaner threads (read chunk size)."),
    {.name = "log.cleaner.io.buffer.load.factor", .type = T_DOUBLE, .def = "0.9", .dmin = 0,
     .dmax = 1, .off = FLD(log_cleaner_io_buffer_load_factor), .flags = F_DYNAMIC | F_RANGE,
     .doc = "How full an offset map may get before the cleaner stops mapping."},
    {.name = "log.cleaner.io.max.bytes.per.second", .type = T_DOUBLE,
     .def = "1.7976931348623157E308", .dmin = 0, .dmax = DBL_MAX,
     .off = FLD(log_cleaner_io_max_bytes_per_second), .flags = F_DYNAMIC | F_RANGE,
     .doc = "I/O throttle of the cleaner threads: read plus write bytes per second."},
    LONG_ROW("log.cleaner.backoff.ms", "15000", 0, INT64_MAX, FLD(log_cleaner_backoff_ms),
             F_DYNAMIC, "Sleep between cleaner passes when there is nothing to clean."),
    LONG_ROW("log.cleaner.delete.retention.ms", "86400000", 0, INT64_MAX,
             FLD(log_cleaner_delete_retention_ms), F_DYNAMIC | F_TOPIC_DEFAULT,
             "How long delete tombstones are kept on compacted topics."),
    LONG_ROW("log.cleaner.min.compaction.lag.ms", "0", 0, INT64_MAX,
             FLD(log_cleaner_min_compaction_lag_ms), F_DYNAMIC | F_TOPIC_DEFAULT,
             "Minimum time a message stays uncompacted."),
    LONG_ROW("log.cleaner.max.compaction.lag.ms", LMAX, 1, INT64_MAX,
             FLD(log_cleaner_max_compaction_lag_ms), F_DYNAMIC | F_TOPIC_DEFAULT,
             "Maximum time a message stays ineligible for compaction."),
    {.name = "log.cleaner.min.cleanable.ratio", .type = T_DOUBLE, .def = "0.5", .dmin = 0, .dmax = 1,
     .off = FLD(log_cleaner_min_cleanable_ratio), .flags = F_DYNAMIC | F_TOPIC_DEFAULT | F_RANGE,
     .doc = "Minimum dirty ratio before a log is compacted."},
    LONG_ROW("log.local.retention.ms", "-2", -2, INT64_MAX, FLD(log_local_retention_ms),
             F_DYNAMIC | F_TOPIC_DEFAULT, "Local retention with tiered storage; -2 means log.retention.ms."),
    LONG_ROW("log.local.retention.bytes", "-2", -2, INT64_MAX, FLD(log_local_retention_bytes),
             F_DYNAMIC | F_TOPIC_DEFAULT,
             "Local retention size with tiered storage; -2 means log.retention.bytes."),

    /* coordinators */
    INT_ROW("offsets.topic.num.partitions", "50", 1, INT32_MAX, FLD(offsets_topic_num_partitions), 0,
            "Partitions of __consumer_offsets (fixed once the topic exists)."),
    {.name = "offsets.topic.replication.factor", .type = T_SHORT, .def = "1", RANGE(1, 1),
     .off = FLD(offsets_topic_replication_factor), .flags = F_RANGE,
     .doc = "Replication factor of __consumer_offsets; only 1 is supported (Kafka's default is 3)."},
    INT_ROW("offsets.topic.segment.bytes", "104857600", 1, INT32_MAX, FLD(offsets_topic_segment_bytes), 0,
            "Segment size of __consumer_offsets."),
    INT_ROW("offsets.retention.minutes", "10080", 1, INT32_MAX, FLD(offsets_retention_minutes), 0,
            "Committed offsets of empty groups expire after this many minutes."),
    INT_ROW("transaction.state.log.num.partitions", "50", 1, INT32_MAX,
            FLD(transaction_state_log_num_partitions), 0, "Partitions of __transaction_state."),
    {.name = "transaction.state.log.replication.factor", .type = T_SHORT, .def = "1", RANGE(1, 1),
     .off = FLD(transaction_state_log_replication_factor), .flags = F_RANGE,
     .doc = "Replication factor of __transaction_state; only 1 is supported (Kafka's default is 3)."},
    INT_ROW("transaction.state.log.min.isr", "1", 1, INT32_MAX, FLD(transaction_state_log_min_isr), 0,
            "min.insync.replicas of __transaction_state."),
    INT_ROW("transaction.state.log.segment.bytes", "104857600", 1, INT32_MAX,
            FLD(transaction_state_log_segment_bytes), 0, "Segment size of __transaction_state."),
    INT_ROW("transaction.state.log.load.buffer.size", "5242880", 1, INT32_MAX, NOFIELD, F_IGNORED,
            "Accepted for compatibility; ignored."),
    INT_ROW("group.initial.rebalance.delay.ms", "3000", 0, INT32_MAX,
            FLD(group_initial_rebalance_delay_ms), 0,
            "How long the first rebalance of an empty group waits for more members."),
    INT_ROW("group.min.session.timeout.ms", "6000", 0, INT32_MAX, FLD(group_min_session_timeout_ms), 0,
            "Smallest session timeout a consumer may ask for."),
    INT_ROW("group.max.session.timeout.ms", "1800000", 0, INT32_MAX, FLD(group_max_session_timeout_ms), 0,
            "Largest session timeout a consumer may ask for."),
    INT_ROW("transaction.max.timeout.ms", "900000", 1, INT32_MAX, FLD(transaction_max_timeout_ms), 0,
            "Largest transaction timeout a producer may ask for in InitProducerId."),
    INT_ROW("transactional.id.expiration.ms", "604800000", 1, INT32_MAX,
            FLD(transactional_id_expiration_ms), 0,
            "A transactional id with no transaction for this long is removed (a tombstone in "
            "__transaction_state)."),
    INT_ROW("transaction.abort.timed.out.transaction.cleanup.interval.ms", "10000", 1, INT32_MAX,
            FLD(transaction_abort_timed_out_transaction_cleanup_interval_ms), 0,
            "How often the coordinator aborts transactions older than their timeout."),
    INT_ROW("transaction.remove.expired.transaction.cleanup.interval.ms", "3600000", 1, INT32_MAX,
            FLD(transaction_remove_expired_transaction_cleanup_interval_ms), 0,
            "How often the coordinator removes expired transactional ids."),
    BOOL_ROW("transaction.partition.verification.enable", "true",
             FLD(transaction_partition_verification_enable), F_DYNAMIC,
             "KIP-890: a transactional batch is refused unless its partition was added to the "
             "transaction."),
    INT_ROW("producer.id.expiration.ms", "86400000", 1, INT32_MAX, FLD(producer_id_expiration_ms),
            F_DYNAMIC, "A producer id with no write for this long is forgotten by each partition."),
    INT_ROW("producer.id.expiration.check.interval.ms", "600000", 1, INT32_MAX,
            FLD(producer_id_expiration_check_interval_ms), 0,
            "How often partitions look for expired producer ids."),
    INT_ROW("group.max.size", "2147483647", 1, INT32_MAX, FLD(group_max_size), 0,
            "The maximum number of members a classic group can have."),
    LONG_ROW("offsets.retention.check.interval.ms", "600000", 1, INT64_MAX,
             FLD(offsets_retention_check_interval_ms), 0,
             "How often the coordinator looks for expired offsets."),
    INT_ROW("offset.metadata.max.bytes", "4096", 0, INT32_MAX, FLD(offset_metadata_max_bytes), 0,
            "The maximum size of the metadata string of an offset commit."),
    /* KIP-848 consumer groups (ConsumerGroupHeartbeat) */
    INT_ROW("group.consumer.session.timeout.ms", "45000", 1, INT32_MAX,
            FLD(group_consumer_session_timeout_ms), 0,
            "A consumer-protocol member that does not heartbeat for this long is removed."),
    INT_ROW("group.consumer.heartbeat.interval.ms", "5000", 1, INT32_MAX,
            FLD(group_consumer_heartbeat_interval_ms), 0,
            "How often consumer-protocol members heartbeat (told in each response)."),
    INT_ROW("group.consumer.max.size", "2147483647", 1, INT32_MAX, FLD(group_consumer_max_size), 0,
            "The maximum number of members a consumer-protocol group can have."),
    {.name = "group.coordinator.rebalance.protocols", .type = T_LIST, .def = "classic,consumer",
     .off = FLD(group_rebalance_protocols), .check = check_rebalance_protocols,
     .doc = "The group protocols served: classic (JoinGroup/SyncGroup) always, consumer "
            "(KIP-848 ConsumerGroupHeartbeat) when listed.  Left at its default, the consumer "
            "protocol is switched off with a warning when no assignor module is loaded."},
    {.name = "group.consumer.assignors", .type = T_STRING, .def = "uniform,range",
     .off = FLD(group_consumer_assignors), .check = check_nonempty,
     .doc = "Server-side assignors of consumer-protocol groups, the first being the default; "
            "each must be registered by a loaded module (Kafka's class names "
            "org.apache.kafka.coordinator.group.assignor.UniformAssignor/RangeAssignor are "
            "accepted)."},
    BOOL_ROW("unstable.api.versions.enable", "false", FLD(unstable_api_versions_enable), 0,
             "Also advertise API versions Kafka's schemas mark latestVersionUnstable "
             "(ConsumerGroupHeartbeat v1, needed by librdkafka 2.10+ for group.protocol=consumer)."),

    /* security: the SASL framework in the core; the mechanisms and the
     * authorizer are modules (super.users and allow.everyone.if.no.acl.found
     * are read by the authorizer module). */
    {.name = "sasl.enabled.mechanisms", .type = T_LIST, .def = NULL,
     .off = FLD(sasl_enabled_mechanisms),
     .doc = "SASL mechanisms offered on SASL listeners (per listener: "
            "listener.name.<name>.sasl.enabled.mechanisms).  Unset: every mechanism a loaded "
            "module provides (Kafka's default GSSAPI is not available)."},
    LONG_ROW("connections.max.reauth.ms", "0", 0, INT64_MAX, FLD(connections_max_reauth_ms), 0,
             "KIP-368: authenticated sessions last at most this long; a client must "
             "re-authenticate before, or its connection is closed.  0 disables."),
    INT_ROW("connection.failed.authentication.delay.ms", "100", 0, INT32_MAX,
            FLD(connection_failed_authentication_delay_ms), 0,
            "Delay before a failed authentication is answered (and the connection closed)."),
    STR_ROW("super.users", NULL, FLD(super_users), 0,
            "Principals allowed everything by the authorizer, separated by ';' (User:admin;User:ops)."),
    BOOL_ROW("allow.everyone.if.no.acl.found", "false", FLD(allow_everyone_if_no_acl_found), 0,
             "With an authorizer: allow an operation on a resource no ACL matches."),

    /* Sluice's own */
    STR_ROW("log.file", NULL, FLD(log_file), 0,
            "Sluice's own log file (opened for append, reopened on SIGHUP); stderr when unset."),
    {.name = "log.level", .type = T_ENUM, .def = "info", .enums = level_names, .off = FLD(log_level),
     .flags = F_DYNAMIC, .doc = "Sluice's log level: error, warn, info, debug or trace."},
    STR_ROW("plugin.dir", SLUICE_MODULE_DIR, FLD(plugin_dir), 0, "Directory searched for modules."),
    {.name = "module.load", .type = T_LIST, .def = NULL, .off = FLD(module_load),
     .flags = F_REPEATABLE, .check = check_module_name,
     .doc = "A module to load at start-up; one module.load line per module."},
};

#define NROWS (sizeof rows / sizeof rows[0])
_Static_assert(NROWS <= SLUICE_CONFIG_MAX_KEYS, "raise SLUICE_CONFIG_MAX_KEYS");

static const struct cfg_row *find_row(const char *name, size_t *idx)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (strcmp(rows[i].name, name) == 0) {
            if (idx)
                *idx = i;
            return &rows[i];
        }
    }
    return NULL;
}

/* A converted value, before it is stored (so a failed conversion leaves the
 * config untouched). */
struct conv {
    int64_t i;
    double d;
    bool b;
    struct sluice_strlist list;
    char *canon; /* canonical string for DescribeConfigs */
};

static int convert(const struct cfg_row *r, const char *value, struct conv *cv, char *why,
                   size_t whylen)
{
    memset(cv, 0, sizeof *cv);
    int rc = 0;
    char buf[32];
    const char *canon = value;
    switch (r->type) {
    case T_BOOL:
        rc = cv_parse_bool(value, &cv->b, why, whylen);
        canon = cv->b ? "true" : "false";
        break;
    case T_INT:
    case T_SHORT:
    case T_LONG: {
        int64_t lo = r->type == T_INT ? INT32_MIN : r->type == T_SHORT ? INT16_MIN : INT64_MIN;
        int64_t hi = r->type == T_INT ? INT32_MAX : r->type == T_SHORT ? INT16_MAX : INT64_MAX;
        if (r->flags & F_RANGE) {
            lo = r->min > lo ? r->min : lo;
            hi = r->max < hi ? r->max : hi;
        }
        rc = cv_parse_int(value, lo, hi, &cv->i, why, whylen);
        snprintf(buf, sizeof buf, "%lld", (long long)cv->i);
        canon = buf;
        break;
    }
    case T_DOUBLE:
        rc = cv_parse_double(value, (r->flags & F_RANGE) ? r->dmin : -1e308,
                             (r->flags & F_RANGE) ? r->dmax : 1e308, &cv->d, why, whylen);
        break;
    case T_ENUM: {
        int k = 0;
        rc = cv_parse_enum(value, r->enums, &k, why, whylen);
        cv->i = k;
        if (rc == 0)
            canon = r->enums[k];
        break;
    }
    case T_LIST:
        if (cv_parse_list(value, &cv->list) < 0) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        break;
    case T_STRING:
    case T_PASSWORD:
        break;
    }
    if (rc == 0 && r->check)
        rc = r->check(value, why, whylen);
    if (rc == 0 && r->type == T_LIST) {
        canon = NULL;
        cv->canon = cv_strlist_join(&cv->list);
    } else if (rc == 0) {
        cv->canon = strdup(canon);
    }
    if (rc == 0 && !cv->canon) {
        snprintf(why, whylen, "out of memory");
        rc = -1;
    }
    if (rc < 0) {
        cv_strlist_free(&cv->list);
        free(cv->canon);
        cv->canon = NULL;
    }
    return rc;
}

/* Stores a converted value in the row's field; takes over cv's list. */
static int store(struct sluice_config *cfg, const struct cfg_row *r, struct conv *cv, const char *raw)
{
    if (r->off == NOFIELD) {
        cv_strlist_free(&cv->list);
        return 0;
    }
    void *f = (char *)cfg + r->off;
    switch (r->type) {
    case T_BOOL: *(bool *)f = cv->b; break;
    case T_INT: *(int32_t *)f = (int32_t)cv->i; break;
    case T_SHORT: *(int16_t *)f = (int16_t)cv->i; break;
    case T_LONG: *(int64_t *)f = cv->i; break;
    case T_DOUBLE: *(double *)f = cv->d; break;
    case T_ENUM: *(int *)f = (int)cv->i; break;
    case T_STRING:
    case T_PASSWORD: {
        char *s = strdup(raw);
        if (!s)
            return -1;
        free(*(char **)f);
        *(char **)f = s;
        break;
    }
    case T_LIST: {
        struct sluice_strlist *l = f;
        if (r->flags & F_REPEATABLE) {
            for (size_t i = 0; i < cv->list.n; i++)
                if (cv_strlist_append(l, cv->list.items[i]) < 0)
                    return -1;
            cv_strlist_free(&cv->list);
        } else {
            cv_strlist_free(l);
            *l = cv->list;
            memset(&cv->list, 0, sizeof cv->list);
        }
        break;
    }
    }
    return 0;
}

/* Resets a row's field to its default (or null). */
static int store_default(struct sluice_config *cfg, const struct cfg_row *r)
{
    if (r->off == NOFIELD)
        return 0;
    void *f = (char *)cfg + r->off;
    if (!r->def) {
        switch (r->type) {
        case T_LONG: *(int64_t *)f = UNSET; break;
        case T_STRING:
        case T_PASSWORD: free(*(char **)f); *(char **)f = NULL; break;
        case T_LIST: cv_strlist_free(f); break;
        default: break;
        }
        return 0;
    }
    struct conv cv;
    char why[128];
    if (convert(r, r->def, &cv, why, sizeof why) < 0)
        return -1; /* a bad table default: caught by the unit tests */
    if (r->flags & F_REPEATABLE)
        cv_strlist_free((struct sluice_strlist *)f);
    int rc = store(cfg, r, &cv, r->def);
    free(cv.canon);
    return rc;
}

static const char *current_value(const struct sluice_config *cfg, size_t i)
{
    const struct sluice_config_slot *s = &cfg->slots[i];
    return s->dynamic_value ? s->dynamic_value : s->static_value ? s->static_value : rows[i].def;
}

/* Kafka-style precedence between the ms/minutes/hours synonyms and the other
 * derived values; each call rebuilds them from the raw fields. */
static int finalize(struct sluice_config *cfg, char *err, size_t errlen)
{
    size_t ni = 0, bi = 0;
    find_row("node.id", &ni);
    find_row("broker.id", &bi);
    const struct sluice_config_slot *ns = &cfg->slots[ni], *bs = &cfg->slots[bi];
    if (ns->static_value && bs->static_value && cfg->broker_id_cfg >= 0 &&
        cfg->broker_id_cfg != cfg->node_id_cfg) {
        snprintf(err, errlen, "%s:%d: broker.id: must match node.id=%d when both are set (got '%s')",
                 bs->file, bs->line, cfg->node_id_cfg, bs->static_value);
        return -1;
    }
    if (!ns->static_value && cfg->broker_id_cfg >= 0)
        cfg->node_id = cfg->broker_id_cfg;
    else
        cfg->node_id = cfg->node_id_cfg;

    size_t ri = 0;
    find_row("default.replication.factor", &ri);
    if (cfg->default_replication_factor != 1) {
        const struct sluice_config_slot *s = &cfg->slots[ri];
        snprintf(err, errlen,
                 "%s:%d: default.replication.factor: only 1 is supported until clustering lands "
                 "(got '%s')",
                 s->file ? s->file : "-", s->line, current_value(cfg, ri));
        return -1;
    }

    if (cfg->log_dirs_cfg.n) {
        if (cv_strlist_copy(&cfg->log_dirs, &cfg->log_dirs_cfg) < 0)
            goto nomem;
    } else {
        struct sluice_strlist one = {0};
        if (cv_strlist_append(&one, cfg->log_dir_cfg ? cfg->log_dir_cfg : "/tmp/sluice-logs") < 0) {
            cv_strlist_free(&one);
            goto nomem;
        }
        cv_strlist_free(&cfg->log_dirs);
        cfg->log_dirs = one;
    }
    char *md = strdup(cfg->metadata_log_dir_cfg ? cfg->metadata_log_dir_cfg : cfg->log_dirs.items[0]);
    if (!md)
        goto nomem;
    free(cfg->metadata_log_dir);
    cfg->metadata_log_dir = md;

    if (cfg->log_retention_ms_cfg != UNSET)
        cfg->log_retention_ms = cfg->log_retention_ms_cfg;
    else if (cfg->log_retention_minutes_cfg != UNSET)
        cfg->log_retention_ms = cfg->log_retention_minutes_cfg * 60000LL;
    else
        cfg->log_retention_ms = (int64_t)cfg->log_retention_hours * 3600000LL;
    if (cfg->log_retention_ms < 0)
        cfg->log_retention_ms = -1;

    cfg->log_roll_ms = cfg->log_roll_ms_cfg != UNSET ? cfg->log_roll_ms_cfg
                                                     : (int64_t)cfg->log_roll_hours * 3600000LL;
    cfg->log_roll_jitter_ms = cfg->log_roll_jitter_ms_cfg != UNSET
                                  ? cfg->log_roll_jitter_ms_cfg
                                  : (int64_t)cfg->log_roll_jitter_hours * 3600000LL;
    cfg->log_flush_interval_ms = cfg->log_flush_interval_ms_cfg != UNSET
                                     ? cfg->log_flush_interval_ms_cfg
                                     : cfg->log_flush_scheduler_interval_ms;
    char why[128];
    char *pol = cv_strlist_join(&cfg->log_cleanup_policy_list);
    if (!pol)
        goto nomem;
    int prc = cv_parse_cleanup_policy(pol, &cfg->log_cleanup_policy, why, sizeof why);
    free(pol);
    if (prc < 0)
        cfg->log_cleanup_policy = SLUICE_CLEANUP_DELETE;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void free_fields(struct sluice_config *cfg)
{
    for (size_t i = 0; i < NROWS; i++) {
        const struct cfg_row *r = &rows[i];
        if (r->off == NOFIELD)
            continue;
        void *f = (char *)cfg + r->off;
        if (r->type == T_STRING || r->type == T_PASSWORD) {
            free(*(char **)f);
            *(char **)f = NULL;
        } else if (r->type == T_LIST) {
            cv_strlist_free(f);
        }
    }
    cv_strlist_free(&cfg->log_dirs);
    free(cfg->metadata_log_dir);
    cfg->metadata_log_dir = NULL;
    for (size_t i = 0; i < NROWS; i++) {
        free(cfg->slots[i].static_value);
        free(cfg->slots[i].dynamic_value);
        free(cfg->slots[i].file);
    }
    free(cfg->config_path);
}

void sluice_config_free(struct sluice_config *cfg)
{
    free_fields(cfg);
    cv_strlist_free(&cfg->module_opts);
    memset(cfg, 0, sizeof *cfg);
}

int sluice_config_defaults(struct sluice_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NROWS; i++) {
        if (store_default(cfg, &rows[i]) < 0) {
            sluice_config_free(cfg);
            return -1;
        }
    }
    char err[64];
    if (finalize(cfg, err, sizeof err) < 0) {
        sluice_config_free(cfg);
        return -1;
    }
    return 0;
}

static int is_repeatable(const char *key)
{
    const struct cfg_row *r = find_row(key, NULL);
    return r && (r->flags & F_REPEATABLE);
}

/* Levenshtein distance, capped: we only care whether it is <= 2. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    if ((la > lb ? la - lb : lb - la) > 2)
        return 99;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

/* Equal when case and '.' vs '_' are ignored (LOG_RETENTION_HOURS). */
static int loose_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '.' : (char)(*a | 0x20 * (*a >= 'A' && *a <= 'Z'));
        char y = *b == '_' ? '.' : (char)(*b | 0x20 * (*b >= 'A' && *b <= 'Z'));
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static const char *suggest(const char *key)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < NROWS; i++) {
        if (loose_equal(key, rows[i].name))
            return rows[i].name;
        size_t d = edit_distance(key, rows[i].name);
        if (d < bestd) {
            bestd = d;
            best = rows[i].name;
        }
    }
    return best;
}

bool sluice_config_is_module_option(const char *key, size_t *name_len)
{
    if (strncmp(key, "module.", 7) != 0)
        return false;
    const char *name = key + 7, *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1])
        return false;
    for (const char *c = name; c < dot; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    if (name_len)
        *name_len = (size_t)(dot - name);
    return true;
}

bool sluice_config_is_listener_option(const char *key)
{
    if (strncmp(key, "listener.name.", 14) != 0)
        return false;
    const char *name = key + 14, *dot = strchr(name, '.');
    return dot && dot != name && dot[1];
}

const char *sluice_config_value(const struct sluice_config *cfg, const char *key)
{
    const char *v = sluice_config_module_option(cfg, key);
    size_t idx;
    if (!v && find_row(key, &idx))
        v = current_value(cfg, idx);
    return v;
}

const char *sluice_config_module_option(const struct sluice_config *cfg, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = cfg->module_opts.n; i-- > 0;) {
        const char *e = cfg->module_opts.items[i];
        if (strncmp(e, key, kl) == 0 && e[kl] == '=')
            return e + kl + 1;
    }
    return NULL;
}

const char *sluice_config_listener_option(const struct sluice_config *cfg, const char *listener,
                                          const char *key)
{
    /* Kafka's prefix is the lower-cased listener name; compare the name
     * case-insensitively anyway. */
    size_t ll = strlen(listener), kl = strlen(key);
    for (size_t i = cfg->module_opts.n; i-- > 0;) {
        const char *e = cfg->module_opts.items[i];
        if (strncmp(e, "listener.name.", 14) != 0)
            continue;
        e += 14;
        if (strncasecmp(e, listener, ll) == 0 && e[ll] == '.' && strncmp(e + ll + 1, key, kl) == 0 &&
            e[ll + 1 + kl] == '=')
            return e + ll + 1 + kl + 1;
    }
    return NULL;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses dir/modules.d/NAME.conf in name order into pl; a missing directory is fine. */
static int parse_dropins(struct prop_list *pl, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    int n = slash ? snprintf(dir, sizeof dir, "%.*s/modules.d", (int)(slash - path), path)
                  : snprintf(dir, sizeof dir, "modules.d");
    if (n < 0 || (size_t)n >= sizeof dir) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t nn = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
            continue;
        char **nv = realloc(names, (nn + 1) * sizeof *nv);
        if (!nv || !(nv[nn] = strdup(de->d_name))) {
            names = nv ? nv : names;
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        names = nv;
        nn++;
    }
    closedir(d);
    if (rc == 0)
        qsort(names, nn, sizeof *names, cmp_names);
    for (size_t i = 0; i < nn && rc == 0; i++) {
        char file[PATH_MAX + 256];
        snprintf(file, sizeof file, "%s/%s", dir, names[i]);
        rc = props_parse_file(pl, file, is_repeatable, err, errlen);
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int set_static(struct sluice_config *cfg, size_t idx, const struct prop *p, char *err,
                      size_t errlen)
{
    const struct cfg_row *r = &rows[idx];
    struct conv cv;
    char why[256];
    if (convert(r, p->value, &cv, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s:%d: %s: %s (got '%s')", p->file, p->line, p->key, why, p->value);
        return -1;
    }
    struct sluice_config_slot *s = &cfg->slots[idx];
    /* The first static value replaces the default; later repeatable lines add. */
    if ((r->flags & F_REPEATABLE) && !s->static_value)
        store_default(cfg, r);
    if (store(cfg, r, &cv, p->value) < 0) {
        free(cv.canon);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((r->flags & F_REPEATABLE) && r->off != NOFIELD) {
        free(cv.canon);
        cv.canon = cv_strlist_join((struct sluice_strlist *)((char *)cfg + r->off));
    }
    free(s->static_value);
    s->static_value = cv.canon;
    free(s->file);
    s->file = strdup(p->file);
    s->line = p->line;
    if (!s->static_value || !s->file) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int sluice_config_load(struct sluice_config *cfg, const char *path, struct sluice_logger *log,
                       char *err, size_t errlen)
{
    if (sluice_config_defaults(cfg) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct prop_list pl;
    props_init(&pl);
    int rc = props_parse_file(&pl, path, is_repeatable, err, errlen);
    if (rc == 0)
        rc = parse_dropins(&pl, path, err, errlen);
    for (size_t i = 0; i < pl.n && rc == 0; i++) {
        const struct prop *p = &pl.items[i];
        size_t idx;
        const struct cfg_row *r = find_row(p->key, &idx);
        if (!r && (sluice_config_is_module_option(p->key, NULL) ||
                   sluice_config_is_listener_option(p->key))) {
            /* Kept for the module; unknown ones are reported once the
             * modules are loaded (a module not loaded owns none).
             * listener.name.<name>.<key> overrides are read by the
             * transport or the SASL framework serving that listener. */
            size_t n = strlen(p->key) + strlen(p->value) + 2;
            char *kv = malloc(n);
            if (!kv || (snprintf(kv, n, "%s=%s", p->key, p->value),
                        cv_strlist_append(&cfg->module_opts, kv) < 0)) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
            free(kv);
            continue;
        }
        if (!r) {
            const char *s = suggest(p->key);
            if (s) {
                snprintf(err, errlen, "%s:%d: unknown key '%s' (did you mean '%s'?)", p->file,
                         p->line, p->key, s);
                rc = -1;
            } else {
                slog(log, SLOG_WARN, "config", "%s:%d: unknown key '%s' ignored", p->file, p->line,
                     p->key);
            }
            continue;
        }
        rc = set_static(cfg, idx, p, err, errlen);
        if (rc == 0 && (r->flags & F_IGNORED))
            slog(log, SLOG_INFO, "config", "%s:%d: '%s' is accepted for compatibility and ignored",
                 p->file, p->line, p->key);
    }
    if (rc == 0)
        rc = finalize(cfg, err, errlen);
    if (rc == 0 && !(cfg->config_path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    props_free(&pl);
    if (rc < 0) {
        sluice_config_free(cfg);
        sluice_config_defaults(cfg);
    }
    return rc;
}

int sluice_config_set(struct sluice_config *cfg, const char *key, const char *value, char *err,
                      size_t errlen)
{
    size_t idx;
    const struct cfg_row *r = find_row(key, &idx);
    if (!r) {
        snprintf(err, errlen, "Unknown broker config '%s'", key);
        return 40;
    }
    if (!(r->flags & F_DYNAMIC)) {
        snprintf(err, errlen, "Cannot update '%s' dynamically; it is read-only", key);
        return 42;
    }
    struct sluice_config_slot *s = &cfg->slots[idx];
    struct conv cv;
    char why[256];
    const char *src = value ? value : s->static_value ? s->static_value : r->def;
    if (!src) {
        /* Back to null. */
        store_default(cfg, r);
    } else {
        if (convert(r, src, &cv, why, sizeof why) < 0) {
            snprintf(err, errlen, "Invalid value %s for configuration %s: %s", src, key, why);
            return 40;
        }
        if (store(cfg, r, &cv, src) < 0) {
            free(cv.canon);
            snprintf(err, errlen, "out of memory");
            return 40;
        }
        if (value) {
            free(s->dynamic_value);
            s->dynamic_value = cv.canon;
            cv.canon = NULL;
        }
        free(cv.canon);
    }
    if (!value) {
        free(s->dynamic_value);
        s->dynamic_value = NULL;
    }
    return finalize(cfg, err, errlen) < 0 ? 40 : 0;
}

static int kafka_type(enum row_type t)
{
    switch (t) {
    case T_BOOL: return SLUICE_CT_BOOLEAN;
    case T_INT: return SLUICE_CT_INT;
    case T_SHORT: return SLUICE_CT_SHORT;
    case T_LONG: return SLUICE_CT_LONG;
    case T_DOUBLE: return SLUICE_CT_DOUBLE;
    case T_STRING: return SLUICE_CT_STRING;
    case T_LIST: return SLUICE_CT_LIST;
    case T_PASSWORD: return SLUICE_CT_PASSWORD;
    case T_ENUM: return SLUICE_CT_STRING;
    }
    return SLUICE_CT_UNKNOWN;
}

size_t sluice_config_count(void) { return NROWS; }

int sluice_config_describe(const struct sluice_config *cfg, size_t index,
                           struct sluice_config_entry *out)
{
    if (index >= NROWS)
        return -1;
    const struct cfg_row *r = &rows[index];
    const struct sluice_config_slot *s = &cfg->slots[index];
    out->name = r->name;
    out->is_sensitive = (r->flags & F_SENSITIVE) != 0;
    out->value = out->is_sensitive ? NULL : current_value(cfg, index);
    out->source = s->dynamic_value  ? SLUICE_CS_DYNAMIC_BROKER_CONFIG
                  : s->static_value ? SLUICE_CS_STATIC_BROKER_CONFIG
                                    : SLUICE_CS_DEFAULT_CONFIG;
    out->is_default = out->source == SLUICE_CS_DEFAULT_CONFIG;
    out->read_only = !(r->flags & F_DYNAMIC);
    out->type = kafka_type(r->type);
    out->doc = r->doc;
    return 0;
}

int sluice_config_describe_key(const struct sluice_config *cfg, const char *name,
                               struct sluice_config_entry *out)
{
    size_t idx;
    if (!find_row(name, &idx))
        return -1;
    return sluice_config_describe(cfg, idx, out);
}
