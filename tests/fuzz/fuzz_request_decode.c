/* libFuzzer target: a request as the broker sees it after framing (header
 * then body).  Decoding must never crash or over-allocate; whatever decodes
 * must re-encode, and the re-encoding must be a fixed point of
 * decode+encode (unknown tags and non-canonical bools are the only things a
 * first round may drop). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kp_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int roundtrip(const struct kp_message *m, int16_t v, const uint8_t *p, size_t n,
                     struct kp_arena *a, struct wire_writer *w)
{
    struct wire_reader r;
    wire_reader_init(&r, p, n);
    void *body = kp_arena_alloc(a, m->body->size);
    if (!body || kp_decode(m, v, &r, body, a) != 0)
        return -1;
    if (kp_encode(m, v, body, w) != 0)
        abort(); /* a decoded message must always encode */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kp_arena a;
    kp_arena_init(&a);
    kp_arena_set_cap(&a, 16 << 20);
    struct wire_reader r;
    wire_reader_init(&r, data, size);
    struct kp_request_header h;
    if (kp_decode_request_header(&r, &h, &a) == 0) {
        const struct kp_message *m = kp_request_message(h.ApiKey);
        if (m && kp_message_has_version(m, h.ApiVersion)) {
            struct wire_writer w1, w2;
            wire_writer_init(&w1);
            wire_writer_init(&w2);
            if (roundtrip(m, h.ApiVersion, data + r.pos, size - r.pos, &a, &w1) == 0) {
                if (roundtrip(m, h.ApiVersion, w1.buf, w1.len, &a, &w2) != 0)
                    abort(); /* our own encoding must decode */
                if (w1.len != w2.len || (w1.len && memcmp(w1.buf, w2.buf, w1.len) != 0))
                    abort(); /* and re-encode identically */
            }
            wire_writer_free(&w1);
            wire_writer_free(&w2);
        }
    }
    kp_arena_free(&a);
    return 0;
}
