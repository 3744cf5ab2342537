/* Applying one metadata log record to the image.  See metadata_record.h. */
#include "meta/metadata_record.h"

#include <stdio.h>
#include <string.h>

#include "meta/metadata_store.h"
#include "meta/module_record.h"
#include "proto/kafka_schema.h"
#include "proto/kp_codec.h"
#include "util/arena.h"

static struct meta_uuid to_meta_uuid(const struct kp_uuid *u)
{
    struct meta_uuid m;
    memcpy(m.b, u->b, 16);
    return m;
}

int meta_record_apply(struct meta_image *img, int16_t type, const void *msg)
{
    switch (type) {
    case META_REC_TOPIC: {
        const struct kp_TopicRecord *r = msg;
        struct meta_uuid id = to_meta_uuid(&r->TopicId);
        return meta_image_apply_topic(img, r->Name.s ? r->Name.s : "", &id);
    }
    case META_REC_PARTITION: {
        const struct kp_PartitionRecord *r = msg;
        struct meta_uuid id = to_meta_uuid(&r->TopicId);
        return meta_image_apply_partition(img, &id, r->PartitionId, r->Replicas.items,
                                          r->Replicas.count, r->Isr.items, r->Isr.count,
                                          r->Leader, r->LeaderEpoch, r->PartitionEpoch);
    }
    case META_REC_CONFIG: {
        const struct kp_ConfigRecord *r = msg;
        return meta_image_apply_config(img, r->ResourceType,
                                       r->ResourceName.s ? r->ResourceName.s : "",
                                       r->Name.s ? r->Name.s : "", r->Value.s);
    }
    case META_REC_REMOVE_TOPIC: {
        const struct kp_RemoveTopicRecord *r = msg;
        struct meta_uuid id = to_meta_uuid(&r->TopicId);
        return meta_image_apply_remove_topic(img, &id);
    }
    case META_REC_PRODUCER_IDS: {
        const struct kp_ProducerIdsRecord *r = msg;
        return meta_image_apply_producer_ids(img, r->NextProducerId);
    }
    case META_REC_SLUICE_MODULE_RECORD:
        return meta_image_apply_module_record(img, msg);
    default:
        /* Record types this version does not use yet (a newer broker's
         * log): skipped, as KRaft brokers skip what they don't know. */
        return 0;
    }
}

/* Sluice's own record type (outside Kafka's apiKey range, so it never
 * reaches Kafka's generated schema tables). */
static int replay_module_record(struct meta_image *img, struct wire_reader *r, int16_t version,
                                int64_t offset, char *err, size_t errlen)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct meta_module_record rec;
    int rc = 0;
    if (version != MODULE_RECORD_VERSION) {
        snprintf(err, errlen,
                 "metadata log offset %lld: SluiceModuleRecord v%d was written by a newer "
                 "Sluice (this one reads v%d)",
                 (long long)offset, version, MODULE_RECORD_VERSION);
        rc = -1;
    } else if (module_record_decode(r, version, &a, &rec) < 0) {
        snprintf(err, errlen, "metadata log offset %lld: cannot decode SluiceModuleRecord v%d",
                 (long long)offset, version);
        rc = -1;
    } else if (meta_image_apply_module_record(img, &rec) < 0) {
        snprintf(err, errlen, "metadata log offset %lld: SluiceModuleRecord does not apply",
                 (long long)offset);
        rc = -1;
    }
    kp_arena_free(&a);
    return rc;
}

int meta_record_apply_value(struct meta_image *img, const uint8_t *v, int32_t len, int64_t offset,
                            char *err, size_t errlen)
{
    struct wire_reader r;
    wire_reader_init(&r, v, len < 0 ? 0 : (size_t)len);
    uint32_t frame = wire_read_uvarint(&r);
    uint32_t type = wire_read_uvarint(&r);
    uint32_t version = wire_read_uvarint(&r);
    if (r.err || frame != META_FRAME_VERSION) {
        snprintf(err, errlen, "metadata log offset %lld: bad record frame", (long long)offset);
        return -1;
    }
    if (type == META_REC_SLUICE_MODULE_RECORD)
        return replay_module_record(img, &r, (int16_t)version, offset, err, errlen);
    const struct kp_message *m = kp_metadata_record((int16_t)type);
    if (!m)
        return 0;
    struct kp_arena a;
    kp_arena_init(&a);
    void *msg = kp_arena_alloc(&a, m->body->size);
    int rc = msg ? kp_decode(m, (int16_t)version, &r, msg, &a) : -1;
    if (rc == 0 && meta_record_apply(img, (int16_t)type, msg) < 0) {
        snprintf(err, errlen, "metadata log offset %lld: %s does not apply to the image",
                 (long long)offset, m->name);
        rc = -1;
    } else if (rc < 0) {
        snprintf(err, errlen, "metadata log offset %lld: cannot decode %s v%u",
                 (long long)offset, m->name, version);
    }
    kp_arena_free(&a);
    return rc < 0 ? -1 : 0;
}
