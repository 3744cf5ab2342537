#include "group/group_records.h"

#include <string.h>

#include "proto/kp_codec.h"

static const struct kp_message *cg_key_msg(int type)
{
    switch (type) {
    case GREC_CG_METADATA: return &kp_msg_ConsumerGroupMetadataKey;
    case GREC_CG_PARTITION_METADATA: return &kp_msg_ConsumerGroupPartitionMetadataKey;
    case GREC_CG_MEMBER: return &kp_msg_ConsumerGroupMemberMetadataKey;
    case GREC_CG_TARGET_METADATA: return &kp_msg_ConsumerGroupTargetAssignmentMetadataKey;
    case GREC_CG_TARGET_MEMBER: return &kp_msg_ConsumerGroupTargetAssignmentMemberKey;
    case GREC_CG_CURRENT: return &kp_msg_ConsumerGroupCurrentMemberAssignmentKey;
    default: return NULL;
    }
}

static const struct kp_message *cg_value_msg(int type)
{
    switch (type) {
    case GREC_CG_METADATA: return &kp_msg_ConsumerGroupMetadataValue;
    case GREC_CG_PARTITION_METADATA: return &kp_msg_ConsumerGroupPartitionMetadataValue;
    case GREC_CG_MEMBER: return &kp_msg_ConsumerGroupMemberMetadataValue;
    case GREC_CG_TARGET_METADATA: return &kp_msg_ConsumerGroupTargetAssignmentMetadataValue;
    case GREC_CG_TARGET_MEMBER: return &kp_msg_ConsumerGroupTargetAssignmentMemberValue;
    case GREC_CG_CURRENT: return &kp_msg_ConsumerGroupCurrentMemberAssignmentValue;
    default: return NULL;
    }
}

static void *cg_value_body(struct grec *out)
{
    switch (out->type) {
    case GREC_CG_METADATA: return &out->cg_meta;
    case GREC_CG_PARTITION_METADATA: return &out->cg_parts;
    case GREC_CG_MEMBER: return &out->cg_mmeta;
    case GREC_CG_TARGET_METADATA: return &out->cg_tmeta;
    case GREC_CG_TARGET_MEMBER: return &out->cg_target;
    default: return &out->cg_current;
    }
}

/* The member-keyed records share one key layout (GroupId, MemberId), the
 * group-keyed ones (GroupId); the generated structs agree on it. */
static int decode_cg(struct grec *out, struct wire_reader *r, const uint8_t *val, int32_t vlen,
                     struct kp_arena *a)
{
    out->type = out->key_version;
    struct kp_ConsumerGroupMemberMetadataKey k;
    memset(&k, 0, sizeof k);
    const struct kp_message *km = cg_key_msg(out->type), *vm = cg_value_msg(out->type);
    void *kb = &k;
    struct kp_ConsumerGroupMetadataKey gk;
    bool member_keyed = out->type == GREC_CG_MEMBER || out->type == GREC_CG_TARGET_MEMBER ||
                        out->type == GREC_CG_CURRENT;
    if (!member_keyed)
        kb = &gk;
    if (kp_decode(km, out->key_version, r, kb, a) < 0 || wire_remaining(r) != 0)
        return -1;
    if (member_keyed) {
        out->cg_group = k.GroupId;
        out->cg_member = k.MemberId;
    } else {
        out->cg_group = gk.GroupId;
        out->cg_member = kp_str_c(NULL);
    }
    if (!out->cg_group.s || (member_keyed && !out->cg_member.s))
        return -1;
    if (!val || vlen < 0) {
        out->tombstone = true;
        out->value_version = -1;
        return 0;
    }
    if (vlen < 2)
        return -1;
    struct wire_reader vr;
    wire_reader_init(&vr, val, (size_t)vlen);
    out->value_version = wire_read_i16(&vr);
    int16_t ver = out->value_version;
    if (ver < vm->valid_min)
        return -1;
    if (ver > vm->valid_max)
        ver = vm->valid_max; /* newer versions only add tagged fields (KIP-915) */
    return kp_decode(vm, ver, &vr, cg_value_body(out), a) < 0 ? -1 : 0;
}

int grec_decode(const uint8_t *key, int32_t klen, const uint8_t *val, int32_t vlen,
                struct kp_arena *a, struct grec *out)
{
    memset(out, 0, sizeof *out);
    if (!key || klen < 2)
        return -1;
    struct wire_reader r;
    wire_reader_init(&r, key, (size_t)klen);
    out->key_version = wire_read_i16(&r);
    const struct kp_message *km, *vm;
    void *k, *v;
    if (out->key_version == 0 || out->key_version == 1) {
        out->type = GREC_OFFSET;
        km = &kp_msg_OffsetCommitKey, vm = &kp_msg_OffsetCommitValue;
        k = &out->okey, v = &out->oval;
    } else if (out->key_version == 2) {
        out->type = GREC_GROUP;
        km = &kp_msg_GroupMetadataKey, vm = &kp_msg_GroupMetadataValue;
        k = &out->gkey, v = &out->gval;
    } else if (out->key_version >= GREC_CG_METADATA && out->key_version <= GREC_CG_CURRENT) {
        return decode_cg(out, &r, val, vlen, a);
    } else if (out->key_version > GREC_CG_CURRENT) {
        out->type = GREC_OTHER;
        return 0;
    } else {
        return -1;
    }
    if (kp_decode(km, out->key_version, &r, k, a) < 0 || wire_remaining(&r) != 0)
        return -1;
    if (!val || vlen < 0) {
        out->tombstone = true;
        out->value_version = -1;
        return 0;
    }
    wire_reader_init(&r, val, (size_t)vlen);
    if (vlen < 2)
        return -1;
    out->value_version = wire_read_i16(&r);
    /* Kafka reads a value with a newer version than it knows by its known
     * fields (KIP-915: later versions only add tagged fields); decode as the
     * highest version we know in that case, ignoring trailing bytes. */
    int16_t ver = out->value_version;
    if (ver < vm->valid_min)
        return -1;
    if (ver > vm->valid_max)
        ver = vm->valid_max;
    if (kp_decode(vm, ver, &r, v, a) < 0)
        return -1;
    return 0;
}

static void encode_with_version(struct wire_writer *w, const struct kp_message *m, int16_t ver,
                                const void *body, int *rc)
{
    wire_write_i16(w, ver);
    *rc = kp_encode(m, ver, body, w) < 0 ? -1 : 0;
}

void grec_encode_offset_key(struct wire_writer *w, const char *group, const char *topic,
                            int32_t partition)
{
    struct kp_OffsetCommitKey k = { kp_str_c(group), kp_str_c(topic), partition };
    int rc;
    encode_with_version(w, &kp_msg_OffsetCommitKey, GREC_OFFSET_KEY_VERSION, &k, &rc);
}

int grec_encode_offset_value(struct wire_writer *w, const struct kp_OffsetCommitValue *v)
{
    int rc;
    int16_t ver = v->expireTimestamp >= 0 ? GREC_OFFSET_VALUE_VERSION_EXPIRE
                                          : GREC_OFFSET_VALUE_VERSION;
    encode_with_version(w, &kp_msg_OffsetCommitValue, ver, v, &rc);
    return rc;
}

void grec_encode_group_key(struct wire_writer *w, const char *group)
{
    struct kp_GroupMetadataKey k = { kp_str_c(group) };
    int rc;
    encode_with_version(w, &kp_msg_GroupMetadataKey, GREC_GROUP_KEY_VERSION, &k, &rc);
}

int grec_encode_group_value(struct wire_writer *w, const struct kp_GroupMetadataValue *v)
{
    int rc;
    encode_with_version(w, &kp_msg_GroupMetadataValue, GREC_GROUP_VALUE_VERSION, v, &rc);
    return rc;
}

void grec_encode_cg_key(struct wire_writer *w, int type, const char *group, const char *member)
{
    const struct kp_message *km = cg_key_msg(type);
    if (!km) {
        w->err = 1;
        return;
    }
    int rc;
    if (type == GREC_CG_MEMBER || type == GREC_CG_TARGET_MEMBER || type == GREC_CG_CURRENT) {
        struct kp_ConsumerGroupMemberMetadataKey k = { kp_str_c(group), kp_str_c(member) };
        encode_with_version(w, km, (int16_t)type, &k, &rc);
    } else {
        struct kp_ConsumerGroupMetadataKey k = { kp_str_c(group) };
        encode_with_version(w, km, (int16_t)type, &k, &rc);
    }
}

int grec_encode_cg_value(struct wire_writer *w, int type, const void *body)
{
    const struct kp_message *vm = cg_value_msg(type);
    if (!vm)
        return -1;
    int rc;
    encode_with_version(w, vm, 0, body, &rc);
    return rc;
}
