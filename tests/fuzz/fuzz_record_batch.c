/* libFuzzer target: record batch validation and iteration on arbitrary
 * bytes.  Codec 1 is routed to an identity "decompressor" so the compressed
 * path (inner records from a separate buffer) is exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/record_batch.h"

static int identity_dec(void *ctx, int codec, const uint8_t *in, size_t inlen, uint8_t **out,
                        size_t *outlen)
{
    (void)ctx;
    if (codec != RB_CODEC_GZIP)
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    *out = (uint8_t *)malloc(inlen ? inlen : 1);
    if (!*out)
        return KP_ERR_CORRUPT_MESSAGE;
    memcpy(*out, in, inlen);
    *outlen = inlen;
    return 0;
}

static volatile uint32_t sink;

static void walk(const uint8_t *batch, size_t size)
{
    struct rb_iter it;
    if (rb_iter_init(&it, batch, size, identity_dec, NULL) != 0)
        return;
    struct rb_record r;
    while (rb_iter_next(&it, &r) == 1) {
        if (r.key_len > 0)
            sink += r.key[r.key_len - 1];
        if (r.value_len > 0)
            sink += r.value[r.value_len - 1];
        size_t pos = 0;
        const uint8_t *k, *v;
        int32_t kl, vl;
        while (rb_header_next(&r, &pos, &k, &kl, &v, &vl)) {
            if (kl > 0)
                sink += k[kl - 1];
            if (vl > 0)
                sink += v[vl - 1];
        }
    }
    rb_iter_free(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[128];
    /* The inputs rarely carry a valid CRC; fix it up on a copy so the
     * record-level code is reached as well. */
    uint8_t *copy = (uint8_t *)malloc(size ? size : 1);
    memcpy(copy, data, size);
    size_t bs = rb_batch_size(copy, size);
    if (bs >= RB_HEADER_SIZE && bs <= size) {
        rb_put_i32(copy + RB_OFF_CRC, (int32_t)rb_compute_crc(copy, bs));
        copy[RB_OFF_MAGIC] = RB_MAGIC;
    }
    static const unsigned flag_sets[] = { 0, RB_VALIDATE_PRODUCE, RB_VALIDATE_SHALLOW,
                                          RB_VALIDATE_PRODUCE | RB_VALIDATE_ALLOW_CONTROL };
    for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
        struct rb_info info;
        rb_validate(data, size, flag_sets[f], identity_dec, NULL, &info, err, sizeof err);
        if (rb_validate(copy, size, flag_sets[f], identity_dec, NULL, &info, err, sizeof err) == 0)
            walk(copy, info.size);
    }
    /* Iteration without validation must be safe too. */
    if (bs >= RB_HEADER_SIZE && bs <= size)
        walk(copy, bs);
    /* In-place rewrites on a valid batch keep it valid. */
    struct rb_info info;
    if (rb_validate(copy, size, 0, identity_dec, NULL, &info, err, sizeof err) == 0) {
        rb_set_base_offset(copy, 42);
        rb_set_partition_leader_epoch(copy, 7);
        rb_set_max_timestamp(copy, info.size, 123456, 1);
        if (rb_validate(copy, size, RB_VALIDATE_SHALLOW, NULL, NULL, NULL, err, sizeof err) != 0)
            abort();
    }
    free(copy);
    return 0;
}
