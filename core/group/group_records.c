#include "group/group_records.h"

#include <string.h>

#include "proto/kp_codec.h"

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
    } else if (out->key_version > 2) {
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
