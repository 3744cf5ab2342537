/* The records the group coordinator keeps in __consumer_offsets, in
 * Kafka's own formats (the group-coordinator JSON schemas) and framing, so Kafka's
 * tools and anything that decodes that topic read them:
 *   key   = int16 key version + key body
 *           0, 1: OffsetCommitKey (group, topic, partition)
 *           2:    GroupMetadataKey (group)
 *           3..8: KIP-848 consumer group records (ConsumerGroupMetadata,
 *                 PartitionMetadata, MemberMetadata, TargetAssignmentMetadata,
 *                 TargetAssignmentMember, CurrentMemberAssignment)
 *           9+:   share/streams group records (skipped)
 *   value = int16 value version + value body, or null (tombstone)
 * Writers use Kafka's current choices: offset key v1, offset value v3
 * (v1 when the commit carries an explicit expire timestamp, i.e. an
 * OffsetCommit v2-4 retention time), group key v2, group value v3. */
#ifndef SLUICE_GROUP_RECORDS_H
#define SLUICE_GROUP_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/kafka_schema.h"
#include "util/arena.h"
#include "util/wire.h"

enum grec_type {
    GREC_OTHER = 0,  /* a key version this broker does not use: skipped on load */
    GREC_OFFSET = 1, /* OffsetCommitKey/Value */
    GREC_GROUP = 2,  /* GroupMetadataKey/Value */
    /* KIP-848: the type is the key version, as in Kafka's CoordinatorRecordType. */
    GREC_CG_METADATA = 3,          /* ConsumerGroupMetadataKey/Value (group epoch) */
    GREC_CG_PARTITION_METADATA = 4, /* ConsumerGroupPartitionMetadataKey/Value */
    GREC_CG_MEMBER = 5,            /* ConsumerGroupMemberMetadataKey/Value */
    GREC_CG_TARGET_METADATA = 6,   /* ConsumerGroupTargetAssignmentMetadataKey/Value */
    GREC_CG_TARGET_MEMBER = 7,     /* ConsumerGroupTargetAssignmentMemberKey/Value */
    GREC_CG_CURRENT = 8,           /* ConsumerGroupCurrentMemberAssignmentKey/Value */
};

#define GREC_OFFSET_KEY_VERSION 1
#define GREC_GROUP_KEY_VERSION 2
#define GREC_OFFSET_VALUE_VERSION 3
#define GREC_OFFSET_VALUE_VERSION_EXPIRE 1
#define GREC_GROUP_VALUE_VERSION 3

struct grec {
    int type;             /* enum grec_type */
    int16_t key_version;
    int16_t value_version; /* -1 for a tombstone */
    bool tombstone;
    struct kp_OffsetCommitKey okey;
    struct kp_OffsetCommitValue oval;
    struct kp_GroupMetadataKey gkey;
    struct kp_GroupMetadataValue gval;
    /* KIP-848 records: the key's GroupId (and MemberId for types 5, 7, 8). */
    struct kp_str cg_group, cg_member;
    struct kp_ConsumerGroupMetadataValue cg_meta;
    struct kp_ConsumerGroupPartitionMetadataValue cg_parts;
    struct kp_ConsumerGroupMemberMetadataValue cg_mmeta;
    struct kp_ConsumerGroupTargetAssignmentMetadataValue cg_tmeta;
    struct kp_ConsumerGroupTargetAssignmentMemberValue cg_target;
    struct kp_ConsumerGroupCurrentMemberAssignmentValue cg_current;
};

/* Decodes one record; strings and arrays go into a, bytes point into the
 * input.  Returns 0 (out->type GREC_OTHER for key versions >= 9) or -1
 * for malformed input (bad version for the key type, truncated body). */
int grec_decode(const uint8_t *key, int32_t klen, const uint8_t *val, int32_t vlen,
                struct kp_arena *a, struct grec *out);

/* Encoders append to w (check w->err).  The value encoders return -1 when
 * the struct does not fit the version (e.g. a null where not nullable). */
void grec_encode_offset_key(struct wire_writer *w, const char *group, const char *topic,
                            int32_t partition);
int grec_encode_offset_value(struct wire_writer *w, const struct kp_OffsetCommitValue *v);
void grec_encode_group_key(struct wire_writer *w, const char *group);
int grec_encode_group_value(struct wire_writer *w, const struct kp_GroupMetadataValue *v);

/* KIP-848 records.  Keys: type is a GREC_CG_* (the key version); member is
 * ignored for the group-level types 3, 4 and 6.  Values are written at
 * version 0, the only one Kafka defines; body is the kp_ struct of the
 * type's value.  Returns -1 when the body does not encode. */
void grec_encode_cg_key(struct wire_writer *w, int type, const char *group, const char *member);
int grec_encode_cg_value(struct wire_writer *w, int type, const void *body);

#endif
