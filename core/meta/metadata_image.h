/* The in-memory metadata image: topics, partitions and config overrides, as
 * they result from applying the metadata record log in order (the way
 * Kafka's KRaft MetadataImage results from __cluster_metadata).  Nothing
 * here does I/O: the metadata log (metadata_log.h) decodes records and calls
 * the meta_image_apply_* functions, both at start-up replay and after a new
 * record is durable, so the image is always a function of the log. */
#ifndef SLUICE_METADATA_IMAGE_H
#define SLUICE_METADATA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strmap.h"

/* Kafka's ConfigResource types (ConfigRecord.ResourceType). */
enum { META_RESOURCE_TOPIC = 2, META_RESOURCE_BROKER = 4 };

struct meta_uuid {
    uint8_t b[16];
};

struct meta_config_entry {
    char *name;
    char *value;
};

struct meta_configs {
    struct meta_config_entry *v;
    size_t n, cap;
};

struct meta_partition {
    int32_t id;
    int32_t leader;
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t *replicas;
    int32_t nreplicas;
    int32_t *isr;
    int32_t nisr;
};

struct meta_topic {
    char *name;
    struct meta_uuid id;
    struct meta_partition *parts;
    int32_t nparts;
    struct meta_configs configs; /* per-topic overrides */
};

struct meta_image {
    struct strmap by_name; /* name -> struct meta_topic * */
    struct meta_configs broker_configs; /* dynamic broker-level overrides */
    struct strmap module_records; /* "<module>:<key>" -> value (meta/module_record.h) */
    uint64_t version;      /* number of records applied */
};

void meta_image_init(struct meta_image *img);
void meta_image_free(struct meta_image *img);

struct meta_topic *meta_image_topic(const struct meta_image *img, const char *name);
struct meta_topic *meta_image_topic_by_id(const struct meta_image *img, const struct meta_uuid *id);
size_t meta_image_topic_count(const struct meta_image *img);
/* Iterate topics: for (size_t it = 0; (t = meta_image_next_topic(img, &it));) */
struct meta_topic *meta_image_next_topic(const struct meta_image *img, size_t *iter);

/* Appliers: return 0, or -1 when the record does not fit the image (e.g. a
 * partition for an unknown topic id), which replay reports as corruption. */
int meta_image_apply_topic(struct meta_image *img, const char *name, const struct meta_uuid *id);
int meta_image_apply_partition(struct meta_image *img, const struct meta_uuid *topic_id,
                               int32_t partition, const int32_t *replicas, int32_t nreplicas,
                               const int32_t *isr, int32_t nisr, int32_t leader,
                               int32_t leader_epoch, int32_t partition_epoch);
/* value NULL removes the override. */
int meta_image_apply_config(struct meta_image *img, int8_t resource_type, const char *resource_name,
                            const char *name, const char *value);
int meta_image_apply_remove_topic(struct meta_image *img, const struct meta_uuid *id);

const char *meta_configs_get(const struct meta_configs *c, const char *name);
int meta_configs_set(struct meta_configs *c, const char *name, const char *value);
void meta_configs_free(struct meta_configs *c);

bool meta_uuid_is_zero(const struct meta_uuid *u);
/* Kafka prints topic ids base64url without padding (22 chars). */
void meta_uuid_to_base64(const struct meta_uuid *u, char out[23]);
void meta_uuid_random(struct meta_uuid *u);

#endif
