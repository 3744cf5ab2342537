/* The metadata store: an append-only log of KRaft metadata records
 * (TopicRecord, PartitionRecord, ConfigRecord, RemoveTopicRecord, in
 * Kafka's own formats and framing) kept in the partition log
 * `__cluster_metadata-0` under metadata.log.dir, plus the image built by
 * applying them.  Start-up replays the log into the image; a change is an
 * append of records followed by applying them.  Clusters will later put a
 * consensus engine under this same log instead of replacing it. */
#ifndef SLUICE_METADATA_STORE_H
#define SLUICE_METADATA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "meta/metadata_image.h"

struct flusher;
struct sluice_logger;
struct meta_store;

/* Metadata record types (the apiKey of the record schemas in Kafka's metadata directory). */
enum {
    META_REC_TOPIC = 2,
    META_REC_PARTITION = 3,
    META_REC_CONFIG = 4,
    META_REC_REMOVE_TOPIC = 9,
    /* 10000+: Sluice's own record types (meta/module_record.h). */
};

/* One record to append: msg is the generated struct for its type (struct
 * kp_TopicRecord, kp_PartitionRecord, kp_ConfigRecord, kp_RemoveTopicRecord),
 * or a struct meta_module_record for META_REC_SLUICE_MODULE_RECORD. */
struct meta_record {
    int16_t type;
    int16_t version;
    const void *msg;
};

int meta_store_open(struct meta_store **out, const char *dir, struct flusher *fl,
                    struct sluice_logger *log, int64_t now_ms, char *err, size_t errlen);
struct meta_image *meta_store_image(struct meta_store *ms);

/* Appends the records as one batch (atomic: all or nothing after a crash),
 * then applies them to the image.  Returns 0, or -1 with err set (nothing
 * applied). */
int meta_store_append(struct meta_store *ms, const struct meta_record *recs, size_t n,
                      int64_t now_ms, char *err, size_t errlen);

/* cb runs on the loop thread once everything appended so far is on disk. */
int meta_store_sync(struct meta_store *ms, void (*cb)(void *ud, int err), void *ud);

/* The cluster id, persisted beside the log in meta.properties (Kafka's file
 * name and keys: version, node.id, cluster.id) and created on first start. */
const char *meta_store_cluster_id(const struct meta_store *ms);

/* I/O errors of the metadata log go to fn (plog_io_error_fn): the broker
 * halts, as Kafka does when its metadata log directory fails. */
struct partition_log;
void meta_store_set_io_error_cb(struct meta_store *ms,
                                void (*fn)(void *ud, struct partition_log *pl, int err,
                                           const char *what),
                                void *ud);

void meta_store_close(struct meta_store *ms);

#endif
