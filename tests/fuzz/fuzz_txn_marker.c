/* libFuzzer target: transaction marker control records.  The input is used
 * twice: split at its first byte into a key and a value for the record
 * decoder (EndTransactionMarker.deserialize), and whole as a control batch
 * (with its CRC made valid) for txn_marker_read_batch, which the producer
 * state runs on every marker it replays from a log.  A decoded marker must
 * rebuild to a batch that reads back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/record_batch.h"
#include "storage/txn_marker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t klen = data[0] < size - 1 ? data[0] : size - 1;
    const uint8_t *key = data + 1, *value = data + 1 + klen;
    size_t vlen = size - 1 - klen;
    int type;
    int32_t coord;
    char err[160];
    if (txn_marker_decode(key, (int32_t)klen, value, (int32_t)vlen, &type, &coord, err,
                          sizeof err) == 0) {
        size_t len;
        uint8_t *b = txn_marker_build(7, 1, coord, type, 1000, &len);
        int t2;
        int32_t c2;
        if (b && (txn_marker_read_batch(b, len, NULL, NULL, &t2, &c2) != 1 || t2 != type ||
                  c2 != coord))
            abort();
        free(b);
    }

    /* As a whole batch: the reader trusts framing checked by recovery, so
     * give it a self-consistent length and CRC like a recovered log. */
    if (size >= RB_HEADER_SIZE) {
        uint8_t *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        rb_put_i32(copy + RB_OFF_LENGTH, (int32_t)(size - RB_LOG_OVERHEAD));
        copy[RB_OFF_MAGIC] = RB_MAGIC;
        copy[RB_OFF_ATTRIBUTES + 1] &= (uint8_t)~RB_ATTR_COMPRESSION_MASK;
        rb_put_i32(copy + RB_OFF_CRC, (int32_t)rb_compute_crc(copy, size));
        txn_marker_read_batch(copy, size, NULL, NULL, &type, &coord);
        free(copy);
    }
    return 0;
}
