/* Value types of the generated Kafka protocol structs and the descriptor
 * tables the generic codec (kp_codec.c) walks.  Hand-written; the generated
 * kafka_schema.h includes it.
 *
 * Conventions of the generated structs (struct kp_<Message>[_<Struct>]):
 * - zero-initialised means "empty": kp_str {NULL,0} is "", an array
 *   {NULL,0} is empty.  Null is len/count == -1.
 * - a struct-typed field that has nullableVersions is a pointer (NULL = null);
 *   every other struct field is held by value.
 * - kp_struct_defaults() sets the JSON defaults (e.g. -1 offsets) on a struct
 *   a handler is about to fill in; kp_decode() applies them itself. */
#ifndef SLUICE_KP_TYPES_H
#define SLUICE_KP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/wire.h"

struct kp_uuid {
    uint8_t b[16];
};

/* Decoded strings live in the request arena and are NUL-terminated. */
struct kp_str {
    const char *s;
    int32_t len; /* -1: null */
};

/* Decoded bytes point into the input buffer (zero-copy). */
struct kp_bytes {
    const uint8_t *p;
    int32_t len; /* -1: null */
};

/* Record data.  Decoded: p/len point into the input.  Encoded: when spans is
 * non-NULL, len must be the total of the span lengths and the bytes are
 * written as file spans (sendfile) rather than copied from p. */
struct kp_records {
    const uint8_t *p;
    int32_t len; /* -1: null */
    const struct wire_filespan *spans;
    int32_t nspans;
};

/* A kp_str for a C string (NULL gives a null string); not a copy. */
static inline struct kp_str kp_str_c(const char *s)
{
    struct kp_str r = { s, s ? (int32_t)strlen(s) : -1 };
    return r;
}

enum kp_type {
    KP_T_BOOL,
    KP_T_INT8,
    KP_T_INT16,
    KP_T_UINT16,
    KP_T_INT32,
    KP_T_UINT32,
    KP_T_INT64,
    KP_T_FLOAT64,
    KP_T_UUID,
    KP_T_STRING,
    KP_T_BYTES,
    KP_T_RECORDS,
    KP_T_STRUCT,
};

enum kp_kind {
    KP_KIND_REQUEST,
    KP_KIND_RESPONSE,
    KP_KIND_HEADER,
    KP_KIND_DATA,
    KP_KIND_METADATA,
    KP_KIND_COORDINATOR_KEY,
    KP_KIND_COORDINATOR_VALUE,
};

/* Version ranges are inclusive; a max of -1 means "and every later version",
 * a min of -1 means "no version". */
#define KP_FLEX_INHERIT (-2) /* field follows the message's flexibleVersions */

struct kp_struct;

struct kp_field {
    const char *name;
    uint8_t type;     /* enum kp_type; the element type when is_array */
    bool is_array;
    int16_t ver_min, ver_max;
    int16_t nullable_min, nullable_max;
    int16_t tagged_min, tagged_max;
    int32_t tag;
    /* Field-level flexibleVersions override (only RequestHeader.ClientId has
     * one, "none"); flex_min == KP_FLEX_INHERIT when absent. */
    int16_t flex_min, flex_max;
    uint16_t offset;
    uint16_t size;    /* element size for arrays, field size otherwise */
    const struct kp_struct *sub; /* nested or element struct, else NULL */
    /* JSON default: def_i for integers and bool, def_f for float64, def_s
     * for strings (NULL = ""), def_null when the default is null. */
    int64_t def_i;
    double def_f;
    const char *def_s;
    bool def_null;
};

struct kp_struct {
    const char *name;
    size_t size;
    const struct kp_field *fields;
    uint16_t nfields;
};

struct kp_message {
    const char *name;
    int16_t api_key; /* -1 for data/header; record type for metadata records */
    uint8_t kind;    /* enum kp_kind */
    int16_t valid_min, valid_max;
    int16_t flexible_min; /* -1: never flexible */
    bool latest_unstable; /* latestVersionUnstable: don't advertise valid_max */
    const struct kp_struct *body;
};

/* Generic array view: every generated `struct { T *items; int32_t count; }`
 * has this layout. */
struct kp_array {
    void *items;
    int32_t count;
};

static inline int kp_in_range(int16_t v, int16_t lo, int16_t hi)
{
    return lo >= 0 && v >= lo && (hi < 0 || v <= hi);
}

#endif
