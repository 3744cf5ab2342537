/* Cleaning one log: offset map, grouping, copy pass.  See cleaner.h. */
#define _GNU_SOURCE /* sync_file_range */
#include "storage/cleaner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- reading a segment batch by batch --------------------------------- */

struct reader {
    int fd;
    uint64_t end;      /* segment size */
    uint64_t buf_pos;  /* file position of buf[0] */
    uint8_t *buf;
    size_t cap, len, off;
};

static int reader_init(struct reader *r, int fd, uint64_t end, size_t chunk)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->end = end;
    r->cap = chunk < 4096 ? 4096 : chunk;
    r->buf = (uint8_t *)malloc(r->cap);
    return r->buf ? 0 : -ENOMEM;
}

static void reader_free(struct reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Make at least `need` unread bytes available (fewer only at the end). */
static int reader_fill(struct reader *r, size_t need)
{
    if (r->len - r->off >= need)
        return 0;
    if (r->off) {
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->buf_pos += r->off;
        r->len -= r->off;
        r->off = 0;
    }
    if (need > r->cap) {
        uint8_t *nb = (uint8_t *)realloc(r->buf, need);
        if (!nb)
            return -ENOMEM;
        r->buf = nb;
        r->cap = need;
    }
    while (r->len < r->cap && r->buf_pos + r->len < r->end) {
        uint64_t left = r->end - (r->buf_pos + r->len);
        size_t want = r->cap - r->len;
        if (want > left)
            want = (size_t)left;
        ssize_t n = pread(r->fd, r->buf + r->len, want, (off_t)(r->buf_pos + r->len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        r->len += (size_t)n;
    }
    return 0;
}

/* Next batch: 1 (*b points into the buffer until the next call), 0 at the
 * end, -1 on error with *code set (corrupt data is an error: closed
 * segments were recovered at open, so anything odd means the file changed
 * under us). */
static int reader_next(struct reader *r, const uint8_t **b, size_t *size, uint64_t *pos,
                       int *code, char *err, size_t errlen)
{
    if (r->buf_pos + r->off >= r->end)
        return 0;
    int rc = reader_fill(r, RB_HEADER_SIZE);
    uint64_t at = r->buf_pos + r->off;
    if (rc) {
        *code = fail(err, errlen, rc, "read: %s", strerror(-rc));
        return -1;
    }
    if (r->len - r->off < RB_HEADER_SIZE) {
        *code = fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "truncated batch header at %" PRIu64, at);
        return -1;
    }
    const uint8_t *h = r->buf + r->off;
    int32_t bl = rb_get_i32(h + RB_OFF_LENGTH);
    if (bl < RB_HEADER_SIZE - RB_LOG_OVERHEAD || h[RB_OFF_MAGIC] != RB_MAGIC ||
        at + RB_LOG_OVERHEAD + (uint64_t)bl > r->end) {
        *code = fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "invalid batch header at %" PRIu64, at);
        return -1;
    }
    size_t sz = RB_LOG_OVERHEAD + (size_t)bl;
    rc = reader_fill(r, sz);
    if (rc) {
        *code = fail(err, errlen, rc, "read: %s", strerror(-rc));
        return -1;
    }
    if (r->len - r->off < sz) {
        *code = fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "truncated batch at %" PRIu64, at);
        return -1;
    }
    *b = r->buf + r->off;
    *size = sz;
    *pos = at;
    r->off += sz;
    if (rb_compute_crc(*b, sz) != (uint32_t)rb_get_i32(*b + RB_OFF_CRC)) {
        *code = fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "CRC mismatch in batch at %" PRIu64, at);
        return -1;
    }
    return 1;
}

/* ---- transaction state (Kafka's CleanedTransactionMetadata) ------------ */

struct ongoing_abort {
    int64_t producer_id;
    int64_t last_observed; /* -1: no batch of the transaction seen */
    size_t entry;          /* its index in txn_meta.aborted */
};

struct txn_meta {
    const struct cleaner_aborted_txn *aborted; /* sorted by first offset */
    size_t naborted, next_aborted;
    int64_t *committed; /* producers with an ongoing (not aborted) transaction */
    size_t ncommitted, ccap;
    struct ongoing_abort *ab;
    size_t nab, abcap;
};

static void txn_init(struct txn_meta *t, const struct cleaner_aborted_txn *aborted, size_t n)
{
    memset(t, 0, sizeof *t);
    t->aborted = aborted;
    t->naborted = n;
}

static void txn_free(struct txn_meta *t)
{
    free(t->committed);
    free(t->ab);
}

static struct ongoing_abort *txn_find_abort(struct txn_meta *t, int64_t pid)
{
    for (size_t i = 0; i < t->nab; i++)
        if (t->ab[i].producer_id == pid)
            return &t->ab[i];
    return NULL;
}

static void txn_consume_aborted_up_to(struct txn_meta *t, int64_t offset)
{
    while (t->next_aborted < t->naborted && t->aborted[t->next_aborted].first_offset <= offset) {
        const struct cleaner_aborted_txn *a = &t->aborted[t->next_aborted++];
        if (txn_find_abort(t, a->producer_id))
            continue;
        if (t->nab == t->abcap) {
            size_t nc = t->abcap ? t->abcap * 2 : 8;
            struct ongoing_abort *n = (struct ongoing_abort *)realloc(t->ab, nc * sizeof *n);
            if (!n)
                continue; /* out of memory: treated as committed, i.e. kept */
            t->ab = n;
            t->abcap = nc;
        }
        t->ab[t->nab].producer_id = a->producer_id;
        t->ab[t->nab].last_observed = -1;
        t->ab[t->nab].entry = t->next_aborted - 1;
        t->nab++;
    }
}

static int txn_remove_committed(struct txn_meta *t, int64_t pid)
{
    for (size_t i = 0; i < t->ncommitted; i++)
        if (t->committed[i] == pid) {
            t->committed[i] = t->committed[--t->ncommitted];
            return 1;
        }
    return 0;
}

static void txn_add_committed(struct txn_meta *t, int64_t pid)
{
    for (size_t i = 0; i < t->ncommitted; i++)
        if (t->committed[i] == pid)
            return;
    if (t->ncommitted == t->ccap) {
        size_t nc = t->ccap ? t->ccap * 2 : 8;
        int64_t *n = (int64_t *)realloc(t->committed, nc * sizeof *n);
        if (!n)
            return;
        t->committed = n;
        t->ccap = nc;
    }
    t->committed[t->ncommitted++] = pid;
}

/* Control record key: version i16, type i16 (0 ABORT, 1 COMMIT). */
static int control_type(const struct rb_header *h, const uint8_t *batch, size_t size,
                        rb_decompress_fn dec, void *dec_ctx)
{
    (void)h;
    struct rb_iter it;
    int type = -1; /* no record */
    if (rb_iter_init(&it, batch, size, dec, dec_ctx) == 0) {
        struct rb_record r;
        if (rb_iter_next(&it, &r) == 1)
            type = r.key_len >= 4 ? rb_get_i16(r.key + 2) : -2;
    }
    rb_iter_free(&it);
    return type;
}

/* True if the control batch can be discarded.  cleaned (NULL while
 * building the map) gets the index entry of a retained ABORT marker. */
static int txn_on_control(struct txn_meta *t, const struct rb_header *h, const uint8_t *batch,
                          size_t size, rb_decompress_fn dec, void *dec_ctx,
                          struct segment *cleaned, int *io_err)
{
    txn_consume_aborted_up_to(t, h->base_offset + h->last_offset_delta);
    int type = control_type(h, batch, size, dec, dec_ctx);
    if (type == -1)
        return 1; /* an empty control batch was already cleaned */
    if (type == 0) {
        struct ongoing_abort *a = txn_find_abort(t, h->producer_id);
        int keep = a && a->last_observed >= 0;
        if (keep && cleaned) {
            const struct cleaner_aborted_txn *e = &t->aborted[a->entry];
            struct txn_aborted ent = { e->producer_id, e->first_offset, e->last_offset,
                                       e->last_stable_offset };
            int rc = seg_txn_append(cleaned, &ent);
            if (rc && io_err && !*io_err)
                *io_err = rc;
        }
        if (a)
            *a = t->ab[--t->nab];
        return !keep; /* retained until all the transaction's batches are gone */
    }
    if (type == 1)
        return !txn_remove_committed(t, h->producer_id);
    return 0;
}

/* True if the batch belongs to an aborted transaction. */
static int txn_on_batch(struct txn_meta *t, const struct rb_header *h)
{
    int64_t last = h->base_offset + h->last_offset_delta;
    txn_consume_aborted_up_to(t, last);
    if (!(h->attributes & RB_ATTR_TRANSACTIONAL))
        return 0;
    struct ongoing_abort *a = txn_find_abort(t, h->producer_id);
    if (a) {
        a->last_observed = last;
        return 1;
    }
    txn_add_committed(t, h->producer_id);
    return 0;
}

/* ---- grouping ---------------------------------------------------------- */

size_t cleaner_group_segments(const struct cleaner_segment *segs, size_t n, int64_t max_size,
                              int64_t max_index_size, int64_t first_uncleanable, size_t *starts)
{
    size_t ngroups = 0, i = 0;
    while (i < n) {
        size_t first = i;
        starts[ngroups++] = first;
        int64_t log_size = (int64_t)segs[i].size;
        int64_t idx_size = (int64_t)segs[i].index_bytes;
        int64_t tidx_size = (int64_t)segs[i].timeindex_bytes;
        i++;
        while (i < n) {
            const struct cleaner_segment *s = &segs[i];
            /* Kafka's lastOffsetForFirstSegment: bounded by the next
             * segment's base, or the first uncleanable offset. */
            int64_t last = i + 1 < n ? segs[i + 1].base_offset - 1 : first_uncleanable - 1;
            if (log_size + (int64_t)s->size > max_size ||
                idx_size + (int64_t)s->index_bytes > max_index_size ||
                tidx_size + (int64_t)s->timeindex_bytes > max_index_size ||
                (s->size != 0 && last - segs[first].base_offset > INT32_MAX))
                break;
            log_size += (int64_t)s->size;
            idx_size += (int64_t)s->index_bytes;
            tidx_size += (int64_t)s->timeindex_bytes;
            i++;
        }
    }
    return ngroups;
}

/* ---- shared state of one cleaning ------------------------------------- */

struct run {
    struct offset_map *map;
    const struct cleaner_params *p;
    struct cleaner_stats *st;
    struct txn_meta txn;
    int discard_batch_records;
    struct segment *cleaned; /* the copy pass's output */
    int index_err;           /* -errno of a failed .txnindex write */
    char *err;
    size_t errlen;
};

static int should_abort(const struct run *r)
{
    return r->p->should_abort && r->p->should_abort(r->p->ud);
}

static void throttle(const struct run *r, size_t bytes)
{
    if (r->p->throttle && bytes)
        r->p->throttle(r->p->ud, bytes);
}

/* Kafka's buildOffsetMapForSegment; *full is set when the map filled up.
 * Returns 0, CLEANER_ABORTED or an error. */
static int map_segment(struct run *r, const struct cleaner_segment *s, int64_t start,
                       int64_t next_segment_start, int *full)
{
    struct reader rd;
    *full = 0;
    if (reader_init(&rd, s->fd, s->size, r->p->io_buffer_size) != 0)
        return fail(r->err, r->errlen, -ENOMEM, "out of memory");
    size_t max_entries = offset_map_max_entries(r->map);
    const uint8_t *b;
    size_t size;
    uint64_t pos, unthrottled = 0;
    int rc = 0, more;
    while ((more = reader_next(&rd, &b, &size, &pos, &rc, r->err, r->errlen)) == 1) {
        r->st->map_bytes_read += size;
        unthrottled += size;
        if (unthrottled >= 65536) {
            if (should_abort(r)) {
                rc = CLEANER_ABORTED;
                break;
            }
            throttle(r, (size_t)unthrottled);
            unthrottled = 0;
        }
        struct rb_header h;
        rb_header_decode(b, size, &h);
        int64_t last = h.base_offset + h.last_offset_delta;
        if (h.attributes & RB_ATTR_CONTROL) {
            txn_on_control(&r->txn, &h, b, size, r->p->dec, r->p->dec_ctx, NULL, NULL);
            r->st->map_records_read++;
        } else if (!txn_on_batch(&r->txn, &h) && last >= start) {
            struct rb_iter it;
            if (rb_iter_init(&it, b, size, r->p->dec, r->p->dec_ctx) != 0) {
                rc = fail(r->err, r->errlen, it.err, "batch at %" PRIu64 ": %s", pos, it.errmsg);
                rb_iter_free(&it);
                break;
            }
            struct rb_record rec;
            while (rb_iter_next(&it, &rec) == 1) {
                if (rec.key_len >= 0 && rec.offset >= start) {
                    if (offset_map_size(r->map) >= max_entries ||
                        offset_map_put(r->map, rec.key, (size_t)rec.key_len, rec.offset) != 0) {
                        *full = 1;
                        break;
                    }
                }
                r->st->map_records_read++;
            }
            if (!*full && it.err)
                rc = fail(r->err, r->errlen, it.err, "batch at %" PRIu64 ": %s", pos, it.errmsg);
            rb_iter_free(&it);
            if (*full || rc)
                break;
        }
        if (last >= start)
            offset_map_update_latest_offset(r->map, last);
    }
    throttle(r, (size_t)unthrottled);
    reader_free(&rd);
    if (rc || *full)
        return rc;
    /* Offset gaps: everything up to the next segment was looked at. */
    offset_map_update_latest_offset(r->map, next_segment_start - 1);
    return 0;
}

/* Kafka's buildOffsetMap over the segments overlapping [start, end). */
static int build_map(struct run *r, const struct cleaner_segment *segs, size_t n, int64_t start,
                     int64_t end)
{
    offset_map_clear(r->map);
    size_t first = 0;
    while (first + 1 < n && segs[first + 1].base_offset <= start)
        first++;
    for (size_t i = first; i < n && segs[i].base_offset < end; i++) {
        if (should_abort(r))
            return CLEANER_ABORTED;
        int64_t next = i + 1 < n && segs[i + 1].base_offset < end ? segs[i + 1].base_offset : end;
        int full;
        int rc = map_segment(r, &segs[i], start, next, &full);
        if (rc)
            return rc;
        if (full)
            break; /* this segment is partially mapped */
    }
    return 0;
}

/* ---- the copy pass ------------------------------------------------------ */

static enum bf_retention check_batch(void *ud, const struct rb_header *h, const uint8_t *batch,
                                     size_t size, int *marker_for_empty_txn)
{
    struct run *r = (struct run *)ud;
    int control = (h->attributes & RB_ATTR_CONTROL) != 0;
    int can_discard = control ? txn_on_control(&r->txn, h, batch, size, r->p->dec, r->p->dec_ctx,
                                               r->cleaned, &r->index_err)
                              : txn_on_batch(&r->txn, h);
    if (control) {
        int64_t horizon = rb_delete_horizon(h);
        r->discard_batch_records = can_discard && horizon >= 0 && horizon <= r->p->now_ms;
    } else {
        r->discard_batch_records = can_discard;
    }
    *marker_for_empty_txn = can_discard && control;

    int64_t last = h->base_offset + h->last_offset_delta;
    int last_of_producer = 0;
    if (h->producer_id >= 0 && r->p->active_producer) {
        int64_t last_data = -1;
        int16_t epoch = -1;
        if (r->p->active_producer(r->p->ud, h->producer_id, &last_data, &epoch))
            last_of_producer = last_data >= 0 ? last == last_data
                                              : control && h->producer_epoch == epoch;
    }
    if (h->producer_id >= 0 && last_of_producer)
        return BF_RETAIN_EMPTY;
    if (last + 1 == r->p->first_uncleanable)
        return BF_RETAIN_EMPTY; /* keeps the last offset of the round */
    return r->discard_batch_records ? BF_DELETE : BF_DELETE_EMPTY;
}

static int retain_record(void *ud, const struct rb_header *h, const struct rb_record *rec)
{
    struct run *r = (struct run *)ud;
    if (r->discard_batch_records)
        return 0;
    if (h->attributes & RB_ATTR_CONTROL)
        return 1;
    if (rec->offset > offset_map_latest_offset(r->map))
        return 1;
    if (rec->key_len < 0) {
        r->st->invalid_records++;
        return 0;
    }
    int64_t found = offset_map_get(r->map, rec->key, (size_t)rec->key_len);
    int64_t horizon = rb_delete_horizon(h);
    int retain_deletes = horizon < 0 || r->p->now_ms < horizon;
    return rec->offset >= found && (rec->value_len >= 0 || retain_deletes);
}

static int flush_out(struct run *r, struct segment *cleaned, struct wire_writer *out)
{
    if (out->len == 0)
        return 0;
    int rc = seg_append(cleaned, out->buf, out->len, r->p->index_interval_bytes);
    if (rc)
        return fail(r->err, r->errlen, rc, "write %s.log.cleaned: %s", cleaned->path,
                    strerror(-rc));
    r->st->bytes_written += out->len;
    throttle(r, out->len);
    /* Start writeback of what was just written: the fsync before the swap
     * then has little left to do, and the disk sees a steady stream rather
     * than one burst that stalls other writers (the produce path). */
    sync_file_range(cleaned->log_fd, (off_t)(cleaned->size - out->len), (off_t)out->len,
                    SYNC_FILE_RANGE_WRITE);
    out->len = 0;
    return 0;
}

/* Kafka's cleanSegments: segs[0..n) into one new segment, then swap. */
static int clean_group(struct run *r, const struct cleaner_segment *segs, size_t n)
{
    const struct cleaner_params *p = r->p;
    struct segment *cleaned = seg_create_suffixed(p->dir, segs[0].base_offset, ".cleaned",
                                                  p->now_ms, r->err, r->errlen);
    if (!cleaned)
        return errno ? -errno : -EIO; /* seg_create_suffixed sets it */
    struct bf_filter f = { p->now_ms, p->delete_retention_ms, check_batch, retain_record, r };
    r->cleaned = cleaned;
    r->index_err = 0;
    struct wire_writer out;
    wire_writer_init(&out);
    size_t chunk = p->io_buffer_size ? p->io_buffer_size : 524288;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        struct reader rd;
        rc = reader_init(&rd, segs[i].fd, segs[i].size, chunk);
        if (rc) {
            rc = fail(r->err, r->errlen, rc, "out of memory");
            break;
        }
        const uint8_t *b;
        size_t size;
        uint64_t pos, unthrottled = 0;
        int more;
        while ((more = reader_next(&rd, &b, &size, &pos, &rc, r->err, r->errlen)) == 1) {
            r->st->bytes_read += size;
            unthrottled += size;
            if (unthrottled >= 65536) {
                if (should_abort(r)) {
                    rc = CLEANER_ABORTED;
                    break;
                }
                throttle(r, (size_t)unthrottled);
                unthrottled = 0;
            }
            struct bf_result res;
            rc = bf_filter_batch(b, size, &f, p->dec, p->dec_ctx, p->comp, p->comp_ctx, &out, &res,
                                 r->err, r->errlen);
            if (rc)
                break;
            r->st->records_read += res.records_read;
            r->st->records_retained += res.records_retained;
            r->st->batches_copied += res.copied;
            r->st->batches_rebuilt += res.rebuilt;
            if (out.len >= chunk && (rc = flush_out(r, cleaned, &out)) != 0)
                break;
        }
        throttle(r, (size_t)unthrottled);
        reader_free(&rd);
    }
    if (!rc)
        rc = flush_out(r, cleaned, &out);
    if (!rc && r->index_err)
        rc = fail(r->err, r->errlen, r->index_err, "write %s.txnindex.cleaned: %s",
                  cleaned->path, strerror(-r->index_err));
    r->cleaned = NULL;
    wire_writer_free(&out);
    if (!rc && should_abort(r))
        rc = CLEANER_ABORTED;
    if (!rc) {
        /* Kafka: onBecomeInactiveSegment, flush, keep lastModified. */
        seg_seal(cleaned);
        int frc = seg_fsync(cleaned);
        if (frc)
            rc = fail(r->err, r->errlen, frc, "fsync %s.log.cleaned: %s", cleaned->path,
                      strerror(-frc));
        else
            seg_set_mtime(cleaned, segs[n - 1].last_modified_ms);
    }
    if (rc) {
        seg_discard(cleaned);
        return rc;
    }
    int64_t bases_small[16];
    int64_t *bases = n <= 16 ? bases_small : (int64_t *)malloc(n * sizeof *bases);
    if (!bases) {
        seg_discard(cleaned);
        return fail(r->err, r->errlen, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        bases[i] = segs[i].base_offset;
    r->st->groups++;
    rc = p->swap(p->ud, cleaned, bases, n);
    if (bases != bases_small)
        free(bases);
    if (rc)
        return rc > 0 ? rc : fail(r->err, r->errlen, rc, "swap failed: %s", strerror(-rc));
    return 0;
}

int cleaner_clean(struct offset_map *map, const struct cleaner_segment *segs, size_t n,
                  const struct cleaner_params *p, int64_t *end_offset, struct cleaner_stats *st,
                  char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    *end_offset = p->first_dirty;
    if (err && errlen)
        err[0] = '\0';
    struct run r = { map, p, st, { 0 }, 0, NULL, 0, err, errlen };
    /* The map pass starts at the first dirty offset: like Kafka's
     * collectAbortedTransactions(firstDirty, ...), only transactions ending
     * there or later (an older one's marker is never read by this pass,
     * and its producer's later batches would pass for aborted). */
    struct cleaner_aborted_txn *dirty_aborted = NULL;
    size_t ndirty = 0;
    if (p->naborted) {
        dirty_aborted = (struct cleaner_aborted_txn *)malloc(p->naborted * sizeof *dirty_aborted);
        if (!dirty_aborted)
            return fail(err, errlen, -ENOMEM, "out of memory");
        for (size_t i = 0; i < p->naborted; i++)
            if (p->aborted[i].last_offset >= p->first_dirty)
                dirty_aborted[ndirty++] = p->aborted[i];
    }
    txn_init(&r.txn, dirty_aborted, ndirty);
    int rc = build_map(&r, segs, n, p->first_dirty, p->first_uncleanable);
    txn_free(&r.txn);
    free(dirty_aborted);
    if (rc)
        return rc;
    st->map_utilization = offset_map_utilization(map);
    int64_t end = offset_map_latest_offset(map) + 1;

    size_t m = 0;
    while (m < n && segs[m].base_offset < end)
        m++;
    size_t *starts = (size_t *)malloc((m ? m : 1) * sizeof *starts);
    if (!starts)
        return fail(err, errlen, -ENOMEM, "out of memory");
    size_t ngroups = cleaner_group_segments(segs, m, p->segment_bytes, p->max_index_bytes,
                                            p->first_uncleanable, starts);
    txn_init(&r.txn, p->aborted, p->naborted);
    for (size_t g = 0; g < ngroups && !rc; g++) {
        size_t from = starts[g], to = g + 1 < ngroups ? starts[g + 1] : m;
        rc = clean_group(&r, segs + from, to - from);
    }
    txn_free(&r.txn);
    free(starts);
    if (!rc)
        *end_offset = end;
    return rc;
}
