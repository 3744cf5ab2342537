/* libFuzzer target for the log compaction decoders: the batch filter
 * (decoding, filtering and re-encoding a stored batch, with a key rule and
 * tombstone horizons) and the cleaner-offset-checkpoint parser.  The first
 * input byte picks one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch_filter.h"
#include "storage/log_cleaner.h"

static enum bf_retention check(void *ud, const struct rb_header *h, const uint8_t *b, size_t n,
                               int *marker)
{
    (void)ud;
    (void)b;
    (void)n;
    *marker = (h->attributes & RB_ATTR_CONTROL) != 0;
    return (h->base_offset & 1) ? BF_RETAIN_EMPTY : BF_DELETE_EMPTY;
}

static int retain(void *ud, const struct rb_header *h, const struct rb_record *r)
{
    (void)ud;
    if (r->key_len < 0)
        return 0;
    if (r->value_len < 0)
        return rb_delete_horizon(h) < 0;
    return r->key_len == 0 || (r->key[0] & 1) == 0;
}

/* Identity "codec" so compressed batches are exercised too. */
static int copy_dec(void *ctx, int codec, const uint8_t *in, size_t inlen, uint8_t **out,
                    size_t *outlen)
{
    (void)ctx;
    (void)codec;
    *out = malloc(inlen + 1);
    if (!*out)
        return KP_ERR_CORRUPT_MESSAGE;
    memcpy(*out, in, inlen);
    *outlen = inlen;
    return 0;
}

static int copy_comp(void *ctx, int codec, int level, const uint8_t *in, size_t inlen,
                     uint8_t **out, size_t *outlen)
{
    (void)level;
    return copy_dec(ctx, codec, in, inlen, out, outlen);
}

static void cb(void *ud, const char *t, size_t tl, int32_t p, int64_t off)
{
    (void)ud;
    (void)t;
    (void)tl;
    (void)p;
    (void)off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        log_cleaner_checkpoint_parse((const char *)data + 1, size - 1, cb, NULL);
        return 0;
    }
    data++;
    size--;
    size_t bl = rb_batch_size(data, size);
    if (bl < RB_HEADER_SIZE || bl > size)
        return 0;
    struct bf_filter f = { 1000, 500, check, retain, NULL };
    struct wire_writer out;
    wire_writer_init(&out);
    struct bf_result res;
    char err[128];
    if (bf_filter_batch(data, bl, &f, copy_dec, NULL, copy_comp, NULL, &out, &res, err,
                        sizeof err) == 0 &&
        out.len > 0) {
        /* What the filter writes must itself be a well-formed batch. */
        size_t ol = rb_batch_size(out.buf, out.len);
        if (ol != out.len && !res.copied)
            abort();
    }
    wire_writer_free(&out);
    return 0;
}
