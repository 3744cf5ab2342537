/* __consumer_offsets record formats: exact bytes of Kafka's framing and
 * round trips through the decoder. */
#include "group/group_records.h"
#include "tap.h"

#include <string.h>

int main(void)
{
    struct wire_writer w;
    wire_writer_init(&w);
    grec_encode_offset_key(&w, "g1", "t", 3);
    static const uint8_t want_key[] = { 0, 1, 0, 2, 'g', '1', 0, 1, 't', 0, 0, 0, 3 };
    is_int((int)w.len, (int)sizeof want_key, "offset key length");
    is_mem(w.buf, want_key, sizeof want_key, "offset key: v1, group, topic, partition");

    struct wire_writer v;
    wire_writer_init(&v);
    struct kp_OffsetCommitValue ov = { 42, 7, kp_str_c("md"), 1000, -1 };
    grec_encode_offset_value(&v, &ov);
    static const uint8_t want_val[] = { 0, 3, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7,
                                        0, 2, 'm', 'd', 0, 0, 0, 0, 0, 0, 0x03, 0xe8 };
    is_int((int)v.len, (int)sizeof want_val, "offset value v3 length");
    is_mem(v.buf, want_val, sizeof want_val, "offset value v3 bytes");

    struct kp_arena a;
    kp_arena_init(&a);
    struct grec r;
    is_int(grec_decode(w.buf, (int32_t)w.len, v.buf, (int32_t)v.len, &a, &r), 0, "decodes");
    is_int(r.type, GREC_OFFSET, "offset record");
    is_str(r.okey.group.s, "g1", "group");
    is_str(r.okey.topic.s, "t", "topic");
    is_int(r.okey.partition, 3, "partition");
    is_int((int)r.oval.offset, 42, "offset");
    is_int(r.oval.leaderEpoch, 7, "leader epoch");
    is_str(r.oval.metadata.s, "md", "metadata");
    is_int((int)r.oval.commitTimestamp, 1000, "commit timestamp");
    is_int(grec_decode(w.buf, (int32_t)w.len, NULL, -1, &a, &r), 0, "tombstone decodes");
    ok(r.tombstone, "tombstone flagged");

    /* An explicit expire timestamp selects value v1. */
    wire_writer_free(&v);
    wire_writer_init(&v);
    struct kp_OffsetCommitValue ov1 = { 5, -1, kp_str_c(""), 1000, 2000 };
    grec_encode_offset_value(&v, &ov1);
    is_int(v.buf[1], 1, "value v1 when expiring");
    is_int(grec_decode(w.buf, (int32_t)w.len, v.buf, (int32_t)v.len, &a, &r), 0, "v1 decodes");
    is_int((int)r.oval.expireTimestamp, 2000, "expire timestamp kept");

    /* Group metadata v3. */
    struct wire_writer gk, gv;
    wire_writer_init(&gk);
    wire_writer_init(&gv);
    grec_encode_group_key(&gk, "grp");
    static const uint8_t want_gk[] = { 0, 2, 0, 3, 'g', 'r', 'p' };
    is_mem(gk.buf, want_gk, sizeof want_gk, "group key v2");
    struct kp_GroupMetadataValue_MemberMetadata mm = {
        kp_str_c("m-1"), kp_str_c("inst"), kp_str_c("cli"), kp_str_c("/127.0.0.1"),
        30000, 10000, { (const uint8_t *)"sub", 3 }, { (const uint8_t *)"asg", 3 } };
    struct kp_GroupMetadataValue gmv = { kp_str_c("consumer"), 4, kp_str_c("range"),
                                         kp_str_c("m-1"), 123, { &mm, 1 } };
    is_int(grec_encode_group_value(&gv, &gmv), 0, "group value encodes");
    is_int(gv.buf[1], 3, "group value v3");
    is_int(grec_decode(gk.buf, (int32_t)gk.len, gv.buf, (int32_t)gv.len, &a, &r), 0,
           "group record decodes");
    is_int(r.type, GREC_GROUP, "group record");
    is_str(r.gkey.group.s, "grp", "group id");
    is_int(r.gval.generation, 4, "generation");
    is_str(r.gval.protocol.s, "range", "protocol");
    is_int(r.gval.members.count, 1, "one member");
    is_str(r.gval.members.items[0].groupInstanceId.s, "inst", "instance id");
    is_int(r.gval.members.items[0].assignment.len, 3, "assignment");

    /* Key versions >= 9 (share and streams group records) are skipped, not errors. */
    static const uint8_t k3[] = { 0, 9, 0, 1, 'x' };
    is_int(grec_decode(k3, sizeof k3, NULL, -1, &a, &r), 0, "v9 key accepted");
    is_int(r.type, GREC_OTHER, "v9 key (share group) is another record type");
    /* Truncated records are errors. */
    is_int(grec_decode(want_key, 5, NULL, -1, &a, &r), -1, "truncated key");
    is_int(grec_decode(w.buf, (int32_t)w.len, want_val, 8, &a, &r), -1, "truncated value");
    static const uint8_t neg[] = { 0xff, 0xff };
    is_int(grec_decode(neg, 2, NULL, -1, &a, &r), -1, "negative key version");

    kp_arena_free(&a);
    wire_writer_free(&w);
    wire_writer_free(&v);
    wire_writer_free(&gk);
    wire_writer_free(&gv);
    done_testing();
}
