/* Generic table-driven Kafka message codec over the descriptors generated
 * into kafka_schema.c, plus the request/response headers.
 *
 * Decoding fills a caller-zeroed struct kp_<Message>: strings and arrays go
 * into the arena, bytes and records point into the reader's buffer, so the
 * input must outlive the decoded struct.  Malformed input fails with a
 * negative WIRE_* code and r->err set; it can never make the decoder
 * allocate more than the input could justify (array counts are checked
 * against the remaining bytes, the arena has a cap). */
#ifndef SLUICE_KP_CODEC_H
#define SLUICE_KP_CODEC_H

#include "proto/kafka_errors.h"
#include "proto/kafka_schema.h"
#include "util/arena.h"
#include "util/wire.h"

/* Returns 0, or -WIRE_EUNDERFLOW / -WIRE_EVARINT / -WIRE_ENOMEM /
 * -WIRE_EINVAL (bad length, null where not nullable, version not valid). */
int kp_decode(const struct kp_message *m, int16_t version, struct wire_reader *r, void *out,
              struct kp_arena *a);

/* Returns 0, or -WIRE_EINVAL (null where not nullable, version not valid,
 * records spans that don't add up to len) / -WIRE_ENOMEM; w->err is set
 * too.  Fields that don't exist in the version are skipped. */
int kp_encode(const struct kp_message *m, int16_t version, const void *in,
              struct wire_writer *w);

/* Set every field of obj (a struct kp_<Message>[_<Struct>] described by s,
 * e.g. &kp_desc_FetchResponse_PartitionData) to its JSON default, recursing
 * into by-value structs; arrays become empty (or null when that is the
 * default), nullable structs NULL.  What a handler calls before filling a
 * response or an array element, so fields like LogStartOffset start at -1. */
void kp_struct_defaults(const struct kp_struct *s, void *obj);

static inline int kp_message_is_flexible(const struct kp_message *m, int16_t version)
{
    return m->flexible_min >= 0 && version >= m->flexible_min;
}

static inline int kp_message_has_version(const struct kp_message *m, int16_t version)
{
    return version >= m->valid_min && version <= m->valid_max;
}

/* ---- headers ---------------------------------------------------------- */

struct kp_request_header {
    int16_t ApiKey;
    int16_t ApiVersion;
    int32_t CorrelationId;
    struct kp_str ClientId; /* null: {NULL, -1} */
};

/* 1 when the request (api key, version) uses flexible versions, i.e. request
 * header v2 and response header v1; 0 otherwise or when unknown. */
int kp_request_is_flexible(int16_t api_key, int16_t version);

/* Header v1 (ClientId a nullable int16-length string) and, when the request
 * version is flexible, v2's tagged fields.  An unknown api key or version is
 * decoded as v1 only so the broker can still answer UNSUPPORTED_VERSION.
 * Returns 0 or a negative WIRE_* code. */
int kp_decode_request_header(struct wire_reader *r, struct kp_request_header *h,
                             struct kp_arena *a);

/* Response header v1 (correlation id + empty tag buffer) for flexible
 * versions, v0 otherwise, and always v0 for ApiVersions as Kafka does (a
 * client that sent a too-new version must still parse the error). */
void kp_encode_response_header(struct wire_writer *w, int16_t api_key, int16_t version,
                               int32_t correlation_id);

#endif
