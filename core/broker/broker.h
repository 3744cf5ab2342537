/* The broker: owns the event loop's state for one node — config, network
 * server, metadata store, partition logs, waiting fetches — in one struct
 * passed to every handler (no globals, so a later version can run one
 * broker shard per core). */
#ifndef SLUICE_BROKER_H
#define SLUICE_BROKER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/broker_config.h"
#include "config/topic_config.h"
#include "meta/metadata_store.h"
#include "net/connection.h"
#include "proto/kafka_errors.h"
#include "proto/kafka_schema.h"
#include "proto/kp_codec.h"
#include "util/arena.h"
#include "util/logger.h"
#include "util/strmap.h"

struct partition_log;
struct flusher;
struct module_registry;
struct fetch_waiter;
struct log_cleaner;
struct group_coordinator;
struct txn_coordinator;
struct broker;
struct log_dirs;
struct log_mover;
struct plog_config;
struct broker_transports;

/* Where one partition's log lives (log_dirs.h). */
struct broker_replica {
    int16_t dir; /* index in log.dirs; -1 when unknown (only an offline directory can hold it) */
    bool moving; /* its log is with the log mover for the switch of AlterReplicaLogDirs */
};
struct metrics_registry;
struct broker_metrics;

/* A topic as the data plane sees it: the metadata image's topic plus its
 * resolved config and one open log per partition. */
struct broker_topic {
    char *name;
    struct meta_uuid id;
    struct topic_config cfg;
    struct partition_log **logs; /* NULL: offline (failed directory) or moving */
    struct broker_replica *replicas;
    int32_t nparts;
};

/* Producer ids for idempotent producers (init_producer_id.c): the block
 * [next, end) reserved by this broker's last ProducerIdsRecord. */
struct broker_producer_ids {
    int64_t next, end;
    bool durable;   /* the block's record is fsynced: ids may go out */
    uint64_t block; /* counts reservations, to match fsync completions */
};

/* A producer id from this broker's reserved block, once that block's
 * record is durable: cb(ud, NONE, id) or cb(ud, error, -1), possibly
 * before broker_alloc_producer_id returns (init_producer_id.c). */
typedef void (*broker_pid_cb)(void *ud, int16_t err, int64_t id);
void broker_alloc_producer_id(struct broker *b, broker_pid_cb cb, void *ud);

struct broker {
    struct ev_loop *loop;
    struct sluice_config *cfg;
    struct sluice_logger *log;
    struct net_server *net;
    struct broker_transports *transports; /* module transports of TLS listeners */
    struct flusher *flusher;
    struct module_registry *modules;
    struct meta_store *meta;
    struct log_cleaner *cleaner;  /* compaction threads (compaction.c) */
    struct strmap topics; /* name -> struct broker_topic * */
    struct log_dirs *dirs;   /* log.dirs state (log_dirs.h) */
    struct log_mover *mover; /* AlterReplicaLogDirs moves (log_mover.h) */
    char cluster_id[23];
    struct fetch_waiter *waiters; /* long-polling fetches, see fetch.c */
    struct group_coordinator *groups; /* core/group: consumer groups and offsets */
    struct txn_coordinator *txns;     /* core/txn: transactions and __transaction_state */
    ev_timer maintenance;         /* retention, delayed deletion, time-based flush */
    int64_t last_retention_ms;    /* last retention pass (log.retention.check.interval.ms) */
    int64_t last_pid_expiry_ms;   /* last producer.id.expiration.check.interval.ms pass */
    struct broker_producer_ids producer_ids;
    ev_signal sigterm, sigint, sighup;
    bool stopping;
    struct metrics_registry *metrics; /* core + module metrics (core/metrics) */
    struct broker_metrics *bmetrics;  /* the broker's own series (broker_metrics.c) */
    const char *metrics_file;         /* --metrics-file: dumped at shutdown; may be NULL */
};

/* A request being handled.  It owns the decoded request (in the arena) and
 * the network request until rq_respond()/rq_respond_none() completes it;
 * a handler may keep it and complete it later (long-polling Fetch, a
 * Produce waiting for fsync). */
struct request {
    struct broker *b;
    struct net_request *nreq;
    struct kp_request_header hdr;
    void *body;                /* struct kp_<Api>Request */
    struct kp_arena arena;
    int64_t received_ms;
    int64_t received_mono_ns;  /* CLOCK_MONOTONIC, for the latency histogram */
    struct request *next;      /* for lists of waiting requests */
};

typedef void (*api_handler_fn)(struct broker *b, struct request *rq);

struct api_entry {
    int16_t api_key;
    int16_t min_version, max_version; /* the range we advertise and serve */
    api_handler_fn handler;
    /* Kafka's latestVersionUnstable: a version above max_version served and
     * advertised only with unstable.api.versions.enable=true (0: none). */
    int16_t unstable_max;
    /* NULL, or whether this broker serves the API at all (e.g. KIP-848
     * groups switched off): an unavailable API is neither advertised nor
     * dispatched, as if it were not in the table. */
    bool (*available)(const struct broker *b);
};

/* e is served by this broker (see api_entry.available). */
bool api_available(const struct broker *b, const struct api_entry *e);

/* The highest version of e this broker serves (unstable.api.versions.enable). */
int16_t api_max_version(const struct broker *b, const struct api_entry *e);

/* The table that drives both dispatch and ApiVersions (api_table.c). */
const struct api_entry *api_table_lookup(int16_t api_key);
const struct api_entry *api_table_entries(size_t *n);

/* Opens the metadata log, creates the metrics registry, then loads the
 * modules of cfg->module_load into `modules` (so module init can already
 * use records and metrics), then the topics.  broker_listen binds the
 * listeners, starts the module services, then writes the port file. */
int broker_init(struct broker *b, struct ev_loop *loop, struct sluice_config *cfg,
                struct sluice_logger *log, struct module_registry *modules, char *err,
                size_t errlen);
int broker_listen(struct broker *b, const char *port_file, char *err, size_t errlen);
void broker_shutdown(struct broker *b);

/* The network layer's request callback. */
void broker_on_request(void *ud, struct net_conn *c, struct net_request *nreq);

/* Encode resp (a struct kp_<Api>Response) and send it; frees rq. */
void rq_respond(struct request *rq, const void *resp);
void rq_respond_none(struct request *rq);
/* Allocate n zeroed array items in the request arena. */
void *rq_alloc(struct request *rq, size_t size, int32_t n);
/* Allocate n array elements of struct type elem with the schema defaults
 * applied (e.g. -1 offsets), as a response's arrays need. */
void *rq_items(struct request *rq, const struct kp_struct *elem, int32_t n);
/* The element/nested struct descriptor of field `field` of s. */
const struct kp_struct *kp_sub(const struct kp_struct *s, const char *field);
struct kp_str rq_str(struct request *rq, const char *s);

int64_t broker_now_ms(const struct broker *b);
/* The host and port clients should use for this node when connected
 * through conn: advertised.listeners for the conn's listener name, else
 * the listener's own bound address (conn may be NULL: first listener). */
void broker_advertised_endpoint(struct broker *b, struct net_conn *conn, const char **host,
                                int32_t *port);

/* Topics (topics.c) */
struct broker_topic *broker_topic(struct broker *b, const char *name);
struct broker_topic *broker_topic_by_id(struct broker *b, const struct kp_uuid *id);
struct partition_log *broker_partition(struct broker *b, const char *topic, int32_t partition,
                                       int16_t *err);
/* Create a topic: metadata records, then logs.  configs are (name, value)
 * pairs already validated.  Returns a Kafka error code; errmsg gets detail. */
int16_t broker_create_topic(struct broker *b, const char *name, int32_t nparts,
                            int16_t replication_factor, const struct meta_configs *configs,
                            bool validate_only, char *errmsg, size_t errlen);
int16_t broker_delete_topic(struct broker *b, const char *name, char *errmsg, size_t errlen);
int16_t broker_create_partitions(struct broker *b, const char *name, int32_t count,
                                 bool validate_only, char *errmsg, size_t errlen);
/* Set (value != NULL) or remove (value == NULL) per-topic config
 * overrides, validated first (INVALID_CONFIG with detail), written as
 * ConfigRecords to the metadata log and applied to the topic's logs.
 * replace_all: AlterConfigs semantics (every override not listed is
 * removed).  Returns a Kafka error code. */
int16_t broker_alter_topic_configs(struct broker *b, struct broker_topic *t, const struct kv *set,
                                   size_t n, bool replace_all, bool validate_only, char *errmsg,
                                   size_t errlen);
/* The storage config the topic's logs run with. */
void broker_topic_plog_config(const struct broker_topic *t, struct plog_config *pc);
/* Re-resolve a topic's config after an override changed. */
void broker_topic_reconfigure(struct broker *b, struct broker_topic *t);
/* Same for dynamic broker configs (resource type BROKER, this node). */
int16_t broker_alter_broker_configs(struct broker *b, const struct kv *set, size_t n,
                                    bool replace_all, bool validate_only, char *errmsg,
                                    size_t errlen);
/* Current overrides of a topic as a kv array in the request arena. */
size_t broker_topic_overrides(struct broker *b, struct request *rq, const struct broker_topic *t,
                              struct kv **out);
/* Like rq_respond, but the response is sent only once every metadata record
 * written so far is durable (admin changes are acknowledged after fsync). */
void rq_respond_after_meta_sync(struct request *rq, const void *resp);
int16_t broker_validate_topic_name(const char *name, char *errmsg, size_t errlen);

/* Log compaction (compaction.c): the log cleaner's life cycle, and
 * internal compacted topics.  broker_create_internal_topic creates `name`
 * with cleanup.policy=compact and segment.bytes=segment_bytes plus the
 * extra topic configs (e.g. __consumer_offsets with
 * offsets.topic.segment.bytes and compression.type=producer, see
 * group/offsets_topic.c).  Returns a Kafka error code. */
int broker_cleaner_start(struct broker *b, char *err, size_t errlen);
void broker_cleaner_reconfigure(struct broker *b);
void broker_cleaner_stop(struct broker *b);
int16_t broker_create_internal_topic(struct broker *b, const char *name, int32_t nparts,
                                     int16_t replication_factor, int32_t segment_bytes,
                                     const struct kv *extra, size_t nextra, char *errmsg,
                                     size_t errlen);

/* Fetch waiters (fetch.c): wake long-polling fetches after an append. */
void broker_fetch_wake(struct broker *b);

/* The advertised ranges, from the api table (ApiVersions and its
 * UNSUPPORTED_VERSION answer). */
void api_versions_fill(struct request *rq, struct kp_ApiVersionsResponse *resp);

/* Handlers, one per API (one file per API family). */
void handle_api_versions(struct broker *b, struct request *rq);
void handle_metadata(struct broker *b, struct request *rq);
void handle_produce(struct broker *b, struct request *rq);
void handle_fetch(struct broker *b, struct request *rq);
void handle_list_offsets(struct broker *b, struct request *rq);
void handle_create_topics(struct broker *b, struct request *rq);
void handle_delete_topics(struct broker *b, struct request *rq);
void handle_create_partitions(struct broker *b, struct request *rq);
void handle_describe_configs(struct broker *b, struct request *rq);
void handle_alter_configs(struct broker *b, struct request *rq);
void handle_incremental_alter_configs(struct broker *b, struct request *rq);
void handle_delete_records(struct broker *b, struct request *rq);
void handle_describe_cluster(struct broker *b, struct request *rq);
void handle_init_producer_id(struct broker *b, struct request *rq);
void handle_describe_producers(struct broker *b, struct request *rq);
void handle_describe_log_dirs(struct broker *b, struct request *rq);
void handle_alter_replica_log_dirs(struct broker *b, struct request *rq);
/* Security (sasl.c, acls.c, scram_admin.c) */
void handle_sasl_handshake(struct broker *b, struct request *rq);
void handle_sasl_authenticate(struct broker *b, struct request *rq);
void handle_create_acls(struct broker *b, struct request *rq);
void handle_describe_acls(struct broker *b, struct request *rq);
void handle_delete_acls(struct broker *b, struct request *rq);
void handle_alter_user_scram_credentials(struct broker *b, struct request *rq);
void handle_describe_user_scram_credentials(struct broker *b, struct request *rq);

#endif
