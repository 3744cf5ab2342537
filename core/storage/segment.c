/* Segment files: append, index maintenance, lookup and recovery. */
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crc32c.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *seg_file(const struct segment *s, const char *ext, int deleted)
{
    size_t n = strlen(s->path) + strlen(ext) + sizeof s->suffix + 16;
    char *p = (char *)malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s%s", s->path, ext, s->suffix, deleted ? ".deleted" : "");
    return p;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = (const uint8_t *)buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = (uint8_t *)buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, p + got, len - got, off + (off_t)got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static struct segment *seg_alloc(const char *dir, int64_t base, int64_t now_ms)
{
    struct segment *s = (struct segment *)calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t n = strlen(dir) + 32;
    s->path = (char *)malloc(n);
    if (!s->path) {
        free(s);
        return NULL;
    }
    snprintf(s->path, n, "%s/%020" PRId64, dir, base);
    s->base_offset = base;
    s->next_offset = base;
    s->log_fd = s->idx_fd = s->tidx_fd = s->txn_fd = -1;
    s->max_ts = -1;
    s->offset_of_max_ts = -1;
    s->first_batch_ts = -1;
    s->created_ms = now_ms;
    s->delete_at_ms = -1;
    return s;
}

static int open_files(struct segment *s, int flags, char *err, size_t errlen)
{
    static const char *exts[3] = { ".log", ".index", ".timeindex" };
    int *fds[3] = { &s->log_fd, &s->idx_fd, &s->tidx_fd };
    for (int i = 0; i < 3; i++) {
        char *p = seg_file(s, exts[i], 0);
        if (!p)
            return -ENOMEM;
        *fds[i] = open(p, O_RDWR | O_CLOEXEC | flags, 0644);
        if (*fds[i] < 0) {
            int e = errno;
            seterr(err, errlen, "open %s: %s", p, strerror(e));
            free(p);
            return -e;
        }
        free(p);
    }
    return 0;
}

static void free_mem(struct segment *s)
{
    free(s->txn);
    free(s->idx);
    free(s->tidx);
    free(s->path);
    free(s);
}

void seg_close(struct segment *s, int unlink_deleted)
{
    if (!s)
        return;
    int *fds[4] = { &s->log_fd, &s->idx_fd, &s->tidx_fd, &s->txn_fd };
    for (int i = 0; i < 4; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    if (unlink_deleted && s->delete_at_ms >= 0) {
        static const char *exts[4] = { ".log", ".index", ".timeindex", ".txnindex" };
        for (int i = 0; i < 4; i++) {
            char *p = seg_file(s, exts[i], 1);
            if (p)
                unlink(p);
            free(p);
        }
    }
    free_mem(s);
}

/* A new segment starts without aborted transactions: a leftover file of
 * that name goes (Kafka's roll deletes existing index files too). */
static void drop_stale_txnindex(struct segment *s)
{
    char *p = seg_file(s, ".txnindex", 0);
    if (p)
        unlink(p);
    free(p);
}

struct segment *seg_create(const char *dir, int64_t base, int64_t now_ms, char *err, size_t errlen)
{
    struct segment *s = seg_alloc(dir, base, now_ms);
    if (!s) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    if (open_files(s, O_CREAT | O_TRUNC, err, errlen) != 0) {
        seg_close(s, 0);
        return NULL;
    }
    drop_stale_txnindex(s);
    s->dirty = 1; /* new files: their directory entries need a flush */
    return s;
}

/* ---- index bookkeeping ------------------------------------------------ */

static int idx_push(struct segment *s, uint32_t rel, uint32_t pos, int write_file)
{
    if (s->nidx == s->idx_cap) {
        size_t cap = s->idx_cap ? s->idx_cap * 2 : 64;
        struct seg_index_entry *n = (struct seg_index_entry *)realloc(s->idx, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        s->idx = n;
        s->idx_cap = cap;
    }
    s->idx[s->nidx].rel = rel;
    s->idx[s->nidx].pos = pos;
    if (write_file) {
        uint8_t b[8];
        rb_put_i32(b, (int32_t)rel);
        rb_put_i32(b + 4, (int32_t)pos);
        int rc = pwrite_all(s->idx_fd, b, 8, (off_t)(s->nidx * SEG_INDEX_ENTRY_SIZE));
        if (rc)
            return rc;
    }
    s->nidx++;
    return 0;
}

static int tidx_push(struct segment *s, int64_t ts, uint32_t rel, int write_file)
{
    /* The time index is monotonic: only a strictly larger timestamp adds. */
    if (s->ntidx && s->tidx[s->ntidx - 1].ts >= ts)
        return 0;
    if (s->ntidx == s->tidx_cap) {
        size_t cap = s->tidx_cap ? s->tidx_cap * 2 : 64;
        struct seg_time_entry *n = (struct seg_time_entry *)realloc(s->tidx, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        s->tidx = n;
        s->tidx_cap = cap;
    }
    s->tidx[s->ntidx].ts = ts;
    s->tidx[s->ntidx].rel = rel;
    if (write_file) {
        uint8_t b[12];
        rb_put_i64(b, ts);
        rb_put_i32(b + 8, (int32_t)rel);
        int rc = pwrite_all(s->tidx_fd, b, 12, (off_t)(s->ntidx * SEG_TIMEINDEX_ENTRY_SIZE));
        if (rc)
            return rc;
    }
    s->ntidx++;
    return 0;
}

/* Kafka's LogSegment.append accounting for one batch at pos. */
static int account_batch(struct segment *s, uint64_t pos, size_t size, int64_t last_offset,
                         int64_t max_ts, int64_t interval, int write_files)
{
    if (s->size == 0 || pos == 0)
        s->first_batch_ts = max_ts;
    if (max_ts > s->max_ts) {
        s->max_ts = max_ts;
        s->offset_of_max_ts = last_offset;
    }
    if ((int64_t)s->bytes_since_index > interval) {
        int rc = idx_push(s, (uint32_t)(last_offset - s->base_offset), (uint32_t)pos, write_files);
        if (!rc && s->max_ts >= 0)
            rc = tidx_push(s, s->max_ts, (uint32_t)(s->offset_of_max_ts - s->base_offset),
                           write_files);
        if (rc)
            return rc;
        s->bytes_since_index = 0;
    }
    s->bytes_since_index += size;
    s->size = pos + size;
    s->next_offset = last_offset + 1;
    return 0;
}

int seg_append(struct segment *s, const uint8_t *data, size_t len, int64_t interval)
{
    uint64_t start = s->size;
    int rc = pwrite_all(s->log_fd, data, len, (off_t)start);
    if (rc) {
        if (ftruncate(s->log_fd, (off_t)start) != 0) {
            /* Nothing more to do: the tail is garbage recovery will cut. */
        }
        return rc;
    }
    s->dirty = 1;
    size_t off = 0;
    while (off < len) {
        const uint8_t *b = data + off;
        size_t size = rb_batch_size(b, len - off);
        int64_t base = rb_get_i64(b + RB_OFF_BASE_OFFSET);
        int64_t last = base + rb_get_i32(b + RB_OFF_LAST_OFFSET_DELTA);
        rc = account_batch(s, start + off, size, last, rb_get_i64(b + RB_OFF_MAX_TIMESTAMP),
                           interval, 1);
        if (rc)
            return rc;
        off += size;
    }
    return 0;
}

/* ---- reading ---------------------------------------------------------- */

int seg_batch_at(const struct segment *s, uint64_t pos, struct seg_batch *b)
{
    if (pos + RB_HEADER_SIZE > s->size)
        return 0;
    uint8_t h[RB_HEADER_SIZE];
    ssize_t n = pread_full(s->log_fd, h, sizeof h, (off_t)pos);
    if (n < 0)
        return (int)n;
    if (n < (ssize_t)sizeof h)
        return 0;
    b->pos = pos;
    b->size = rb_batch_size(h, sizeof h);
    b->base_offset = rb_get_i64(h + RB_OFF_BASE_OFFSET);
    b->last_offset = b->base_offset + rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA);
    b->max_timestamp = rb_get_i64(h + RB_OFF_MAX_TIMESTAMP);
    b->attributes = rb_get_i16(h + RB_OFF_ATTRIBUTES);
    if (b->size < RB_HEADER_SIZE || pos + b->size > s->size)
        return -EIO; /* only possible if the file changed under us */
    return 1;
}

int seg_find_batch(const struct segment *s, int64_t offset, struct seg_batch *b)
{
    if (offset >= s->next_offset)
        return 0;
    uint64_t pos = 0;
    if (offset > s->base_offset) {
        /* Largest entry whose (last) offset <= offset: the batch holding
         * offset starts at or after its position. */
        uint32_t rel = (uint32_t)(offset - s->base_offset);
        size_t lo = 0, hi = s->nidx;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->idx[mid].rel <= rel)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0)
            pos = s->idx[lo - 1].pos;
    }
    for (;;) {
        int rc = seg_batch_at(s, pos, b);
        if (rc <= 0)
            return rc;
        if (b->last_offset >= offset)
            return 1;
        pos += b->size;
    }
}

uint64_t seg_index_floor_pos(const struct segment *s, int64_t before_offset, uint64_t min_pos,
                             uint64_t max_pos)
{
    uint64_t best = min_pos;
    /* Entries are few (one per index.interval.bytes); a binary search on
     * position then a walk back for the offset condition. */
    size_t lo = 0, hi = s->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->idx[mid].pos <= max_pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo > 0) {
        const struct seg_index_entry *e = &s->idx[lo - 1];
        if (e->pos < min_pos)
            break;
        if (s->base_offset + (int64_t)e->rel < before_offset) {
            best = e->pos;
            break;
        }
        lo--;
    }
    return best;
}

int64_t seg_time_lookup(const struct segment *s, int64_t ts)
{
    size_t lo = 0, hi = s->ntidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->tidx[mid].ts <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return s->base_offset;
    return s->base_offset + s->tidx[lo - 1].rel;
}

int seg_index_full(const struct segment *s, int64_t index_bytes)
{
    return (int64_t)(s->nidx + 1) * SEG_INDEX_ENTRY_SIZE > index_bytes ||
           (int64_t)(s->ntidx + 1) * SEG_TIMEINDEX_ENTRY_SIZE > index_bytes;
}

int seg_seal(struct segment *s)
{
    if (s->max_ts < 0)
        return 0;
    return tidx_push(s, s->max_ts, (uint32_t)(s->offset_of_max_ts - s->base_offset), 1);
}

int64_t seg_largest_timestamp(const struct segment *s)
{
    if (s->max_ts >= 0)
        return s->max_ts;
    struct stat st;
    if (fstat(s->log_fd, &st) != 0)
        return s->created_ms;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Renames index, timeindex, then log from the current names to
 * (to_suffix, to_deleted); see seg_change_suffix for why in that order. */
static int rename_files(struct segment *s, const char *to_suffix, int to_deleted,
                        void (*step)(void *ud), void *ud)
{
    static const char *exts[4] = { ".index", ".timeindex", ".txnindex", ".log" };
    char old_suffix[sizeof s->suffix];
    snprintf(old_suffix, sizeof old_suffix, "%s", s->suffix);
    int from_deleted = s->delete_at_ms >= 0;
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (i == 2 && s->txn_fd < 0)
            continue; /* no .txnindex (and no crash-point step for it) */
        char *from = seg_file(s, exts[i], from_deleted);
        snprintf(s->suffix, sizeof s->suffix, "%s", to_suffix);
        char *to = seg_file(s, exts[i], to_deleted);
        snprintf(s->suffix, sizeof s->suffix, "%s", old_suffix);
        if (!from || !to)
            rc = -ENOMEM;
        else if (rename(from, to) != 0 && errno != ENOENT)
            rc = -errno;
        free(from);
        free(to);
        if (rc == 0 && step)
            step(ud);
    }
    if (rc == 0)
        snprintf(s->suffix, sizeof s->suffix, "%s", to_suffix);
    return rc;
}

int seg_rename_deleted(struct segment *s)
{
    return rename_files(s, s->suffix, 1, NULL, NULL);
}

int seg_rename_deleted_steps(struct segment *s, void (*step)(void *ud), void *ud)
{
    return rename_files(s, s->suffix, 1, step, ud);
}

int seg_change_suffix(struct segment *s, const char *suffix, void (*step)(void *ud), void *ud)
{
    if (strlen(suffix) >= sizeof s->suffix)
        return -EINVAL;
    return rename_files(s, suffix, 0, step, ud);
}

struct segment *seg_create_suffixed(const char *dir, int64_t base, const char *suffix,
                                    int64_t now_ms, char *err, size_t errlen)
{
    struct segment *s = seg_alloc(dir, base, now_ms);
    if (!s || strlen(suffix) >= sizeof s->suffix) {
        seterr(err, errlen, s ? "suffix too long" : "out of memory");
        seg_close(s, 0);
        errno = s ? EINVAL : ENOMEM;
        return NULL;
    }
    snprintf(s->suffix, sizeof s->suffix, "%s", suffix);
    int rc = open_files(s, O_CREAT | O_TRUNC, err, errlen);
    if (rc != 0) {
        seg_discard(s);
        errno = -rc; /* the caller tells I/O errors from the rest */
        return NULL;
    }
    drop_stale_txnindex(s);
    return s;
}

void seg_discard(struct segment *s)
{
    if (!s)
        return;
    static const char *exts[4] = { ".log", ".index", ".timeindex", ".txnindex" };
    for (int i = 0; i < 4; i++) {
        char *p = seg_file(s, exts[i], s->delete_at_ms >= 0);
        if (p)
            unlink(p);
        free(p);
    }
    s->delete_at_ms = -1; /* already unlinked */
    seg_close(s, 0);
}

int seg_fsync(struct segment *s)
{
    if (fsync(s->log_fd) != 0 || fsync(s->idx_fd) != 0 || fsync(s->tidx_fd) != 0 ||
        (s->txn_fd >= 0 && fsync(s->txn_fd) != 0))
        return -errno;
    s->dirty = 0;
    return 0;
}

int seg_set_mtime(struct segment *s, int64_t ms)
{
    if (ms <= 0)
        return 0;
    struct timespec ts[2];
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = (time_t)(ms / 1000);
    ts[1].tv_nsec = (long)(ms % 1000) * 1000000L;
    return futimens(s->log_fd, ts) == 0 ? 0 : -errno;
}

int64_t seg_mtime(const struct segment *s)
{
    struct stat st;
    if (fstat(s->log_fd, &st) != 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* ---- opening and recovery --------------------------------------------- */

static int write_index_files(struct segment *s)
{
    uint8_t *buf = (uint8_t *)malloc(s->nidx * 8 + s->ntidx * 12 + 1);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < s->nidx; i++) {
        rb_put_i32(buf + i * 8, (int32_t)s->idx[i].rel);
        rb_put_i32(buf + i * 8 + 4, (int32_t)s->idx[i].pos);
    }
    int rc = 0;
    if (ftruncate(s->idx_fd, 0) != 0)
        rc = -errno;
    if (!rc)
        rc = pwrite_all(s->idx_fd, buf, s->nidx * 8, 0);
    for (size_t i = 0; i < s->ntidx; i++) {
        rb_put_i64(buf + i * 12, s->tidx[i].ts);
        rb_put_i32(buf + i * 12 + 8, (int32_t)s->tidx[i].rel);
    }
    if (!rc && ftruncate(s->tidx_fd, 0) != 0)
        rc = -errno;
    if (!rc)
        rc = pwrite_all(s->tidx_fd, buf, s->ntidx * 12, 0);
    free(buf);
    s->dirty = 1;
    return rc;
}

/* Walk batches from pos to file_size, accounting each valid one; stops at
 * the first torn or invalid batch.  check_crc reads whole batches.  If
 * first_indexed, the batch at pos is already in the offset index. */
static int scan_from(struct segment *s, uint64_t pos, uint64_t file_size, int check_crc,
                     int64_t interval, int first_indexed)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (pos + RB_HEADER_SIZE <= file_size) {
        uint8_t h[RB_HEADER_SIZE];
        ssize_t n = pread_full(s->log_fd, h, sizeof h, (off_t)pos);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n < RB_HEADER_SIZE)
            break;
        int32_t bl = rb_get_i32(h + RB_OFF_LENGTH);
        if (bl < RB_HEADER_SIZE - RB_LOG_OVERHEAD || h[RB_OFF_MAGIC] != RB_MAGIC)
            break;
        size_t size = RB_LOG_OVERHEAD + (size_t)bl;
        if (pos + size > file_size || pos + size > UINT32_MAX)
            break;
        int64_t base = rb_get_i64(h + RB_OFF_BASE_OFFSET);
        int32_t lod = rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA);
        if (base < s->next_offset || lod < 0 || base + lod - s->base_offset > INT32_MAX)
            break;
        if (check_crc) {
            if (size > cap) {
                uint8_t *nb = (uint8_t *)realloc(buf, size);
                if (!nb) {
                    rc = -ENOMEM;
                    break;
                }
                buf = nb;
                cap = size;
            }
            n = pread_full(s->log_fd, buf, size, (off_t)pos);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            if ((size_t)n < size || rb_compute_crc(buf, size) != (uint32_t)rb_get_i32(buf + RB_OFF_CRC))
                break;
        }
        int64_t max_ts = rb_get_i64(h + RB_OFF_MAX_TIMESTAMP);
        if (first_indexed) {
            /* Already indexed: just take it into the running state. */
            if (max_ts > s->max_ts) {
                s->max_ts = max_ts;
                s->offset_of_max_ts = base + lod;
            }
            s->bytes_since_index = size;
            s->size = pos + size;
            s->next_offset = base + lod + 1;
            first_indexed = 0;
        } else {
            rc = account_batch(s, pos, size, base + lod, max_ts, interval, 0);
            if (rc)
                break;
        }
        pos += size;
    }
    free(buf);
    return rc;
}

static int recover(struct segment *s, uint64_t file_size, int64_t interval, uint64_t *truncated)
{
    s->nidx = s->ntidx = 0;
    s->size = 0;
    s->bytes_since_index = 0;
    s->next_offset = s->base_offset;
    s->max_ts = s->offset_of_max_ts = s->first_batch_ts = -1;
    int rc = scan_from(s, 0, file_size, 1, interval, 0);
    if (rc)
        return rc;
    if (s->size < file_size) {
        if (ftruncate(s->log_fd, (off_t)s->size) != 0)
            return -errno;
        if (truncated)
            *truncated += file_size - s->size;
        s->dirty = 1;
    }
    return write_index_files(s);
}

/* Load the index files; 0 if they are consistent with a log of file_size. */
static int load_indexes(struct segment *s, uint64_t file_size)
{
    struct stat st;
    if (fstat(s->idx_fd, &st) != 0 || st.st_size % SEG_INDEX_ENTRY_SIZE)
        return -1;
    size_t n = (size_t)st.st_size / SEG_INDEX_ENTRY_SIZE;
    uint8_t *buf = (uint8_t *)malloc((size_t)st.st_size + 1);
    if (!buf || pread_full(s->idx_fd, buf, (size_t)st.st_size, 0) != st.st_size) {
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t rel = (uint32_t)rb_get_i32(buf + i * 8), pos = (uint32_t)rb_get_i32(buf + i * 8 + 4);
        if (pos >= file_size || (i && (rel <= s->idx[i - 1].rel || pos <= s->idx[i - 1].pos)) ||
            idx_push(s, rel, pos, 0) != 0) {
            free(buf);
            return -1;
        }
    }
    free(buf);
    if (fstat(s->tidx_fd, &st) != 0 || st.st_size % SEG_TIMEINDEX_ENTRY_SIZE)
        return -1;
    n = (size_t)st.st_size / SEG_TIMEINDEX_ENTRY_SIZE;
    buf = (uint8_t *)malloc((size_t)st.st_size + 1);
    if (!buf || pread_full(s->tidx_fd, buf, (size_t)st.st_size, 0) != st.st_size) {
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t ts = rb_get_i64(buf + i * 12);
        uint32_t rel = (uint32_t)rb_get_i32(buf + i * 12 + 8);
        size_t before = s->ntidx;
        if (tidx_push(s, ts, rel, 0) != 0 || s->ntidx != before + 1) {
            free(buf);
            return -1;
        }
    }
    free(buf);
    if (s->ntidx) {
        s->max_ts = s->tidx[s->ntidx - 1].ts;
        s->offset_of_max_ts = s->base_offset + s->tidx[s->ntidx - 1].rel;
    }
    return 0;
}

/* ---- aborted-transaction index ---------------------------------------- */

static int txn_push(struct segment *s, const struct txn_aborted *e)
{
    if (s->ntxn == s->txn_cap) {
        size_t nc = s->txn_cap ? s->txn_cap * 2 : 4;
        struct txn_aborted *n = (struct txn_aborted *)realloc(s->txn, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        s->txn = n;
        s->txn_cap = nc;
    }
    s->txn[s->ntxn++] = *e;
    return 0;
}

int seg_txn_append(struct segment *s, const struct txn_aborted *e)
{
    if (s->txn_fd < 0) {
        char *p = seg_file(s, ".txnindex", 0);
        if (!p)
            return -ENOMEM;
        s->txn_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        int err = errno;
        free(p);
        if (s->txn_fd < 0)
            return -err;
    }
    uint8_t buf[TXN_INDEX_ENTRY_SIZE];
    txn_index_encode(e, buf);
    int rc = pwrite_all(s->txn_fd, buf, sizeof buf, (off_t)(s->ntxn * TXN_INDEX_ENTRY_SIZE));
    if (rc)
        return rc;
    s->dirty = 1;
    return txn_push(s, e);
}

int seg_txn_reset(struct segment *s)
{
    s->ntxn = 0;
    if (s->txn_fd >= 0 && ftruncate(s->txn_fd, 0) != 0)
        return -errno;
    return 0;
}

/* Open and load an existing .txnindex; a bad one is emptied and the
 * segment marked for a rebuild (Kafka's sanityCheck → recovery). */
static void txn_load(struct segment *s, int recovering)
{
    char *p = seg_file(s, ".txnindex", 0);
    if (!p)
        return;
    s->txn_fd = open(p, O_RDWR | O_CLOEXEC);
    free(p);
    if (recovering) {
        s->txn_rebuild = 1;
        seg_txn_reset(s);
        return;
    }
    if (s->txn_fd < 0)
        return;
    struct stat st;
    uint8_t *buf = NULL;
    int ok = fstat(s->txn_fd, &st) == 0 && (buf = (uint8_t *)malloc((size_t)st.st_size + 1)) &&
             pread_full(s->txn_fd, buf, (size_t)st.st_size, 0) == st.st_size;
    struct txn_aborted *v = NULL;
    size_t n = 0;
    char why[128];
    if (ok && txn_index_decode(buf, (size_t)st.st_size, s->base_offset, &v, &n, why, sizeof why) == 0 &&
        (n == 0 || v[n - 1].last_offset < s->next_offset)) {
        s->txn = v;
        s->ntxn = s->txn_cap = n;
    } else {
        free(v);
        s->txn_rebuild = 1;
        seg_txn_reset(s);
    }
    free(buf);
}

struct segment *seg_open(const char *dir, int64_t base, int recover_it, int64_t interval,
                         int64_t now_ms, uint64_t *truncated, char *err, size_t errlen)
{
    struct segment *s = seg_alloc(dir, base, now_ms);
    if (!s) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    if (open_files(s, O_CREAT, err, errlen) != 0) {
        seg_close(s, 0);
        return NULL;
    }
    struct stat st;
    if (fstat(s->log_fd, &st) != 0) {
        seterr(err, errlen, "stat %s.log: %s", s->path, strerror(errno));
        seg_close(s, 0);
        return NULL;
    }
    uint64_t file_size = (uint64_t)st.st_size;
    int rc = 0;
    if (!recover_it && load_indexes(s, file_size) == 0) {
        uint64_t start = s->nidx ? s->idx[s->nidx - 1].pos : 0;
        rc = scan_from(s, start, file_size, 0, interval, s->nidx > 0);
        if (!rc && s->size != file_size)
            recover_it = 1; /* the tail does not parse: not a clean segment */
        if (!rc && !recover_it && s->size > 0) {
            struct seg_batch b;
            if (seg_batch_at(s, 0, &b) == 1)
                s->first_batch_ts = b.max_timestamp;
        }
    } else {
        recover_it = 1;
    }
    if (!rc && recover_it)
        rc = recover(s, file_size, interval, truncated);
    if (rc) {
        seterr(err, errlen, "segment %s: %s", s->path, strerror(-rc));
        seg_close(s, 0);
        return NULL;
    }
    txn_load(s, recover_it);
    return s;
}
