/* Golden bytes and round trips for the generic Kafka codec, the headers and
 * the varint primitives it relies on. */
#include <stdint.h>
#include <string.h>

#include "proto/kp_codec.h"
#include "tap.h"
#include "util/arena.h"
#include "util/wire.h"

#define B(...) ((const uint8_t[]){ __VA_ARGS__ })

static void test_varints(void)
{
    static const struct {
        uint32_t v;
        size_t n;
        uint8_t b[5];
    } cases[] = {
        { 0, 1, { 0x00 } },
        { 1, 1, { 0x01 } },
        { 127, 1, { 0x7f } },
        { 128, 2, { 0x80, 0x01 } },
        { 300, 2, { 0xac, 0x02 } },
        { 16383, 2, { 0xff, 0x7f } },
        { 16384, 3, { 0x80, 0x80, 0x01 } },
        { UINT32_MAX, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct wire_writer w;
        wire_writer_init(&w);
        wire_write_uvarint(&w, cases[i].v);
        is_int(w.len, cases[i].n, "uvarint %u is %zu bytes", cases[i].v, cases[i].n);
        ok(w.len == cases[i].n && memcmp(w.buf, cases[i].b, w.len) == 0, "uvarint %u bytes",
           cases[i].v);
        is_int(wire_uvarint_size(cases[i].v), cases[i].n, "uvarint_size %u", cases[i].v);
        struct wire_reader r;
        wire_reader_init(&r, w.buf, w.len);
        is_int(wire_read_uvarint(&r), cases[i].v, "uvarint %u decodes", cases[i].v);
        ok(r.err == 0 && r.pos == w.len, "uvarint %u consumed exactly", cases[i].v);
        wire_writer_free(&w);
    }
    struct wire_reader r;
    /* 2^32 does not fit: the 5th byte may only carry 4 bits. */
    wire_reader_init(&r, B(0x80, 0x80, 0x80, 0x80, 0x10), 5);
    wire_read_uvarint(&r);
    is_int(r.err, WIRE_EVARINT, "uvarint overflow in 5th byte rejected");
    wire_reader_init(&r, B(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 6);
    wire_read_uvarint(&r);
    is_int(r.err, WIRE_EVARINT, "6-byte uvarint rejected");
    wire_reader_init(&r, B(0x80, 0x80), 2);
    wire_read_uvarint(&r);
    is_int(r.err, WIRE_EUNDERFLOW, "truncated uvarint is underflow");

    static const int32_t zz[] = { 0, -1, 1, -64, 63, 64, INT32_MIN, INT32_MAX };
    static const uint32_t zzu[] = { 0, 1, 2, 127, 126, 128, UINT32_MAX, UINT32_MAX - 1 };
    for (size_t i = 0; i < sizeof zz / sizeof zz[0]; i++) {
        struct wire_writer w;
        wire_writer_init(&w);
        wire_write_varint(&w, zz[i]);
        wire_reader_init(&r, w.buf, w.len);
        is_int(wire_read_uvarint(&r), zzu[i], "zigzag of %d", zz[i]);
        wire_reader_init(&r, w.buf, w.len);
        is_int(wire_read_varint(&r), zz[i], "varint %d round trip", zz[i]);
        wire_writer_free(&w);
    }
    static const int64_t zl[] = { 0, -1, INT64_MIN, INT64_MAX, 1LL << 40 };
    for (size_t i = 0; i < sizeof zl / sizeof zl[0]; i++) {
        struct wire_writer w;
        wire_writer_init(&w);
        wire_write_varlong(&w, zl[i]);
        is_int(w.len, wire_varlong_size(zl[i]), "varlong_size %lld", (long long)zl[i]);
        wire_reader_init(&r, w.buf, w.len);
        ok(wire_read_varlong(&r) == zl[i] && !r.err && r.pos == w.len,
           "varlong %lld round trip", (long long)zl[i]);
        wire_writer_free(&w);
    }
    wire_reader_init(&r, B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), 10);
    wire_read_uvarlong(&r);
    is_int(r.err, WIRE_EVARINT, "uvarlong overflow in 10th byte rejected");
}

static void test_lookup(void)
{
    ok(kp_request_message(KP_API_PRODUCE) == &kp_msg_ProduceRequest, "request 0 is Produce");
    ok(kp_response_message(KP_API_FETCH) == &kp_msg_FetchResponse, "response 1 is Fetch");
    ok(kp_request_message(-1) == NULL && kp_request_message(999) == NULL,
       "unknown api keys give NULL");
    ok(kp_message_by_name("ApiVersionsRequest") == &kp_msg_ApiVersionsRequest, "by name");
    ok(kp_message_by_name("NoSuchThing") == NULL, "unknown name gives NULL");
    ok(kp_metadata_record(2) == &kp_msg_TopicRecord, "metadata record type 2 is TopicRecord");
    is_int(KP_API_API_VERSIONS, 18, "KP_API_API_VERSIONS");
    is_int(KP_API_OFFSET_FOR_LEADER_EPOCH, 23, "KP_API_OFFSET_FOR_LEADER_EPOCH");
    is_int(kp_msg_ProduceRequest.flexible_min, 9, "Produce flexible from v9");
    is_int(kp_msg_ApiVersionsRequest.kind, KP_KIND_REQUEST, "ApiVersionsRequest kind");
    is_int(KP_ERR_UNSUPPORTED_VERSION, 35, "UNSUPPORTED_VERSION is 35");
    is_int(KP_ERR_NOT_LEADER_OR_FOLLOWER, 6, "NOT_LEADER_OR_FOLLOWER is 6");
    is_str(kp_error_name(3), "UNKNOWN_TOPIC_OR_PARTITION", "error name 3");
    is_str(kp_error_name(-1), "UNKNOWN_SERVER_ERROR", "error name -1");
    is_str(kp_error_name(KP_ERR_TRANSACTION_ABORTABLE), "TRANSACTION_ABORTABLE", "error name 120");
    is_str(kp_error_name(30000), "UNKNOWN_ERROR_CODE", "error name out of range");
}

static void test_api_versions_request(void)
{
    /* A librdkafka-style ApiVersionsRequest v3: header v2, compact body. */
    static const uint8_t in[] = {
        0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07,                 /* key, ver, corr */
        0x00, 0x07, 'r', 'd', 'k', 'a', 'f', 'k', 'a',                   /* client id */
        0x00,                                                           /* header tags */
        0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a',          /* software name */
        0x06, '2', '.', '3', '.', '0',                                  /* version */
        0x01, 0x63, 0x03, 0xaa, 0xbb, 0xcc,                             /* unknown tag 99 */
    };
    struct kp_arena a;
    kp_arena_init(&a);
    struct wire_reader r;
    wire_reader_init(&r, in, sizeof in);
    struct kp_request_header h;
    is_int(kp_decode_request_header(&r, &h, &a), 0, "ApiVersions v3 header decodes");
    is_int(h.ApiKey, 18, "ApiKey");
    is_int(h.ApiVersion, 3, "ApiVersion");
    is_int(h.CorrelationId, 7, "CorrelationId");
    is_str(h.ClientId.s, "rdkafka", "ClientId");
    is_int(r.pos, 18, "header v2 consumed incl. tag buffer");
    struct kp_ApiVersionsRequest req = { 0 };
    is_int(kp_decode(&kp_msg_ApiVersionsRequest, 3, &r, &req, &a), 0, "body decodes");
    is_str(req.ClientSoftwareName.s, "librdkafka", "ClientSoftwareName");
    is_int(req.ClientSoftwareName.len, 10, "ClientSoftwareName len");
    is_str(req.ClientSoftwareVersion.s, "2.3.0", "ClientSoftwareVersion");
    is_int(wire_remaining(&r), 0, "unknown tag skipped, all consumed");

    /* Re-encoding gives the same body minus the unknown tag. */
    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ApiVersionsRequest, 3, &req, &w), 0, "re-encode");
    ok(w.len == 18 && memcmp(w.buf, in + 18, 17) == 0 && w.buf[17] == 0,
       "re-encoded bytes match, empty tag section");
    wire_writer_free(&w);

    /* v0 has no body fields: header v1, nothing after it. */
    static const uint8_t v0[] = { 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff };
    wire_reader_init(&r, v0, sizeof v0);
    is_int(kp_decode_request_header(&r, &h, &a), 0, "v0 header with null client id");
    ok(h.ClientId.s == NULL && h.ClientId.len == -1, "null ClientId");
    struct kp_ApiVersionsRequest req0 = { 0 };
    is_int(kp_decode(&kp_msg_ApiVersionsRequest, 0, &r, &req0, &a), 0, "empty v0 body");
    ok(req0.ClientSoftwareName.len == 0 && req0.ClientSoftwareName.s &&
       req0.ClientSoftwareName.s[0] == 0, "absent field gets default \"\"");

    /* Unknown version of a known API: header v1 only, so the tag byte that
     * follows is left for the caller (which answers UNSUPPORTED_VERSION). */
    static const uint8_t v99[] = { 0x00, 0x12, 0x00, 0x63, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 'x', 0x00 };
    wire_reader_init(&r, v99, sizeof v99);
    is_int(kp_decode_request_header(&r, &h, &a), 0, "header of unknown version decodes");
    is_int(r.pos, 11, "unknown version: header v1 only");
    is_int(kp_request_is_flexible(18, 99), 0, "unknown version not flexible");
    is_int(kp_request_is_flexible(999, 0), 0, "unknown api not flexible");
    is_int(kp_request_is_flexible(0, 9), 1, "Produce v9 flexible");
    is_int(kp_request_is_flexible(0, 8), 0, "Produce v8 not flexible");
    kp_arena_free(&a);
}

static void test_response_header(void)
{
    struct wire_writer w;
    wire_writer_init(&w);
    kp_encode_response_header(&w, KP_API_API_VERSIONS, 3, 0x01020304);
    ok(w.len == 4 && memcmp(w.buf, B(1, 2, 3, 4), 4) == 0, "ApiVersions v3: header v0");
    w.len = 0;
    kp_encode_response_header(&w, KP_API_METADATA, 9, 5);
    ok(w.len == 5 && memcmp(w.buf, B(0, 0, 0, 5, 0), 5) == 0, "Metadata v9: header v1");
    w.len = 0;
    kp_encode_response_header(&w, KP_API_METADATA, 8, 5);
    is_int(w.len, 4, "Metadata v8: header v0");
    wire_writer_free(&w);
}

static void test_metadata_request(void)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct wire_reader r;

    /* v1: null topics means all topics. */
    struct kp_MetadataRequest req = { 0 };
    wire_reader_init(&r, B(0xff, 0xff, 0xff, 0xff), 4);
    is_int(kp_decode(&kp_msg_MetadataRequest, 1, &r, &req, &a), 0, "Metadata v1 null topics");
    is_int(req.Topics.count, -1, "Topics null");
    is_int(req.AllowAutoTopicCreation, 1, "v1 AllowAutoTopicCreation defaults to true");

    static const uint8_t v1[] = { 0, 0, 0, 2, 0, 3, 'f', 'o', 'o', 0, 2, 'b', 'a' };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, v1, sizeof v1);
    is_int(kp_decode(&kp_msg_MetadataRequest, 1, &r, &req, &a), 0, "Metadata v1 two topics");
    is_int(req.Topics.count, 2, "2 topics");
    is_str(req.Topics.items[0].Name.s, "foo", "topic 0");
    is_str(req.Topics.items[1].Name.s, "ba", "topic 1");
    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_MetadataRequest, 1, &req, &w), 0, "encode v1");
    ok(w.len == sizeof v1 && memcmp(w.buf, v1, sizeof v1) == 0, "v1 round trip bytes");

    /* v0: Topics not nullable. */
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, B(0xff, 0xff, 0xff, 0xff), 4);
    is_int(kp_decode(&kp_msg_MetadataRequest, 0, &r, &req, &a), -WIRE_EINVAL,
           "v0 null topics rejected");

    /* v9: compact array/string, tag sections, the three bools. */
    static const uint8_t v9[] = { 0x02, 0x04, 'f', 'o', 'o', 0x00, 0x01, 0x00, 0x01, 0x00 };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, v9, sizeof v9);
    is_int(kp_decode(&kp_msg_MetadataRequest, 9, &r, &req, &a), 0, "Metadata v9 decodes");
    is_int(req.Topics.count, 1, "v9 1 topic");
    is_str(req.Topics.items[0].Name.s, "foo", "v9 topic name");
    ok(req.AllowAutoTopicCreation && !req.IncludeClusterAuthorizedOperations &&
       req.IncludeTopicAuthorizedOperations, "v9 bools");
    is_int(wire_remaining(&r), 0, "v9 consumed");
    wire_writer_free(&w);
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_MetadataRequest, 9, &req, &w), 0, "encode v9");
    ok(w.len == sizeof v9 && memcmp(w.buf, v9, sizeof v9) == 0, "v9 round trip bytes");
    wire_writer_free(&w);
    kp_arena_free(&a);
}

static void test_produce_request(void)
{
    static const uint8_t batch[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef };
    struct kp_arena a;
    kp_arena_init(&a);

    /* v3 built by hand. */
    uint8_t v3[64];
    size_t n = 0;
    memcpy(v3 + n, B(0xff, 0xff, 0xff, 0xff, 0, 0, 0x75, 0x30), 8); /* null txn id, acks -1, 30000 */
    n += 8;
    memcpy(v3 + n, B(0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 16), 19);
    n += 19;
    size_t rec_at = n;
    memcpy(v3 + n, batch, sizeof batch);
    n += sizeof batch;

    struct wire_reader r;
    wire_reader_init(&r, v3, n);
    struct kp_ProduceRequest req = { 0 };
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), 0, "Produce v3 decodes");
    ok(req.TransactionalId.s == NULL && req.TransactionalId.len == -1, "null TransactionalId");
    is_int(req.Acks, -1, "Acks");
    is_int(req.TimeoutMs, 30000, "TimeoutMs");
    is_int(req.TopicData.count, 1, "1 topic");
    is_str(req.TopicData.items[0].Name.s, "t", "topic name");
    is_int(req.TopicData.items[0].PartitionData.count, 1, "1 partition");
    struct kp_ProduceRequest_PartitionProduceData *pd = &req.TopicData.items[0].PartitionData.items[0];
    is_int(pd->Index, 2, "partition index");
    ok(pd->Records.p == v3 + rec_at, "records point into the input (zero-copy)");
    is_int(pd->Records.len, 16, "records length");

    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ProduceRequest, 3, &req, &w), 0, "encode v3");
    ok(w.len == n && memcmp(w.buf, v3, n) == 0, "v3 round trip bytes");

    /* v9 (flexible) from the same struct, with a transactional id. */
    req.TransactionalId = kp_str_c("tx");
    wire_writer_free(&w);
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ProduceRequest, 9, &req, &w), 0, "encode v9");
    static const uint8_t v9_head[] = {
        0x03, 't', 'x', 0xff, 0xff, 0, 0, 0x75, 0x30, /* compact "tx", acks, timeout */
        0x02, 0x02, 't', 0x02, 0, 0, 0, 2, 0x11,      /* topics[1] "t" parts[1] idx 2 records 16+1 */
    };
    ok(w.len == sizeof v9_head + sizeof batch + 3 &&
       memcmp(w.buf, v9_head, sizeof v9_head) == 0 &&
       memcmp(w.buf + sizeof v9_head, batch, sizeof batch) == 0 &&
       memcmp(w.buf + sizeof v9_head + sizeof batch, B(0, 0, 0), 3) == 0,
       "v9 golden bytes (compact forms, three tag sections)");
    struct kp_ProduceRequest req9 = { 0 };
    wire_reader_init(&r, w.buf, w.len);
    is_int(kp_decode(&kp_msg_ProduceRequest, 9, &r, &req9, &a), 0, "Produce v9 decodes");
    is_str(req9.TransactionalId.s, "tx", "v9 TransactionalId");
    pd = &req9.TopicData.items[0].PartitionData.items[0];
    ok(pd->Records.p == w.buf + sizeof v9_head, "v9 records zero-copy pointer");
    is_int(pd->Records.len, 16, "v9 records length");
    is_int(wire_remaining(&r), 0, "v9 consumed");
    wire_writer_free(&w);
    kp_arena_free(&a);
}

static struct kp_FetchResponse make_fetch(struct kp_FetchResponse_FetchableTopicResponse *t,
                                          struct kp_FetchResponse_PartitionData *p)
{
    struct kp_FetchResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(kp_msg_FetchResponse.body, &resp);
    memset(t, 0, sizeof *t);
    memset(p, 0, sizeof *p);
    kp_struct_defaults(&kp_desc_FetchResponse_FetchableTopicResponse, t);
    kp_struct_defaults(&kp_desc_FetchResponse_PartitionData, p);
    ok(kp_msg_FetchResponse.body == &kp_desc_FetchResponse &&
       kp_msg_FetchResponse.body->fields[3].sub == &kp_desc_FetchResponse_FetchableTopicResponse,
       "struct descriptors are exported under kp_desc_<Message>_<Struct>");
    resp.Responses.items = t;
    resp.Responses.count = 1;
    t->Topic = kp_str_c("t");
    t->Partitions.items = p;
    t->Partitions.count = 1;
    p->HighWatermark = 10;
    p->LastStableOffset = 10;
    p->AbortedTransactions.count = -1;
    return resp;
}

static void test_fetch_response_spans(void)
{
    struct kp_FetchResponse_FetchableTopicResponse t;
    struct kp_FetchResponse_PartitionData p;
    struct kp_FetchResponse resp = make_fetch(&t, &p);
    is_int(p.PreferredReadReplica, -1, "kp_struct_defaults: PreferredReadReplica -1");
    is_int(p.LogStartOffset, -1, "kp_struct_defaults: LogStartOffset -1");
    is_int(p.CurrentLeader.LeaderId, -1, "kp_struct_defaults recurses into structs");
    struct wire_filespan spans[2] = { { 0, 7, 4096, 100 }, { 0, 8, 0, 23 } };
    p.Records.spans = spans;
    p.Records.nspans = 2;
    p.Records.len = 123;

    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_FetchResponse, 4, &resp, &w), 0, "Fetch v4 with spans encodes");
    is_int(w.nspans, 2, "two spans");
    is_int(w.spans[0].at, 45, "v4 span position after int32 length");
    ok(w.spans[0].fd == 7 && w.spans[0].off == 4096 && w.spans[0].len == 100, "span 0 file range");
    is_int(w.spans[1].at, 45, "span 1 follows span 0 (same memory position)");
    is_int(w.len, 45, "nothing in memory after the records");
    is_int(wire_writer_total(&w), 45 + 123, "total length includes spans");
    struct wire_reader r;
    wire_reader_init(&r, w.buf + 41, 4);
    is_int(wire_read_i32(&r), 123, "int32 records length = span total");
    wire_reader_init(&r, w.buf + 29, 8);
    is_int(wire_read_i64(&r), 10, "LastStableOffset in v4");
    wire_writer_free(&w);

    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_FetchResponse, 12, &resp, &w), 0, "Fetch v12 with spans encodes");
    is_int(w.spans[0].at, 50, "v12 span position after compact length");
    is_int(w.buf[49], 124, "compact records length = total+1");
    is_int(w.len, 53, "three tag sections follow the span in memory");
    ok(memcmp(w.buf + 50, B(0, 0, 0), 3) == 0, "empty tag sections (defaults not written)");
    is_int(wire_writer_total(&w), 53 + 123, "v12 total");
    wire_writer_free(&w);

    p.Records.len = 122; /* inconsistent with the spans */
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_FetchResponse, 4, &resp, &w), -WIRE_EINVAL,
           "span total != len is rejected");
    wire_writer_free(&w);
}

static void test_tagged_fields(void)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_FetchResponse_FetchableTopicResponse t;
    struct kp_FetchResponse_PartitionData p;
    struct kp_FetchResponse resp = make_fetch(&t, &p);
    static const uint8_t rec[] = { 1, 2, 3 };
    p.Records.p = rec;
    p.Records.len = 3;
    p.CurrentLeader.LeaderId = 3;
    p.CurrentLeader.LeaderEpoch = 5;
    p.SnapshotId.Epoch = 9; /* tag 2; EndOffset stays default */

    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_FetchResponse, 12, &resp, &w), 0, "Fetch v12 with tags encodes");
    /* partition tag section right after the 3 record bytes at 50 */
    static const uint8_t tags[] = {
        0x02,                                                   /* two tags, ascending */
        0x01, 0x09, 0, 0, 0, 3, 0, 0, 0, 5, 0x00,               /* CurrentLeader + its tags */
        0x02, 0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9, 0x00, /* SnapshotId */
    };
    ok(w.len == 53 + sizeof tags + 2 && memcmp(w.buf + 53, tags, sizeof tags) == 0,
       "tagged section golden bytes (tag order, size prefix, default tag 0 left out)");

    struct kp_FetchResponse back;
    memset(&back, 0, sizeof back);
    struct wire_reader r;
    wire_reader_init(&r, w.buf, w.len);
    is_int(kp_decode(&kp_msg_FetchResponse, 12, &r, &back, &a), 0, "decode back");
    struct kp_FetchResponse_PartitionData *bp = &back.Responses.items[0].Partitions.items[0];
    is_int(bp->CurrentLeader.LeaderId, 3, "tagged LeaderId");
    is_int(bp->CurrentLeader.LeaderEpoch, 5, "tagged LeaderEpoch");
    is_int(bp->SnapshotId.Epoch, 9, "tagged SnapshotId.Epoch");
    is_int(bp->SnapshotId.EndOffset, -1, "SnapshotId.EndOffset");
    is_int(bp->DivergingEpoch.Epoch, -1, "absent tag gets default -1");
    is_int(bp->DivergingEpoch.EndOffset, -1, "absent tag gets default -1 (int64)");
    ok(bp->Records.len == 3 && memcmp(bp->Records.p, rec, 3) == 0, "records");
    is_int(back.Responses.items[0].Partitions.items[0].AbortedTransactions.count, -1,
           "null aborted transactions");
    is_int(wire_remaining(&r), 0, "consumed");
    wire_writer_free(&w);

    /* ApiVersionsResponse v3: top-level tags, bool tag, int64 tag. */
    struct kp_ApiVersionsResponse av;
    memset(&av, 0, sizeof av);
    kp_struct_defaults(kp_msg_ApiVersionsResponse.body, &av);
    is_int(av.FinalizedFeaturesEpoch, -1, "FinalizedFeaturesEpoch default -1");
    struct kp_ApiVersionsResponse_ApiVersion keys[1] = { { 18, 0, 3 } };
    av.ApiKeys.items = keys;
    av.ApiKeys.count = 1;
    av.ZkMigrationReady = true;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ApiVersionsResponse, 3, &av, &w), 0, "ApiVersionsResponse v3");
    static const uint8_t avb[] = { 0, 0, 0x02, 0, 18, 0, 0, 0, 3, 0x00, 0, 0, 0, 0,
                                   0x01, 0x03, 0x01, 0x01 };
    ok(w.len == sizeof avb && memcmp(w.buf, avb, sizeof avb) == 0, "ApiVersionsResponse golden");
    memset(&av, 0, sizeof av);
    wire_reader_init(&r, w.buf, w.len);
    is_int(kp_decode(&kp_msg_ApiVersionsResponse, 3, &r, &av, &a), 0, "decode back");
    ok(av.ZkMigrationReady && av.FinalizedFeaturesEpoch == -1 && av.ApiKeys.count == 1 &&
       av.ApiKeys.items[0].MaxVersion == 3 && av.SupportedFeatures.count == 0,
       "tagged bool and defaults decoded");
    wire_writer_free(&w);

    /* A known tag whose size is too small fails; an unknown one is skipped. */
    static const uint8_t badtag[] = { 0, 0, 0x01, 0, 0, 0, 0, 0x01, 0x03, 0x00 };
    wire_reader_init(&r, badtag, sizeof badtag);
    memset(&av, 0, sizeof av);
    is_int(kp_decode(&kp_msg_ApiVersionsResponse, 3, &r, &av, &a), -WIRE_EUNDERFLOW,
           "known tag with 0-byte body fails");
    static const uint8_t unk[] = { 0, 0, 0x01, 0, 0, 0, 0, 0x02, 0x05, 0x02, 0xab, 0xcd,
                                   0x03, 0x01, 0x01 };
    wire_reader_init(&r, unk, sizeof unk);
    memset(&av, 0, sizeof av);
    is_int(kp_decode(&kp_msg_ApiVersionsResponse, 3, &r, &av, &a), 0, "unknown tag 5 skipped");
    ok(av.ZkMigrationReady && wire_remaining(&r) == 0, "following known tag still read");
    kp_arena_free(&a);
}

static void test_nullable_struct(void)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_ConsumerGroupHeartbeatResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(kp_msg_ConsumerGroupHeartbeatResponse.body, &resp);
    ok(resp.Assignment == NULL, "nullable struct default null");
    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ConsumerGroupHeartbeatResponse, 0, &resp, &w), 0, "encode null");
    ok(w.len > 2 && w.buf[w.len - 2] == 0xff && w.buf[w.len - 1] == 0,
       "null struct is an int8 -1 marker");
    struct kp_ConsumerGroupHeartbeatResponse_Assignment asg;
    memset(&asg, 0, sizeof asg);
    resp.Assignment = &asg;
    size_t null_len = w.len;
    wire_writer_free(&w);
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ConsumerGroupHeartbeatResponse, 0, &resp, &w), 0, "encode present");
    is_int(w.len, null_len + 2, "marker 1 + empty array + tags");
    struct kp_ConsumerGroupHeartbeatResponse back;
    memset(&back, 0, sizeof back);
    struct wire_reader r;
    wire_reader_init(&r, w.buf, w.len);
    is_int(kp_decode(&kp_msg_ConsumerGroupHeartbeatResponse, 0, &r, &back, &a), 0, "decode");
    ok(back.Assignment && back.Assignment->TopicPartitions.count == 0, "present struct decoded");
    wire_writer_free(&w);
    kp_arena_free(&a);
}

static void test_malformed(void)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct wire_reader r;
    struct kp_ProduceRequest req;

    /* Every truncation of a valid ApiVersions v3 body fails. */
    static const uint8_t av[] = { 0x03, 'a', 'b', 0x02, 'c', 0x00 };
    int all_fail = 1;
    for (size_t n = 0; n < sizeof av; n++) {
        struct kp_ApiVersionsRequest q = { 0 };
        wire_reader_init(&r, av, n);
        if (kp_decode(&kp_msg_ApiVersionsRequest, 3, &r, &q, &a) != -WIRE_EUNDERFLOW)
            all_fail = 0;
    }
    ok(all_fail, "every truncated prefix fails with underflow");

    static const uint8_t negstr[] = { 0xff, 0xfe, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, negstr, sizeof negstr);
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), -WIRE_EINVAL,
           "string length -2 rejected");
    is_int(r.err, WIRE_EINVAL, "r->err set");

    static const uint8_t huge[] = { 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0 };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, huge, sizeof huge);
    size_t before = a.used;
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), -WIRE_EINVAL,
           "array count 2^31-1 rejected");
    ok(a.used == before, "nothing allocated for the huge count");

    static const uint8_t nullarr[] = { 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, nullarr, sizeof nullarr);
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), -WIRE_EINVAL,
           "null for a non-nullable array rejected");

    static const uint8_t negarr[] = { 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0 };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, negarr, sizeof negarr);
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), -WIRE_EINVAL,
           "array count -16 rejected");

    static const uint8_t negbytes[] = { 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't',
                                        0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0, 0, 0 };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, negbytes, sizeof negbytes);
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), -WIRE_EINVAL,
           "records length INT32_MIN rejected");

    static const uint8_t longbytes[] = { 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't',
                                         0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2 };
    memset(&req, 0, sizeof req);
    wire_reader_init(&r, longbytes, sizeof longbytes);
    is_int(kp_decode(&kp_msg_ProduceRequest, 3, &r, &req, &a), -WIRE_EUNDERFLOW,
           "records longer than the input rejected");

    static const uint8_t badvar[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f };
    struct kp_ApiVersionsRequest q = { 0 };
    wire_reader_init(&r, badvar, sizeof badvar);
    is_int(kp_decode(&kp_msg_ApiVersionsRequest, 3, &r, &q, &a), -WIRE_EVARINT,
           "overlong compact length varint rejected");

    static const uint8_t hugecompact[] = { 0xfe, 0xff, 0xff, 0xff, 0x0f };
    wire_reader_init(&r, hugecompact, sizeof hugecompact);
    is_int(kp_decode(&kp_msg_ApiVersionsRequest, 3, &r, &q, &a), -WIRE_EUNDERFLOW,
           "compact string length 2^32-2 rejected");

    static const uint8_t nullcompact[] = { 0x00, 0x01, 0x00 };
    wire_reader_init(&r, nullcompact, sizeof nullcompact);
    is_int(kp_decode(&kp_msg_ApiVersionsRequest, 3, &r, &q, &a), -WIRE_EINVAL,
           "null for a non-nullable compact string rejected");

    wire_reader_init(&r, av, sizeof av);
    is_int(kp_decode(&kp_msg_ApiVersionsRequest, 99, &r, &q, &a), -WIRE_EINVAL,
           "unsupported version rejected");

    static const uint8_t badhdr[] = { 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xf0 };
    struct kp_request_header h;
    wire_reader_init(&r, badhdr, sizeof badhdr);
    is_int(kp_decode_request_header(&r, &h, &a), -WIRE_EINVAL, "client id length -16 rejected");
    wire_reader_init(&r, badhdr, 5);
    is_int(kp_decode_request_header(&r, &h, &a), -WIRE_EUNDERFLOW, "truncated header rejected");

    /* Encoding a null into a non-nullable field fails instead of lying. */
    struct kp_ApiVersionsRequest nq = { { NULL, -1 }, { NULL, 0 } };
    struct wire_writer w;
    wire_writer_init(&w);
    is_int(kp_encode(&kp_msg_ApiVersionsRequest, 3, &nq, &w), -WIRE_EINVAL,
           "encode null into non-nullable string fails");
    wire_writer_free(&w);
    kp_arena_free(&a);
}

static void test_arena(void)
{
    struct kp_arena a;
    kp_arena_init(&a);
    uint8_t *p = kp_arena_alloc(&a, 3);
    uint8_t *q = kp_arena_alloc(&a, 5);
    ok(p && q && ((uintptr_t)p % 8) == 0 && ((uintptr_t)q % 8) == 0, "allocations 8-aligned");
    ok(q >= p + 3, "no overlap");
    uint8_t *big = kp_arena_alloc(&a, 2 << 20);
    ok(big && big[0] == 0 && big[(2 << 20) - 1] == 0, "big allocation zeroed");
    uint8_t *r = kp_arena_alloc(&a, 8);
    ok(r == q + 8, "small allocations continue in the current chunk after a big one");
    char *s = kp_arena_strndup(&a, "hello world", 5);
    is_str(s, "hello", "strndup terminates");
    kp_arena_free(&a);
    kp_arena_init(&a);
    kp_arena_set_cap(&a, 1 << 20);
    ok(kp_arena_alloc(&a, 512 << 10) != NULL, "under the cap");
    ok(kp_arena_alloc(&a, 600 << 10) == NULL, "over the cap fails");
    ok(kp_arena_alloc(&a, SIZE_MAX - 3) == NULL, "absurd size fails");
    kp_arena_free(&a);
}

int main(void)
{
    test_varints();
    test_lookup();
    test_api_versions_request();
    test_response_header();
    test_metadata_request();
    test_produce_request();
    test_fetch_response_spans();
    test_tagged_fields();
    test_nullable_struct();
    test_malformed();
    test_arena();
    return done_testing();
}
