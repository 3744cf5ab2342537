/* libFuzzer target: the aborted-transaction index decoder (Kafka's
 * .txnindex format, 34-byte entries) on arbitrary bytes.  The first 8
 * bytes pick the segment base offset and the fetch range; the rest is the
 * file.  Whatever decodes must re-encode to the same bytes, and the
 * read_committed search over it must only return overlapping entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/txn_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    int64_t base = data[0] * 7, fetch = data[1] * 5 + data[2], upper = fetch + data[3] * 3;
    data += 8;
    size -= 8;
    struct txn_aborted *v;
    size_t n;
    char err[128];
    if (txn_index_decode(data, size, base, &v, &n, err, sizeof err) != 0)
        return 0;
    if (n * TXN_INDEX_ENTRY_SIZE != size)
        abort();
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[TXN_INDEX_ENTRY_SIZE];
        txn_index_encode(&v[i], buf);
        if (memcmp(buf, data + i * TXN_INDEX_ENTRY_SIZE, sizeof buf) != 0)
            abort();
    }
    struct txn_aborted *acc = NULL;
    size_t nacc = 0, cap = 0;
    if (txn_index_collect(v, n, fetch, upper, &acc, &nacc, &cap) >= 0)
        for (size_t i = 0; i < nacc; i++)
            if (acc[i].last_offset < fetch || acc[i].first_offset >= upper)
                abort();
    free(acc);
    free(v);
    return 0;
}
