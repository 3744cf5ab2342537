/* Aborted-transaction index entries.  See txn_index.h. */
#include "storage/txn_index.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage/record_batch.h"

void txn_index_encode(const struct txn_aborted *e, uint8_t out[TXN_INDEX_ENTRY_SIZE])
{
    out[0] = 0;
    out[1] = TXN_INDEX_VERSION;
    rb_put_i64(out + 2, e->producer_id);
    rb_put_i64(out + 10, e->first_offset);
    rb_put_i64(out + 18, e->last_offset);
    rb_put_i64(out + 26, e->last_stable_offset);
}

int txn_index_decode(const uint8_t *buf, size_t len, int64_t base_offset,
                     struct txn_aborted **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (len % TXN_INDEX_ENTRY_SIZE) {
        snprintf(err, errlen, "transaction index of %zu bytes is not whole entries", len);
        return -1;
    }
    size_t cnt = len / TXN_INDEX_ENTRY_SIZE;
    if (cnt == 0)
        return 0;
    struct txn_aborted *v = (struct txn_aborted *)malloc(cnt * sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cnt; i++) {
        const uint8_t *p = buf + i * TXN_INDEX_ENTRY_SIZE;
        int16_t ver = rb_get_i16(p);
        struct txn_aborted *e = &v[i];
        e->producer_id = rb_get_i64(p + 2);
        e->first_offset = rb_get_i64(p + 10);
        e->last_offset = rb_get_i64(p + 18);
        e->last_stable_offset = rb_get_i64(p + 26);
        const char *why = NULL;
        if (ver != TXN_INDEX_VERSION)
            why = "unexpected aborted transaction version";
        else if (e->producer_id < 0 || e->first_offset < 0 || e->last_offset < e->first_offset)
            why = "invalid aborted transaction";
        else if (e->last_offset < base_offset)
            why = "last offset of aborted transaction is less than start offset";
        else if (i && e->last_offset <= v[i - 1].last_offset)
            why = "last offsets of aborted transactions do not increase";
        if (why) {
            snprintf(err, errlen, "%s (entry %zu, version %d, last offset %" PRId64 ")", why, i,
                     ver, e->last_offset);
            free(v);
            return -1;
        }
    }
    *out = v;
    *n = cnt;
    return 0;
}

int txn_index_collect(const struct txn_aborted *v, size_t n, int64_t fetch_offset,
                      int64_t upper_bound, struct txn_aborted **acc, size_t *nacc, size_t *cap)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].last_offset >= fetch_offset && v[i].first_offset < upper_bound) {
            if (*nacc == *cap) {
                size_t nc = *cap ? *cap * 2 : 8;
                struct txn_aborted *na = (struct txn_aborted *)realloc(*acc, nc * sizeof *na);
                if (!na)
                    return -1;
                *acc = na;
                *cap = nc;
            }
            (*acc)[(*nacc)++] = v[i];
        }
        if (v[i].last_stable_offset >= upper_bound)
            return 1;
    }
    return 0;
}
