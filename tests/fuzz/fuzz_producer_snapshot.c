/* libFuzzer target: the producer state snapshot decoder (Kafka's
 * <offset>.snapshot format) on arbitrary bytes, as given and with the CRC
 * made valid (so the fuzzer reaches the entry parsing).  Whatever decodes
 * must re-encode to a snapshot that decodes to the same producers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/producer_state.h"
#include "util/crc32c.h"

static void one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size >= PSTATE_SNAPSHOT_HEADER) {
        uint8_t *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        uint32_t crc = crc32c(0, copy + 6, size - 6);
        copy[2] = (uint8_t)(crc >> 24);
        copy[3] = (uint8_t)(crc >> 16);
        copy[4] = (uint8_t)(crc >> 8);
        copy[5] = (uint8_t)crc;
        one(copy, size);
        free(copy);
    }
    return 0;
}

static void one(const uint8_t *data, size_t size)
{
    struct producer_state *ps = pstate_new(), *again = pstate_new();
    char err[160];
    if (ps && again && pstate_snapshot_decode(ps, data, size, 0, err, sizeof err) == 0) {
        uint8_t *buf;
        size_t len;
        if (pstate_snapshot_encode(ps, &buf, &len) == 0) {
            if (pstate_snapshot_decode(again, buf, len, 0, err, sizeof err) != 0 ||
                pstate_count(again) != pstate_count(ps))
                abort();
            size_t it = 0;
            const struct pstate_entry *e;
            while ((e = pstate_next(ps, &it))) {
                const struct pstate_entry *f = pstate_get(again, e->producer_id);
                if (!f || f->epoch != e->epoch || f->nbatches != e->nbatches)
                    abort();
                /* Timestamps may differ: the newest entry carries the
                 * producer's last timestamp, as in Kafka's format. */
                for (int k = 0; k < e->nbatches; k++)
                    if (f->b[k].last_seq != e->b[k].last_seq ||
                        f->b[k].last_offset != e->b[k].last_offset ||
                        f->b[k].offset_delta != e->b[k].offset_delta)
                        abort();
            }
            free(buf);
        }
    }
    pstate_free(ps);
    pstate_free(again);
}
