/* Topic compression.type: rewrite a record batch v2 with another codec.
 *
 * Kafka's LogValidator keeps a batch as it came when its codec is the
 * topic's target codec (compression.type=producer means "the batch's own
 * codec") and otherwise rebuilds it with the target codec.  Because the
 * records section of a v2 batch is the same bytes whether or not it is
 * compressed, the rebuilt batch is the 61-byte header (offsets, timestamps,
 * producer id/epoch/sequence, count unchanged) with the compression bits
 * changed, the records section decompressed and compressed again, and a new
 * batchLength and CRC.  Records are therefore byte-identical once
 * decompressed.
 *
 * Pure function over buffers: no broker, config or module headers, so it is
 * unit-testable with any (de)compressor pair. */
#ifndef SLUICE_BATCH_RECOMPRESS_H
#define SLUICE_BATCH_RECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/record_batch.h"

/* Compresses `in` with codec at level into a malloc'd *out.  Same contract
 * as rb_decompress_fn (module_registry_compress fits): 0, or a Kafka error
 * code (UNSUPPORTED_COMPRESSION_TYPE when no codec module is loaded). */
typedef int (*rb_compress_fn)(void *ctx, int codec, int level, const uint8_t *in, size_t inlen,
                              uint8_t **out, size_t *outlen);

/* The stored codec for a batch: target_cfg is enum sluice_compression
 * (config/broker_config.h: 0 uncompressed, 1 zstd, 2 lz4, 3 snappy, 4 gzip,
 * 5 producer); source is the batch's codec id (RB_CODEC_*).  Returns an
 * RB_CODEC_* id. */
int batch_target_codec(int target_cfg, int source_codec);

/* Rebuild the batch (size bytes at batch, already known to be complete)
 * with target_codec (RB_CODEC_*) at level (codec-specific, passed to comp).
 * The batch's CRC is verified first so that a corrupted batch never gets
 * a fresh, valid CRC.  Returns 0 with *out == NULL when the batch already
 * has the target codec (nothing is done), 0 with *out a malloc'd new batch
 * of *outlen bytes, or a Kafka error code with detail in err:
 *   CORRUPT_MESSAGE       framing, CRC or undecodable compressed data;
 *   UNSUPPORTED_COMPRESSION_TYPE  no module for the source or target codec
 *     (Kafka has every codec built in; its LogValidator's one "target codec
 *     unusable" case, zstd under inter.broker.protocol < 2.1, throws
 *     UnsupportedCompressionTypeException, so the producer gets this code);
 *   MESSAGE_TOO_LARGE     the rebuilt batch would exceed INT32_MAX bytes. */
int batch_recompress(const uint8_t *batch, size_t size, int target_codec, int level,
                     rb_decompress_fn dec, rb_compress_fn comp, void *ctx, uint8_t **out,
                     size_t *outlen, char *err, size_t errlen);

#endif
