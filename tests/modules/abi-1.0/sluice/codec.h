/* Sluice plugin ABI: compression codec vtable (SLUICE_KIND_CODEC).
 * Included by <sluice/plugin.h>; see the changelog there. */
#ifndef SLUICE_CODEC_H
#define SLUICE_CODEC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sluice_buf;

/* Kafka record-batch attribute bits 0-2 (compression type).  0 is "none"
 * and can't be registered; 5-7 are unassigned by Kafka today but accepted so
 * an experimental codec can be tried without a host change. */
#define SLUICE_CODEC_NONE 0
#define SLUICE_CODEC_GZIP 1
#define SLUICE_CODEC_SNAPPY 2
#define SLUICE_CODEC_LZ4 3
#define SLUICE_CODEC_ZSTD 4
#define SLUICE_CODEC_ID_MAX 7

/* `level` value meaning "the codec's configured default" (the module reads
 * e.g. compression.gzip.level at init).  INT_MIN because -1 and other
 * negative numbers are real levels for some codecs (zstd). */
#define SLUICE_CODEC_LEVEL_DEFAULT INT_MIN

/* A compression codec, registered from init() with host->register_codec().
 *
 * The host copies this struct at registration (only the first struct_size
 * bytes it knows about), so the module may keep it in read-only static
 * storage or free it after the call.  `name` must stay valid until fini.
 *
 * Threads: compress/decompress may be called from any broker thread (event
 * loops, request workers), concurrently, at any time between a successful
 * registration and the start of fini.  `state` is the pointer the module
 * passed to register_codec: it must therefore be immutable after init or
 * internally synchronized.  Neither callback may block on I/O.
 *
 * Buffers: `in` is borrowed for the duration of the call.  `out` is a
 * host-owned struct sluice_buf, empty on entry (len == 0); the codec appends
 * the whole result using host->buf_reserve() to grow it.  On failure the
 * host discards `out` whatever its contents.
 *
 * Return 0, or:
 *   SLUICE_ERR_CORRUPT    input is not a valid stream for this codec
 *                         (the broker answers CORRUPT_MESSAGE);
 *   SLUICE_ERR_TOO_LARGE  decompressed output would exceed max_out;
 *   SLUICE_ERR_INVALID    unsupported level;
 *   SLUICE_ERR_NOMEM      buf_reserve or an internal allocation failed;
 * with a message in err (NUL-terminated when errlen > 0).            */
struct sluice_codec_ops {
    size_t struct_size; /* sizeof(struct sluice_codec_ops) at build time */
    int codec_id;       /* SLUICE_CODEC_GZIP .. SLUICE_CODEC_ID_MAX (Kafka attribute bits) */
    const char *name;   /* Kafka's compression.type name: "gzip", "snappy", "lz4", "zstd" */

    /* Compress inlen bytes (inlen may be 0) into out, in the exact framing
     * Kafka clients expect for this codec id (gzip: a gzip member; lz4: an
     * LZ4 frame; snappy: Xerial framing; zstd: a zstd frame).  `level` is a
     * codec-specific level or SLUICE_CODEC_LEVEL_DEFAULT. */
    int (*compress)(void *state, int level, const uint8_t *in, size_t inlen,
                    struct sluice_buf *out, char *err, size_t errlen);

    /* Decompress a whole compressed payload (the records part of one batch).
     * MUST stop and return SLUICE_ERR_TOO_LARGE as soon as the output would
     * exceed max_out bytes (writing at most one byte past it to find out),
     * never reserving more than max_out + 1 bytes in total: that is what
     * stops a tiny "decompression bomb" from taking the broker down.  Trailing garbage after the end of the stream is SLUICE_ERR_CORRUPT. */
    int (*decompress)(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                      struct sluice_buf *out, char *err, size_t errlen);
};

/* Smallest struct_size accepted by an ABI 1.0 host. */
#define SLUICE_CODEC_OPS_MIN_SIZE_V1_0                                                             \
    (offsetof(struct sluice_codec_ops, decompress) +                                               \
     sizeof(((struct sluice_codec_ops *)0)->decompress))

#ifdef __cplusplus
}
#endif

#endif
