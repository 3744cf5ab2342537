/* libFuzzer target: __consumer_offsets record decoding (key and value of
 * arbitrary bytes; the input is split at its first byte's offset). */
#include <stdint.h>
#include <string.h>

#include "group/group_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = data[0] < size ? data[0] : size - 1;
    const uint8_t *key = data + 1;
    size_t klen = split > 0 ? split - 0 : 0;
    if (1 + klen > size)
        klen = size - 1;
    const uint8_t *val = data + 1 + klen;
    size_t vlen = size - 1 - klen;
    struct kp_arena a;
    kp_arena_init(&a);
    kp_arena_set_cap(&a, 1 << 20);
    struct grec r;
    grec_decode(key, (int32_t)klen, val, (int32_t)vlen, &a, &r);
    /* Null value too (tombstone path). */
    grec_decode(key, (int32_t)klen, NULL, -1, &a, &r);
    kp_arena_free(&a);
    return 0;
}
