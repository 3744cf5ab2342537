/* Aborted-transaction index: Kafka's "<base>.txnindex" file beside each
 * segment (TransactionIndex / AbortedTxn).  One 34-byte big-endian entry per
 * transaction aborted by a marker in that segment:
 *   version int16 (0), producerId int64, firstOffset int64,
 *   lastOffset int64 (the ABORT marker's offset),
 *   lastStableOffset int64 (the LSO right after the marker was written)
 * in increasing lastOffset order.  read_committed fetches return the entries
 * overlapping the fetched range so consumers can drop aborted data.  Like
 * Kafka, the file is created with its first entry and rebuilt by recovery. */
#ifndef SLUICE_TXN_INDEX_H
#define SLUICE_TXN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define TXN_INDEX_ENTRY_SIZE 34
#define TXN_INDEX_VERSION 0

struct txn_aborted {
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset;
    int64_t last_stable_offset;
};

void txn_index_encode(const struct txn_aborted *e, uint8_t out[TXN_INDEX_ENTRY_SIZE]);

/* Decode a whole file (len bytes) into *out (malloc'd, *n entries; NULL when
 * none).  Kafka's sanity checks: whole entries, known version, lastOffset
 * increasing and >= firstOffset, nothing below base_offset.  Returns 0 or
 * -1 with the reason in err (the caller rebuilds the index). */
int txn_index_decode(const uint8_t *buf, size_t len, int64_t base_offset,
                     struct txn_aborted **out, size_t *n, char *err, size_t errlen);

/* TransactionIndex.collectAbortedTxns over one segment's entries: appends
 * to *acc (growing it) those with lastOffset >= fetch_offset and firstOffset
 * < upper_bound.  Returns 1 when the search is complete (an entry's
 * lastStableOffset >= upper_bound), 0 to go on with the next segment, -1
 * when out of memory. */
int txn_index_collect(const struct txn_aborted *v, size_t n, int64_t fetch_offset,
                      int64_t upper_bound, struct txn_aborted **acc, size_t *nacc,
                      size_t *cap);

#endif
