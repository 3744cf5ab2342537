/* Partition log: segment list, offsets, append/read, retention, recovery,
 * flushing and the small state files.  See partition_log.h. */
#include "storage/partition_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/checkpoint.h"
#include "storage/flusher.h"
#include "storage/producer_state.h"
#include "storage/segment.h"
#include "storage/timestamp_rules.h"
#include "storage/txn_marker.h"

#define CLEAN_MARKER ".clean-shutdown"
#define EPOCH_FILE "leader-epoch-checkpoint"
#define START_FILE "log-start-offset"
#define RECOVERY_FILE "recovery-point-offset"

struct epoch_entry {
    int32_t epoch;
    int64_t start;
};

struct partition_log {
    char *dir;
    struct plog_config cfg;
    struct flusher *fl;
    rb_decompress_fn dec;
    void *dec_ctx;

    struct segment **segs; /* by base offset; the last one is active */
    size_t nsegs, segs_cap;
    struct segment **grave; /* renamed to .deleted, closed after the delay */
    size_t ngrave, grave_cap;

    int64_t log_start, hw, recovery_point;
    int64_t unflushed_msgs;
    int64_t last_flush_ms, now_ms;
    int dir_dirty; /* directory entries changed since the last flush */

    struct epoch_entry *epochs;
    size_t nepochs, epochs_cap;

    struct ckpt_file *ck_epoch, *ck_start, *ck_recovery;
    struct producer_state *ps; /* idempotent producers (producer_state.h) */
    int64_t first_unstable;    /* first offset of the earliest ongoing transaction, -1 */
    int refs;   /* the owner + in-flight flush operations */
    int closed;

    int64_t roll_jitter_ms; /* of the active segment (Kafka's rollJitterMs) */
    plog_io_error_fn on_io_error;
    void *io_error_ud;
};

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

void plog_config_default(struct plog_config *c)
{
    c->segment_bytes = 1073741824;
    c->segment_ms = 604800000;
    c->segment_jitter_ms = 0;
    c->segment_index_bytes = 10485760;
    c->index_interval_bytes = 4096;
    c->retention_ms = 604800000;
    c->retention_bytes = -1;
    c->flush_interval_messages = INT64_MAX;
    c->flush_interval_ms = INT64_MAX;
    c->max_message_bytes = 1048588;
    c->file_delete_delay_ms = 60000;
    c->timestamp_type = 0;
    c->message_timestamp_before_max_ms = INT64_MAX;
    c->message_timestamp_after_max_ms = 3600000; /* Kafka 4.0 default (KIP-1030) */
    c->cleanup_policy = PLOG_CLEANUP_DELETE;
    c->min_cleanable_dirty_ratio = 0.5;
    c->min_compaction_lag_ms = 0;
    c->max_compaction_lag_ms = INT64_MAX;
    c->delete_retention_ms = 86400000;
}

static struct segment *active(const struct partition_log *pl)
{
    return pl->segs[pl->nsegs - 1];
}

int64_t plog_log_start_offset(const struct partition_log *pl) { return pl->log_start; }
int64_t plog_log_end_offset(const struct partition_log *pl) { return active(pl)->next_offset; }
int64_t plog_high_watermark(const struct partition_log *pl) { return pl->hw; }
/* Kafka's UnifiedLog.lastStableOffset: the first unstable offset (never
 * below the log start) when it is below the high watermark. */
int64_t plog_last_stable_offset(const struct partition_log *pl)
{
    int64_t fu = pl->first_unstable;
    if (fu < 0)
        return pl->hw;
    if (fu < pl->log_start)
        fu = pl->log_start;
    return fu < pl->hw ? fu : pl->hw;
}

int64_t plog_first_unstable_offset(const struct partition_log *pl) { return pl->first_unstable; }
struct producer_state *plog_producer_state(struct partition_log *pl) { return pl->ps; }
int plog_segment_count(const struct partition_log *pl) { return (int)pl->nsegs; }
int64_t plog_segment_base(const struct partition_log *pl, int i) { return pl->segs[i]->base_offset; }
int plog_epoch_count(const struct partition_log *pl) { return (int)pl->nepochs; }

void plog_epoch_entry(const struct partition_log *pl, int i, int32_t *epoch, int64_t *start)
{
    *epoch = pl->epochs[i].epoch;
    *start = pl->epochs[i].start;
}

void plog_set_config(struct partition_log *pl, const struct plog_config *cfg) { pl->cfg = *cfg; }

int64_t plog_size(const struct partition_log *pl)
{
    int64_t n = 0;
    for (size_t i = 0; i < pl->nsegs; i++)
        n += (int64_t)pl->segs[i]->size;
    return n;
}

void plog_set_io_error_cb(struct partition_log *pl, plog_io_error_fn fn, void *ud)
{
    pl->on_io_error = fn;
    pl->io_error_ud = ud;
}

static void io_error(struct partition_log *pl, int err, const char *what)
{
    if (pl->on_io_error && !pl->closed)
        pl->on_io_error(pl->io_error_ud, pl, err < 0 ? -err : err, what);
}

void plog_report_io_error(struct partition_log *pl, int err, const char *what)
{
    io_error(pl, err, what);
}

/* Kafka's LogConfig.randomSegmentJitter, drawn for each new active segment
 * so partitions created together do not all roll at once. */
static int64_t random_jitter(const struct plog_config *c)
{
    if (c->segment_jitter_ms <= 0)
        return 0;
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)(uintptr_t)&r ^ (uint32_t)c->segment_ms;
    int64_t bound = c->segment_jitter_ms < c->segment_ms ? c->segment_jitter_ms : c->segment_ms;
    return bound > 0 ? (int64_t)(r & 0x7fffffff) % bound : 0;
}

void plog_set_decompressor(struct partition_log *pl, rb_decompress_fn dec, void *dec_ctx)
{
    pl->dec = dec;
    pl->dec_ctx = dec_ctx;
}

static void pl_unref(struct partition_log *pl)
{
    if (--pl->refs > 0)
        return;
    pstate_free(pl->ps);
    free(pl->epochs);
    free(pl->segs);
    free(pl->grave);
    free(pl->dir);
    free(pl);
}

static int push_seg(struct segment ***arr, size_t *n, size_t *cap, struct segment *s)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct segment **na = (struct segment **)realloc(*arr, nc * sizeof *na);
        if (!na)
            return -ENOMEM;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = s;
    return 0;
}

/* ---- state files ------------------------------------------------------ */

static int write_offset_file(struct partition_log *pl, struct ckpt_file *c, int64_t v, int durable,
                             struct flusher *fl)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "0\n%" PRId64 "\n", v);
    return ckpt_write(c, fl, buf, (size_t)n, durable);
}

static int read_offset_file(const char *dir, const char *name, int64_t *v)
{
    char *s = ckpt_read(dir, name);
    if (!s)
        return -1;
    long long ver, x;
    char extra;
    int n = sscanf(s, "%lld\n%lld\n%c", &ver, &x, &extra);
    free(s);
    if (n != 2 || ver != 0 || x < 0)
        return -1;
    *v = x;
    return 0;
}

static int write_epochs(struct partition_log *pl, struct flusher *fl)
{
    size_t cap = 32 + pl->nepochs * 40;
    char *buf = (char *)malloc(cap);
    if (!buf)
        return -ENOMEM;
    size_t len = (size_t)snprintf(buf, cap, "0\n%zu\n", pl->nepochs);
    for (size_t i = 0; i < pl->nepochs; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%" PRId32 " %" PRId64 "\n",
                                pl->epochs[i].epoch, pl->epochs[i].start);
    int rc = ckpt_write(pl->ck_epoch, fl, buf, len, 1);
    free(buf);
    return rc;
}

static int add_epoch(struct partition_log *pl, int32_t epoch, int64_t start)
{
    if (pl->nepochs == pl->epochs_cap) {
        size_t nc = pl->epochs_cap ? pl->epochs_cap * 2 : 8;
        struct epoch_entry *n = (struct epoch_entry *)realloc(pl->epochs, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        pl->epochs = n;
        pl->epochs_cap = nc;
    }
    pl->epochs[pl->nepochs].epoch = epoch;
    pl->epochs[pl->nepochs].start = start;
    pl->nepochs++;
    return 0;
}

static void load_epochs(struct partition_log *pl)
{
    char *s = ckpt_read(pl->dir, EPOCH_FILE);
    if (!s)
        return;
    char *p = s, *end;
    long ver = strtol(p, &end, 10);
    long n = (end != p && ver == 0) ? strtol(p = end, &end, 10) : -1;
    for (long i = 0; end != p && i < n; i++) {
        long long e = strtoll(p = end, &end, 10);
        if (end == p)
            break;
        long long o = strtoll(p = end, &end, 10);
        if (end == p || e < 0 || o < 0 || e > INT32_MAX)
            break;
        /* Keep the cache monotonic even if the file was not. */
        if (pl->nepochs && (e <= pl->epochs[pl->nepochs - 1].epoch ||
                            o < pl->epochs[pl->nepochs - 1].start))
            break;
        add_epoch(pl, (int32_t)e, o);
    }
    free(s);
}

/* Kafka's truncateFromEnd(leo) and truncateFromStart(logStart). */
static int trim_epochs(struct partition_log *pl, int64_t leo, int64_t start)
{
    size_t before = pl->nepochs;
    int changed = 0;
    while (pl->nepochs && pl->epochs[pl->nepochs - 1].start >= leo && leo > start)
        pl->nepochs--;
    size_t drop = 0;
    while (drop + 1 < pl->nepochs && pl->epochs[drop + 1].start <= start)
        drop++;
    if (drop) {
        memmove(pl->epochs, pl->epochs + drop, (pl->nepochs - drop) * sizeof *pl->epochs);
        pl->nepochs -= drop;
    }
    if (pl->nepochs && pl->epochs[0].start < start) {
        pl->epochs[0].start = start;
        changed = 1;
    }
    return changed || before != pl->nepochs;
}

/* ---- open / recovery -------------------------------------------------- */

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int is_segment_log(const char *name, int64_t *base)
{
    size_t n = strlen(name);
    if (n != 24 || strcmp(name + 20, ".log") != 0)
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        if (v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return 1;
}

/* "<20 digits>.<rest>": the base offset, or -1. */
static int64_t name_base(const char *name)
{
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return name[20] == '.' ? v : -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Next offset of a "<base>.log.swap" file: walk the batch headers (the
 * cleaner fsynced it before the swap began, so it is complete). */
static int64_t swap_next_offset(const char *path, int64_t base)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return base;
    int64_t next = base;
    uint64_t pos = 0;
    uint8_t h[RB_HEADER_SIZE];
    while (pread(fd, h, sizeof h, (off_t)pos) == (ssize_t)sizeof h) {
        int32_t bl = rb_get_i32(h + RB_OFF_LENGTH);
        int32_t lod = rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA);
        if (bl < RB_HEADER_SIZE - RB_LOG_OVERHEAD || h[RB_OFF_MAGIC] != RB_MAGIC || lod < 0)
            break;
        next = rb_get_i64(h + RB_OFF_BASE_OFFSET) + lod + 1;
        pos += RB_LOG_OVERHEAD + (uint64_t)bl;
    }
    close(fd);
    return next;
}

/* Finish or roll back a log cleaner swap interrupted by a crash (Kafka's
 * LogLoader): .cleaned files are dropped, and so are .swap files at or
 * above the lowest .cleaned base (an incomplete multi-segment swap); a
 * "<base>.log.swap" left means every new segment had reached .swap, so the
 * old segment files in its offset range are removed and the .swap files
 * renamed to their final names.  Index .swap files without their .log
 * .swap are orphans and go (indexes are rebuilt anyway).  [*lo, *hi) gets
 * the offset range of the recovered segments, which the caller recovers in
 * full; both -1 when there was none. */
static void recover_swaps(const char *dir, int64_t *lo, int64_t *hi)
{
    *lo = *hi = -1;
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (name_base(e->d_name) < 0 ||
            !(ends_with(e->d_name, ".cleaned") || ends_with(e->d_name, ".swap") ||
              ends_with(e->d_name, ".log") || ends_with(e->d_name, ".index") ||
              ends_with(e->d_name, ".timeindex") || ends_with(e->d_name, ".txnindex")))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = (char **)realloc(names, nc * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    int64_t min_cleaned = INT64_MAX, min_swap = INT64_MAX, max_swap = INT64_MIN;
    int changed = 0;
    char p[4096], q[4096];
    for (size_t i = 0; i < n; i++)
        if (ends_with(names[i], ".cleaned") && name_base(names[i]) < min_cleaned)
            min_cleaned = name_base(names[i]);
    for (size_t i = 0; i < n; i++) {
        int cleaned = ends_with(names[i], ".cleaned");
        if (cleaned || (ends_with(names[i], ".swap") && name_base(names[i]) >= min_cleaned)) {
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            unlink(p);
            names[i][0] = '\0';
            changed = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!ends_with(names[i], ".log.swap"))
            continue;
        int64_t base = name_base(names[i]);
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        int64_t next = swap_next_offset(p, base);
        if (base < min_swap)
            min_swap = base;
        if (next > max_swap)
            max_swap = next;
    }
    if (min_swap != INT64_MAX) {
        /* Old segments the swap replaces (already renamed ones are .deleted). */
        for (size_t i = 0; i < n; i++) {
            if (!names[i][0] || ends_with(names[i], ".swap"))
                continue;
            int64_t base = name_base(names[i]);
            if (base >= min_swap && base < (max_swap > min_swap ? max_swap : min_swap + 1)) {
                snprintf(p, sizeof p, "%s/%s", dir, names[i]);
                unlink(p);
                changed = 1;
            }
        }
        *lo = min_swap;
        *hi = max_swap > min_swap ? max_swap : min_swap + 1;
    }
    /* Indexes first, the .log last, like the swap itself. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (!names[i][0] || !ends_with(names[i], ".swap"))
                continue;
            int is_log = ends_with(names[i], ".log.swap");
            if (is_log != pass)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            snprintf(q, sizeof q, "%s/%.20s.log.swap", dir, names[i]);
            if (!is_log && access(q, F_OK) != 0) {
                unlink(p);
            } else {
                snprintf(q, sizeof q, "%s/%s", dir, names[i]);
                q[strlen(q) - 5] = '\0'; /* drop ".swap" */
                if (rename(p, q) != 0)
                    unlink(p);
            }
            changed = 1;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (changed)
        ckpt_fsync_dir(dir);
}

/* List segment bases and clean up leftovers of interrupted operations. */
static int scan_dir(const char *dir, int64_t **bases, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 0;
    *bases = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t base;
        size_t len = strlen(e->d_name);
        if (is_segment_log(e->d_name, &base)) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                int64_t *nb = (int64_t *)realloc(*bases, cap * sizeof *nb);
                if (!nb) {
                    closedir(d);
                    return -ENOMEM;
                }
                *bases = nb;
            }
            (*bases)[(*n)++] = base;
        } else if ((len > 8 && strcmp(e->d_name + len - 8, ".deleted") == 0) ||
                   strstr(e->d_name, ".tmp.")) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    if (*n)
        qsort(*bases, *n, sizeof **bases, cmp_i64);
    return 0;
}

static void close_all(struct partition_log *pl)
{
    for (size_t i = 0; i < pl->nsegs; i++)
        seg_close(pl->segs[i], 0);
    pl->nsegs = 0;
    for (size_t i = 0; i < pl->ngrave; i++)
        seg_close(pl->grave[i], 1);
    pl->ngrave = 0;
    ckpt_release(pl->ck_epoch);
    ckpt_release(pl->ck_start);
    ckpt_release(pl->ck_recovery);
    pl->ck_epoch = pl->ck_start = pl->ck_recovery = NULL;
}

/* Index of the segment holding offset: the last one with base <= offset. */
static size_t seg_for(const struct partition_log *pl, int64_t offset)
{
    size_t lo = 0, hi = pl->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pl->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* Record an aborted transaction in the index of the segment holding its
 * marker (Kafka's LogSegment.updateTxnIndex). */
static int index_aborted(struct partition_log *pl, const struct pstate_completed *c, int64_t lso)
{
    if (!c->abort)
        return 0;
    struct txn_aborted e = { c->producer_id, c->first_offset, c->last_offset, lso };
    struct segment *s = pl->segs[seg_for(pl, c->last_offset)];
    if (s->txn_fd < 0)
        pl->dir_dirty = 1; /* a new .txnindex: the next flush syncs the directory */
    int rc = seg_txn_append(s, &e);
    if (rc && rc != -ENOMEM)
        io_error(pl, rc, "writing the transaction index of");
    return rc;
}

/* pstate_load's callback: only segments being rebuilt get entries (the
 * others' .txnindex files already have them). */
static void rebuild_txn_index(void *ud, const struct pstate_completed *c, int64_t lso)
{
    struct partition_log *pl = (struct partition_log *)ud;
    if (c->abort && pl->segs[seg_for(pl, c->last_offset)]->txn_rebuild)
        index_aborted(pl, c, lso);
}

struct partition_log *plog_open(const char *dir, const struct plog_config *cfg, struct flusher *fl,
                                int64_t now_ms, char *err, size_t errlen)
{
    int rc = mkdir_p(dir);
    if (rc) {
        seterr(err, errlen, "mkdir %s: %s", dir, strerror(-rc));
        return NULL;
    }
    struct partition_log *pl = (struct partition_log *)calloc(1, sizeof *pl);
    if (!pl || !(pl->dir = strdup(dir))) {
        free(pl);
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    pl->refs = 1;
    pl->cfg = *cfg;
    pl->fl = fl;
    pl->now_ms = pl->last_flush_ms = now_ms;
    pl->ck_epoch = ckpt_new(dir, EPOCH_FILE);
    pl->ck_start = ckpt_new(dir, START_FILE);
    pl->ck_recovery = ckpt_new(dir, RECOVERY_FILE);
    if (!pl->ck_epoch || !pl->ck_start || !pl->ck_recovery) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }

    char marker[4096];
    snprintf(marker, sizeof marker, "%s/%s", dir, CLEAN_MARKER);
    int clean = access(marker, F_OK) == 0;
    if (clean) {
        /* Removed durably before any new write, so a later crash is never
         * mistaken for a clean shutdown (startup path: a sync fsync is fine). */
        unlink(marker);
        ckpt_fsync_dir(dir);
    }
    int64_t rp = -1;
    if (read_offset_file(dir, RECOVERY_FILE, &rp) != 0)
        rp = -1; /* unknown: recover everything */
    int64_t ls = 0;
    read_offset_file(dir, START_FILE, &ls);

    int64_t swap_lo, swap_hi;
    recover_swaps(dir, &swap_lo, &swap_hi);
    int64_t *bases = NULL;
    size_t nb = 0;
    rc = scan_dir(dir, &bases, &nb);
    if (rc) {
        seterr(err, errlen, "scan %s: %s", dir, strerror(-rc));
        goto fail;
    }
    for (size_t i = 0; i < nb; i++) {
        int recover = (!clean && (i + 1 == nb || rp < 0 || bases[i + 1] > rp)) ||
                      (bases[i] >= swap_lo && bases[i] < swap_hi);
        uint64_t cut = 0;
        struct segment *s = seg_open(dir, bases[i], recover, cfg->index_interval_bytes, now_ms,
                                     &cut, err, errlen);
        if (!s || push_seg(&pl->segs, &pl->nsegs, &pl->segs_cap, s) != 0) {
            seg_close(s, 0);
            free(bases);
            goto fail;
        }
        if (pl->nsegs > 1 && s->base_offset < pl->segs[pl->nsegs - 2]->next_offset) {
            /* Overlaps the previous segment: only possible after a crash in
             * the middle of a roll; the previous one wins. */
            pl->nsegs--;
            seg_rename_deleted(s);
            s->delete_at_ms = 0;
            seg_close(s, 1);
            continue;
        }
        if (cut && i + 1 < nb) {
            /* Corruption in the middle: later segments cannot follow it. */
            for (size_t j = i + 1; j < nb; j++) {
                char p[4096];
                static const char *exts[4] = { ".log", ".index", ".timeindex", ".txnindex" };
                for (int k = 0; k < 4; k++) {
                    snprintf(p, sizeof p, "%s/%020" PRId64 "%s", dir, bases[j], exts[k]);
                    unlink(p);
                }
            }
            break;
        }
    }
    free(bases);
    if (pl->nsegs == 0) {
        struct segment *s = seg_create(dir, ls, now_ms, err, errlen);
        if (!s || push_seg(&pl->segs, &pl->nsegs, &pl->segs_cap, s) != 0) {
            seg_close(s, 0);
            goto fail;
        }
        pl->dir_dirty = 1;
    }
    int64_t leo = active(pl)->next_offset;
    if (ls < pl->segs[0]->base_offset)
        ls = pl->segs[0]->base_offset;
    if (ls > leo)
        ls = leo;
    pl->log_start = ls;
    pl->hw = leo;
    pl->roll_jitter_ms = random_jitter(cfg);
    pl->recovery_point = clean ? leo : (rp < 0 ? pl->segs[0]->base_offset : (rp > leo ? leo : rp));
    load_epochs(pl);
    if (trim_epochs(pl, leo, ls))
        write_epochs(pl, NULL);
    /* Producer state: newest snapshot, then the batches after it; the
     * replay also refills the aborted-transaction indexes of recovered
     * segments (Kafka's LogSegment.recover with the producer state). */
    pl->ps = pstate_new();
    if (!pl->ps) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    int64_t rebuild_from = INT64_MAX;
    for (size_t i = 0; i < pl->nsegs && rebuild_from == INT64_MAX; i++)
        if (pl->segs[i]->txn_rebuild)
            rebuild_from = pl->segs[i]->base_offset;
    if (pstate_load(pl->ps, dir, pl->segs, pl->nsegs, ls, leo, clean, rebuild_from,
                    rebuild_txn_index, pl, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < pl->nsegs; i++)
        pl->segs[i]->txn_rebuild = 0;
    pl->first_unstable = pstate_first_unstable(pl->ps, -1);
    return pl;

fail:
    close_all(pl);
    pl_unref(pl);
    return NULL;
}

/* ---- flushing --------------------------------------------------------- */

struct flush_op {
    struct partition_log *pl;
    int pending;
    int err;
    int64_t upto;
    void (*done)(void *ud, int err);
    void *ud;
};

static void flush_finished(struct partition_log *pl, int64_t upto, int err)
{
    if (err)
        io_error(pl, err, "flushing");
    if (pl->closed || err || upto <= pl->recovery_point)
        return;
    pl->recovery_point = upto;
    /* Not fsynced: losing it only means more recovery work after a crash,
     * and rename keeps it atomic. */
    write_offset_file(pl, pl->ck_recovery, upto, 0, NULL);
}

static void flush_op_cb(void *ud, int err)
{
    struct flush_op *op = (struct flush_op *)ud;
    if (err && !op->err)
        op->err = err;
    if (--op->pending > 0)
        return;
    flush_finished(op->pl, op->upto, op->err);
    if (op->done)
        op->done(op->ud, op->err);
    pl_unref(op->pl);
    free(op);
}

int plog_flush(struct partition_log *pl, void (*done)(void *ud, int err), void *ud)
{
    int fds[4 * 64 + 2];
    size_t nfds = 0;
    int64_t upto = active(pl)->next_offset;
    int dirfd = -1;
    if (pl->dir_dirty) {
        dirfd = open(pl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        pl->dir_dirty = 0;
    }
    pl->unflushed_msgs = 0;
    pl->last_flush_ms = pl->now_ms;

    struct flush_op *op = NULL;
    if (pl->fl) {
        op = (struct flush_op *)calloc(1, sizeof *op);
        if (!op) {
            if (dirfd >= 0)
                close(dirfd);
            return -ENOMEM;
        }
        op->pl = pl;
        op->upto = upto;
        op->done = done;
        op->ud = ud;
        op->pending = 1; /* held until every job is submitted */
        pl->refs++;
    }
    int err = 0;
    size_t i = 0;
    for (;;) {
        /* Gather in chunks so any number of dirty segments works. */
        nfds = 0;
        for (; i < pl->nsegs && nfds + 4 <= sizeof fds / sizeof fds[0] - 2; i++) {
            struct segment *s = pl->segs[i];
            if (!s->dirty)
                continue;
            s->dirty = 0;
            fds[nfds++] = s->log_fd;
            fds[nfds++] = s->idx_fd;
            fds[nfds++] = s->tidx_fd;
            if (s->txn_fd >= 0)
                fds[nfds++] = s->txn_fd;
        }
        if (i >= pl->nsegs && dirfd >= 0) {
            fds[nfds++] = dirfd;
        }
        if (op && nfds == 0 && op->pending == 1 && i >= pl->nsegs)
            fds[nfds++] = active(pl)->log_fd; /* keep done() asynchronous */
        for (size_t k = 0; k < nfds; k++) {
            if (op) {
                op->pending++;
                int rc = flusher_submit(pl->fl, fds[k], flush_op_cb, op);
                if (rc) {
                    op->pending--;
                    if (!op->err)
                        op->err = -rc;
                }
            } else if (fsync(fds[k]) != 0 && !err) {
                err = errno;
            }
        }
        if (i >= pl->nsegs)
            break;
    }
    if (dirfd >= 0)
        close(dirfd);
    if (op) {
        flush_op_cb(op, 0); /* drop the submission hold */
        return 0;
    }
    flush_finished(pl, upto, err);
    if (done)
        done(ud, err);
    return err ? -err : 0;
}

/* ---- segments: roll and delete ---------------------------------------- */

static int roll(struct partition_log *pl)
{
    struct segment *old = active(pl);
    seg_seal(old);
    char err[256];
    struct segment *s = seg_create(pl->dir, old->next_offset, pl->now_ms, err, sizeof err);
    if (!s) {
        io_error(pl, errno ? errno : EIO, "rolling a new segment of");
        return -EIO;
    }
    if (push_seg(&pl->segs, &pl->nsegs, &pl->segs_cap, s) != 0) {
        seg_close(s, 0);
        return -ENOMEM;
    }
    pl->dir_dirty = 1;
    /* Kafka's roll takes a producer state snapshot at the new base offset,
     * so recovery only replays the active segment.  A failed write is an
     * I/O error of the directory, as Kafka's roll handles takeSnapshot's
     * IOException (the segment itself is in place, so the roll stands). */
    int src = pstate_snapshot_write(pl->ps, pl->dir, s->base_offset, pl->fl);
    if (src && src != -ENOMEM)
        io_error(pl, src, "writing a producer state snapshot of");
    pl->roll_jitter_ms = random_jitter(&pl->cfg);
    /* Kafka flushes a rolled segment right away (asynchronously), which also
     * moves the recovery point past it. */
    if (pl->fl)
        plog_flush(pl, NULL, NULL);
    return 0;
}

/* Remove the n oldest segments (never all: the caller rolls first). */
static void delete_oldest(struct partition_log *pl, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct segment *s = pl->segs[i];
        seg_rename_deleted(s);
        pstate_snapshot_delete(pl->dir, s->base_offset);
        int rrc = seg_rename_deleted(s);
        if (rrc)
            io_error(pl, rrc, "deleting a segment of");
        s->delete_at_ms = pl->now_ms + (pl->cfg.file_delete_delay_ms > 0 ? pl->cfg.file_delete_delay_ms : 0);
        if (push_seg(&pl->grave, &pl->ngrave, &pl->grave_cap, s) != 0) {
            s->delete_at_ms = 0;
            seg_close(s, 1);
        }
    }
    memmove(pl->segs, pl->segs + n, (pl->nsegs - n) * sizeof *pl->segs);
    pl->nsegs -= n;
    pl->dir_dirty = 1;
}

static void set_log_start(struct partition_log *pl, int64_t ls)
{
    if (ls <= pl->log_start)
        return;
    pl->log_start = ls;
    int wrc = write_offset_file(pl, pl->ck_start, ls, 1, pl->fl);
    if (wrc)
        io_error(pl, wrc, "writing the log start offset of");
    if (trim_epochs(pl, active(pl)->next_offset, ls))
        write_epochs(pl, pl->fl);
}

/* Delete the first n segments (n may include the active one: roll first). */
static int delete_segments(struct partition_log *pl, size_t n)
{
    if (n == 0)
        return 0;
    if (n >= pl->nsegs) {
        n = pl->nsegs;
        if (roll(pl) != 0)
            n--;
    }
    delete_oldest(pl, n);
    if (pl->segs[0]->base_offset > pl->log_start)
        set_log_start(pl, pl->segs[0]->base_offset);
    return (int)n;
}

/* How many oldest segments may go (Kafka's deletableSegments): below the
 * high watermark, not an empty active segment, predicate true. */
static size_t deletable(struct partition_log *pl, int (*pred)(struct partition_log *, size_t, void *),
                        void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < pl->nsegs; i++) {
        struct segment *s = pl->segs[i];
        int last = i + 1 == pl->nsegs;
        int64_t upper = last ? s->next_offset : pl->segs[i + 1]->base_offset;
        if (pl->hw < upper || (last && s->size == 0) || !pred(pl, i, arg))
            break;
        n++;
    }
    return n;
}

static int pred_time(struct partition_log *pl, size_t i, void *arg)
{
    (void)arg;
    return pl->now_ms - seg_largest_timestamp(pl->segs[i]) > pl->cfg.retention_ms;
}

static int pred_size(struct partition_log *pl, size_t i, void *arg)
{
    int64_t *diff = (int64_t *)arg;
    if (*diff - (int64_t)pl->segs[i]->size < 0)
        return 0;
    *diff -= (int64_t)pl->segs[i]->size;
    return 1;
}

static int pred_start(struct partition_log *pl, size_t i, void *arg)
{
    (void)arg;
    return i + 1 < pl->nsegs && pl->segs[i + 1]->base_offset <= pl->log_start;
}

int plog_maintain(struct partition_log *pl, int64_t now_ms, bool retention)
{
    pl->now_ms = now_ms;
    int deleted = 0;

    size_t keep = 0;
    for (size_t i = 0; i < pl->ngrave; i++) {
        if (pl->grave[i]->delete_at_ms <= now_ms)
            seg_close(pl->grave[i], 1);
        else
            pl->grave[keep++] = pl->grave[i];
    }
    pl->ngrave = keep;

    /* No roll by segment.ms here: Kafka rolls only when an append arrives
     * (time-based retention deletes an old active segment itself, rolling
     * an empty one first). */
    deleted += delete_segments(pl, deletable(pl, pred_start, NULL));
    /* Kafka's deleteOldSegments: time and size retention only with the
     * delete policy; a compact-only log keeps every segment. */
    if (!(pl->cfg.cleanup_policy & PLOG_CLEANUP_DELETE))
        retention = false;
    if (retention && pl->cfg.retention_ms >= 0)
        deleted += delete_segments(pl, deletable(pl, pred_time, NULL));
    if (retention && pl->cfg.retention_bytes >= 0) {
        int64_t total = 0;
        for (size_t i = 0; i < pl->nsegs; i++)
            total += (int64_t)pl->segs[i]->size;
        int64_t diff = total - pl->cfg.retention_bytes;
        if (diff > 0)
            deleted += delete_segments(pl, deletable(pl, pred_size, &diff));
    }

    if (pl->cfg.flush_interval_ms >= 0 && pl->cfg.flush_interval_ms != INT64_MAX &&
        now_ms - pl->last_flush_ms >= pl->cfg.flush_interval_ms) {
        int dirty = pl->dir_dirty;
        for (size_t i = 0; i < pl->nsegs && !dirty; i++)
            dirty = pl->segs[i]->dirty;
        if (dirty)
            plog_flush(pl, NULL, NULL);
        else
            pl->last_flush_ms = now_ms;
    }
    return deleted;
}

int plog_delete_records(struct partition_log *pl, int64_t offset, int64_t *new_log_start)
{
    if (offset == -1)
        offset = pl->hw;
    if (offset < 0 || offset > pl->hw) {
        if (new_log_start)
            *new_log_start = pl->log_start;
        return KP_ERR_OFFSET_OUT_OF_RANGE;
    }
    set_log_start(pl, offset);
    delete_segments(pl, deletable(pl, pred_start, NULL));
    if (new_log_start)
        *new_log_start = pl->log_start;
    return 0;
}

/* ---- append ----------------------------------------------------------- */

static int append_fail(struct plog_append_result *res, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int append_fail(struct plog_append_result *res, int code, const char *fmt, ...)
{
    res->error = (int16_t)code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->errmsg, sizeof res->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

int plog_append(struct partition_log *pl, uint8_t *records, size_t len, int32_t leader_epoch,
                int64_t now_ms, rb_decompress_fn dec, void *dec_ctx, struct plog_append_result *res)
{
    return plog_append_ex(pl, records, len, leader_epoch, now_ms, dec, dec_ctx, 0, res);
}

int plog_append_txn_marker(struct partition_log *pl, int64_t producer_id, int16_t producer_epoch,
                           int32_t coordinator_epoch, bool commit, int64_t now_ms,
                           int64_t *offset_out)
{
    if (offset_out)
        *offset_out = -1;
    if (producer_id < 0)
        return KP_ERR_INVALID_PRODUCER_ID_MAPPING;
    size_t len;
    uint8_t *batch = txn_marker_build(producer_id, producer_epoch, coordinator_epoch,
                                      commit ? TXN_MARKER_COMMIT : TXN_MARKER_ABORT, now_ms, &len);
    if (!batch)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    int32_t epoch = pl->nepochs ? pl->epochs[pl->nepochs - 1].epoch : 0;
    struct plog_append_result res;
    int rc = plog_append_ex(pl, batch, len, epoch, now_ms, pl->dec, pl->dec_ctx,
                            PLOG_APPEND_ALLOW_CONTROL, &res);
    free(batch);
    if (rc == 0 && offset_out)
        *offset_out = res.base_offset;
    return rc;
}

/* "<topic>-<partition>", as Kafka names the partition in its messages. */
static const char *tp_name(const struct partition_log *pl)
{
    const char *slash = strrchr(pl->dir, '/');
    return slash ? slash + 1 : pl->dir;
}

static void ts_rules_of(const struct plog_config *c, struct ts_rules *r)
{
    r->log_append_time = c->timestamp_type == 1;
    r->before_max_ms = c->message_timestamp_before_max_ms;
    r->after_max_ms = c->message_timestamp_after_max_ms;
}

int plog_timestamp_errors(struct partition_log *pl, const uint8_t *batch, size_t len,
                          int64_t now_ms, rb_decompress_fn dec, void *dec_ctx,
                          void (*fn)(void *ud, int32_t index, const char *msg), void *ud)
{
    struct ts_rules r;
    ts_rules_of(&pl->cfg, &r);
    size_t size = rb_batch_size(batch, len);
    if (size == 0 || size > len)
        return 0;
    int n = ts_check_batch(batch, size, now_ms, &r, dec, dec_ctx, fn, ud);
    return n > 0 ? n : 0;
}

int plog_append_ex(struct partition_log *pl, uint8_t *records, size_t len, int32_t leader_epoch,
                   int64_t now_ms, rb_decompress_fn dec, void *dec_ctx, unsigned flags,
                   struct plog_append_result *res)
{
    memset(res, 0, sizeof *res);
    res->base_offset = res->last_offset = res->log_append_time = -1;
    res->bad_batch_pos = -1;
    res->log_start_offset = pl->log_start;
    pl->now_ms = now_ms;
    const struct plog_config *cfg = &pl->cfg;
    if (len < RB_LOG_OVERHEAD || rb_batch_size(records, len) > len)
        return append_fail(res, KP_ERR_INVALID_RECORD,
                           "produce must have at least one complete record batch");
    if ((int64_t)len > cfg->segment_bytes)
        return append_fail(res, KP_ERR_RECORD_LIST_TOO_LARGE,
                           "Message batch size is %zu bytes in append to partition %s, which "
                           "exceeds the maximum configured segment size of %" PRId64 ".",
                           len, tp_name(pl), cfg->segment_bytes);
    struct ts_rules tsr;
    ts_rules_of(cfg, &tsr);

    /* Pass 1: validate everything; remember what pass 2 needs. */
    unsigned vflags = RB_VALIDATE_PRODUCE;
    if (flags & PLOG_APPEND_ALLOW_CONTROL)
        vflags |= RB_VALIDATE_ALLOW_CONTROL;
    if (cfg->cleanup_policy & PLOG_CLEANUP_COMPACT)
        vflags |= RB_VALIDATE_COUNT_NULL_KEYS;
    int64_t small_ts[8];
    int64_t *max_ts = small_ts;
    size_t nbatches = 0, cap = 8, off = 0;
    int64_t nrecords = 0;
    int rc = 0, any_pid = 0;
    int lat = cfg->timestamp_type == 1;
    while (off < len) {
        struct rb_info info;
        rc = rb_validate(records + off, len - off, vflags, dec, dec_ctx, &info, res->errmsg,
                         sizeof res->errmsg);
        if (rc == KP_ERR_INVALID_RECORD && strstr(res->errmsg, "write control records"))
            /* LogValidator's text (Produce v8+ ErrorMessage). */
            snprintf(res->errmsg, sizeof res->errmsg,
                     "Clients are not allowed to write control records in topic partition %s",
                     tp_name(pl));
        if (rc)
            break;
        if (info.null_keys > 0 && !(info.h.attributes & RB_ATTR_CONTROL)) {
            /* Kafka's LogValidator.validateKey: the caller lists the records. */
            res->null_key_records = info.null_keys;
            rc = append_fail(res, KP_ERR_INVALID_RECORD,
                             "Compacted topic cannot accept message without key");
            break;
        }
        if ((int64_t)info.size > cfg->max_message_bytes) {
            rc = append_fail(res, KP_ERR_MESSAGE_TOO_LARGE,
                             "The record batch size in the append to %s is %zu bytes which "
                             "exceeds the maximum configured value of %" PRId64 ".",
                             tp_name(pl), info.size, cfg->max_message_bytes);
            break;
        }
        if (!(flags & PLOG_APPEND_ALLOW_CONTROL) && ts_batch_suspect(&info, now_ms, &tsr) &&
            ts_check_batch(records + off, info.size, now_ms, &tsr, dec, dec_ctx, NULL, NULL) != 0) {
            /* Kafka's RecordValidationException text; the per-record
             * detail comes from plog_timestamp_errors. */
            rc = append_fail(res, KP_ERR_INVALID_TIMESTAMP,
                             "One or more records have been rejected due to invalid timestamp");
            res->bad_batch_pos = (ssize_t)off;
            break;
        }
        if (nbatches == cap) {
            int64_t *n = (int64_t *)malloc(cap * 2 * sizeof *n);
            if (!n) {
                rc = append_fail(res, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
                break;
            }
            memcpy(n, max_ts, nbatches * sizeof *n);
            if (max_ts != small_ts)
                free(max_ts);
            max_ts = n;
            cap *= 2;
        }
        max_ts[nbatches++] = lat ? now_ms : info.max_record_timestamp;
        any_pid |= info.h.producer_id >= 0;
        nrecords += info.records;
        off += info.size;
    }
    /* Idempotent producers: duplicates, sequence and epoch checks against
     * the producer state, still before anything is written. */
    struct pstate_txn ptx;
    pstate_txn_init(&ptx);
    if (!rc && any_pid) {
        struct pstate_batch dup;
        rc = pstate_check_append(pl->ps, &ptx, records, len, active(pl)->next_offset, max_ts,
                                 !(flags & PLOG_APPEND_ALLOW_CONTROL), &dup, res->errmsg,
                                 sizeof res->errmsg);
        if (rc == PSTATE_DUPLICATE) {
            /* A retry: answer with the stored batch (Kafka sets its max
             * timestamp as the log append time); wait for a flush if the
             * original may not be durable yet. */
            if (max_ts != small_ts)
                free(max_ts);
            res->base_offset = pstate_batch_first_offset(&dup);
            res->last_offset = dup.last_offset;
            res->log_append_time = dup.timestamp;
            res->duplicate = 1;
            res->need_flush = cfg->flush_interval_messages != INT64_MAX &&
                              dup.last_offset >= pl->recovery_point;
            return 0;
        }
    }
    if (rc) {
        res->error = (int16_t)rc;
        pstate_txn_free(&ptx);
        if (max_ts != small_ts)
            free(max_ts);
        return rc;
    }

    /* Pass 2: assign offsets, epoch and timestamps in place. */
    int64_t leo = active(pl)->next_offset, next = leo, append_max_ts = -1;
    off = 0;
    for (size_t i = 0; i < nbatches; i++) {
        uint8_t *b = records + off;
        size_t size = rb_batch_size(b, len - off);
        rb_set_base_offset(b, next);
        rb_set_partition_leader_epoch(b, leader_epoch);
        int64_t ts = max_ts[i];
        rb_set_max_timestamp(b, size, ts, lat);
        if (ts > append_max_ts)
            append_max_ts = ts;
        next += (int64_t)rb_get_i32(b + RB_OFF_LAST_OFFSET_DELTA) + 1;
        off += size;
    }
    if (max_ts != small_ts)
        free(max_ts);

    /* Roll first if this append does not fit the active segment. */
    struct segment *a = active(pl);
    if (a->size > 0) {
        int64_t waited = a->first_batch_ts >= 0 ? append_max_ts - a->first_batch_ts
                                                : now_ms - a->created_ms;
        if (a->size + len > (uint64_t)cfg->segment_bytes || a->size + len > UINT32_MAX ||
            waited > cfg->segment_ms - pl->roll_jitter_ms ||
            seg_index_full(a, cfg->segment_index_bytes) ||
            next - 1 - a->base_offset > INT32_MAX) {
            if (roll(pl) != 0) {
                pstate_txn_free(&ptx);
                return append_fail(res, KP_ERR_KAFKA_STORAGE_ERROR, "cannot roll segment");
            }
            a = active(pl);
        }
    }
    int wrc = seg_append(a, records, len, cfg->index_interval_bytes);
    if (wrc) {
        pstate_txn_free(&ptx);
        io_error(pl, wrc, "appending records to");
        return append_fail(res, KP_ERR_KAFKA_STORAGE_ERROR, "write: %s", strerror(-wrc));
    }
    pl->hw = a->next_offset;
    pstate_commit(pl->ps, &ptx, a->next_offset);
    /* Markers: aborted transactions go to the index with the LSO that
     * follows them (UnifiedLog.append's completedTxns loop). */
    for (size_t i = 0; i < ptx.ndone; i++)
        index_aborted(pl, &ptx.done[i],
                      pstate_completed_lso(pl->ps, &ptx.done[i], ptx.done + i + 1,
                                           ptx.ndone - i - 1));
    pstate_txn_free(&ptx);
    /* The top of the producer state's heap of ongoing transactions:
     * amortised O(1) when nothing ended, O(log n) per ended one. */
    if (any_pid)
        pl->first_unstable = pstate_first_unstable(pl->ps, -1);

    if (leader_epoch >= 0 &&
        (pl->nepochs == 0 || leader_epoch > pl->epochs[pl->nepochs - 1].epoch)) {
        add_epoch(pl, leader_epoch, leo);
        write_epochs(pl, pl->fl);
    }

    pl->unflushed_msgs += nrecords;
    res->need_flush = pl->unflushed_msgs >= cfg->flush_interval_messages;
    res->base_offset = leo;
    res->last_offset = next - 1;
    res->log_append_time = lat ? now_ms : -1;
    res->log_start_offset = pl->log_start;
    return 0;
}

/* ---- read ------------------------------------------------------------- */

int plog_read(struct partition_log *pl, int64_t fetch_offset, size_t max_bytes,
              int64_t max_offset_exclusive, struct plog_read_result *out)
{
    memset(out, 0, sizeof *out);
    out->high_watermark = pl->hw;
    out->log_start_offset = pl->log_start;
    out->last_stable_offset = plog_last_stable_offset(pl);
    int64_t leo = active(pl)->next_offset;
    if (fetch_offset < pl->log_start || fetch_offset > leo) {
        out->error = KP_ERR_OFFSET_OUT_OF_RANGE;
        return out->error;
    }
    int64_t limit = max_offset_exclusive < 0 || max_offset_exclusive > leo ? leo : max_offset_exclusive;
    if (fetch_offset >= limit)
        return 0;

    int first = 1, stop = 0;
    for (size_t i = seg_for(pl, fetch_offset); i < pl->nsegs && !stop; i++) {
        struct segment *s = pl->segs[i];
        if (s->base_offset >= limit)
            break;
        if (out->nspans == PLOG_MAX_SPANS)
            break;
        struct seg_batch b;
        int rc = first ? seg_find_batch(s, fetch_offset, &b) : seg_batch_at(s, 0, &b);
        if (rc < 0) {
            io_error(pl, rc, "reading from");
            out->error = KP_ERR_KAFKA_STORAGE_ERROR;
            return out->error;
        }
        if (rc == 0)
            continue;
        uint64_t span_start = b.pos, span_end = b.pos;
        while (rc == 1) {
            if (b.base_offset >= limit) {
                stop = 1;
                break;
            }
            if (!first && out->bytes + b.size > max_bytes) {
                stop = 1;
                break;
            }
            first = 0;
            span_end = b.pos + b.size;
            out->bytes += b.size;
            if (out->bytes < max_bytes) {
                /* Skip over batches the index proves fit (offset below the
                 * limit, position within the byte budget). */
                uint64_t jump = seg_index_floor_pos(s, limit, span_end,
                                                    span_end + (max_bytes - out->bytes));
                out->bytes += jump - span_end;
                span_end = jump;
            }
            rc = seg_batch_at(s, span_end, &b);
        }
        if (rc < 0) {
            io_error(pl, rc, "reading from");
            out->error = KP_ERR_KAFKA_STORAGE_ERROR;
            return out->error;
        }
        if (span_end > span_start) {
            /* The offset after the last batch taken: the next batch's
             * base, or the segment's end. */
            out->next_offset = rc == 1 ? b.base_offset : s->next_offset;
            out->spans[out->nspans].fd = s->log_fd;
            out->spans[out->nspans].off = (off_t)span_start;
            out->spans[out->nspans].len = span_end - span_start;
            out->nspans++;
        }
    }
    return 0;
}

/* ---- aborted transactions ------------------------------------------- */

int plog_aborted_txns(const struct partition_log *pl, int64_t fetch_offset,
                      const struct plog_read_result *rr, struct txn_aborted **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (rr->nspans == 0)
        return 0;
    return plog_collect_aborted(pl, fetch_offset, rr->next_offset, out, n);
}

int plog_collect_aborted(const struct partition_log *pl, int64_t start, int64_t upper,
                         struct txn_aborted **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = seg_for(pl, start); i < pl->nsegs; i++) {
        const struct segment *s = pl->segs[i];
        int rc = txn_index_collect(s->txn, s->ntxn, start, upper, out, n, &cap);
        if (rc < 0) {
            free(*out);
            *out = NULL;
            *n = 0;
            return -ENOMEM;
        }
        if (rc == 1)
            break;
    }
    return 0;
}

const struct txn_aborted *plog_segment_aborted(const struct partition_log *pl, int i, size_t *n)
{
    *n = pl->segs[i]->ntxn;
    return pl->segs[i]->txn;
}

/* ---- timestamps ------------------------------------------------------- */

static uint8_t *read_batch(const struct segment *s, const struct seg_batch *b)
{
    uint8_t *buf = (uint8_t *)malloc(b->size);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < b->size) {
        ssize_t n = pread(s->log_fd, buf + got, b->size - got, (off_t)(b->pos + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    return buf;
}

/* First record of batch b with timestamp >= ts (or == ts when exact) and
 * offset >= min_offset.  Returns 1 if found.  Without a decompressor for a
 * compressed batch, the batch's first usable offset and maxTimestamp stand
 * in for the record (close enough for a consumer seek). */
static int find_in_batch(struct partition_log *pl, const struct segment *s,
                         const struct seg_batch *b, int64_t ts, int exact, int64_t min_offset,
                         int64_t *offset, int64_t *timestamp)
{
    uint8_t *buf = read_batch(s, b);
    if (!buf)
        return -1;
    struct rb_iter it;
    int found = 0;
    if (rb_iter_init(&it, buf, b->size, pl->dec, pl->dec_ctx) == 0) {
        struct rb_record r;
        while (rb_iter_next(&it, &r) == 1) {
            if (r.offset >= min_offset && (exact ? r.timestamp == ts : r.timestamp >= ts)) {
                *offset = r.offset;
                *timestamp = r.timestamp;
                found = 1;
                break;
            }
        }
    }
    if (!found && it.err == KP_ERR_UNSUPPORTED_COMPRESSION_TYPE) {
        *offset = b->base_offset > min_offset ? b->base_offset : min_offset;
        *timestamp = b->max_timestamp;
        found = 1;
    }
    rb_iter_free(&it);
    free(buf);
    return found;
}

int plog_offset_for_timestamp(struct partition_log *pl, int64_t ts, int64_t *offset,
                              int64_t *timestamp)
{
    *offset = *timestamp = -1;
    for (size_t i = seg_for(pl, pl->log_start); i < pl->nsegs; i++) {
        struct segment *s = pl->segs[i];
        if (s->max_ts < ts)
            continue;
        int64_t from = seg_time_lookup(s, ts);
        if (from < pl->log_start)
            from = pl->log_start;
        struct seg_batch b;
        int rc = seg_find_batch(s, from, &b);
        while (rc == 1) {
            if (b.max_timestamp >= ts) {
                int f = find_in_batch(pl, s, &b, ts, 0, pl->log_start, offset, timestamp);
                if (f < 0)
                    return KP_ERR_KAFKA_STORAGE_ERROR;
                if (f)
                    return 0;
            }
            rc = seg_batch_at(s, b.pos + b.size, &b);
        }
        if (rc < 0) {
            io_error(pl, rc, "reading from");
            return KP_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    return 0;
}

int plog_max_timestamp(struct partition_log *pl, int64_t *offset, int64_t *timestamp)
{
    *offset = *timestamp = -1;
    struct segment *best = NULL;
    for (size_t i = seg_for(pl, pl->log_start); i < pl->nsegs; i++)
        if (pl->segs[i]->max_ts >= 0 && (!best || pl->segs[i]->max_ts > best->max_ts))
            best = pl->segs[i];
    if (!best)
        return 0;
    struct seg_batch b;
    int rc = seg_find_batch(best, best->offset_of_max_ts, &b);
    if (rc < 0)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    if (rc == 0)
        return 0;
    int f = find_in_batch(pl, best, &b, best->max_ts, 1, pl->log_start, offset, timestamp);
    if (f < 0)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    if (!f) {
        *offset = b.last_offset;
        *timestamp = best->max_ts;
    }
    return 0;
}

/* ---- log cleaner interface ------------------------------------------- */

const char *plog_dir(const struct partition_log *pl) { return pl->dir; }
const struct plog_config *plog_get_config(const struct partition_log *pl) { return &pl->cfg; }

void plog_segment_info(const struct partition_log *pl, int i, struct plog_segment_info *out)
{
    const struct segment *s = pl->segs[i];
    out->base_offset = s->base_offset;
    out->next_offset = s->next_offset;
    out->size = s->size;
    out->largest_timestamp = seg_largest_timestamp(s);
    out->first_batch_timestamp = s->first_batch_ts;
    out->last_modified_ms = seg_mtime(s);
    out->index_bytes = (uint64_t)s->nidx * SEG_INDEX_ENTRY_SIZE;
    out->timeindex_bytes = (uint64_t)s->ntidx * SEG_TIMEINDEX_ENTRY_SIZE;
    out->log_fd = s->log_fd;
}

struct swap_steps {
    plog_swap_step_fn fn;
    void *ud;
    int n;
};

static void swap_step(void *ud)
{
    struct swap_steps *st = (struct swap_steps *)ud;
    st->n++;
    if (st->fn)
        st->fn(st->ud, st->n);
}

int plog_replace_segments(struct partition_log *pl, struct segment *cleaned,
                          const int64_t *old_bases, size_t n, plog_swap_step_fn step, void *ud)
{
    size_t i0 = 0;
    while (i0 < pl->nsegs && pl->segs[i0]->base_offset != old_bases[0])
        i0++;
    /* Exactly those segments, all closed: anything else means retention or
     * DeleteRecords removed some since the job started. */
    if (n == 0 || i0 + n >= pl->nsegs || cleaned->base_offset != old_bases[0])
        return -ESTALE;
    for (size_t k = 0; k < n; k++)
        if (pl->segs[i0 + k]->base_offset != old_bases[k])
            return -ESTALE;

    struct swap_steps st = { step, ud, 0 };
    int rc = seg_change_suffix(cleaned, ".swap", swap_step, &st);
    if (rc) {
        /* Nothing replaced yet: the cleaned files go, the old segments stay. */
        seg_change_suffix(cleaned, ".cleaned", NULL, NULL);
        seg_discard(cleaned);
        io_error(pl, rc, "swapping cleaned segments into");
        return rc;
    }
    int64_t delay = pl->cfg.file_delete_delay_ms > 0 ? pl->cfg.file_delete_delay_ms : 0;
    for (size_t k = 0; k < n; k++) {
        struct segment *old = pl->segs[i0 + k];
        int r = seg_rename_deleted_steps(old, swap_step, &st);
        if (r && !rc)
            rc = r;
        old->delete_at_ms = pl->now_ms + delay;
        if (push_seg(&pl->grave, &pl->ngrave, &pl->grave_cap, old) != 0) {
            old->delete_at_ms = 0;
            seg_close(old, 1);
        }
    }
    int r = seg_change_suffix(cleaned, "", swap_step, &st);
    if (r && !rc)
        rc = r;
    if (rc)
        io_error(pl, rc, "swapping cleaned segments into");
    pl->segs[i0] = cleaned;
    if (n > 1) {
        memmove(pl->segs + i0 + 1, pl->segs + i0 + n, (pl->nsegs - i0 - n) * sizeof *pl->segs);
        pl->nsegs -= n - 1;
    }
    cleaned->dirty = 0; /* fsynced by the cleaner */
    /* The renames reach the disk with the directory's fsync (flusher). */
    if (pl->fl) {
        int dfd = open(pl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            flusher_submit(pl->fl, dfd, NULL, NULL);
            close(dfd);
        }
    } else {
        ckpt_fsync_dir(pl->dir);
    }
    return rc;
}

/* ---- close / delete --------------------------------------------------- */

void plog_abandon(struct partition_log *pl)
{
    if (!pl)
        return;
    pl->closed = 1; /* in-flight flush completions then leave it alone */
    close_all(pl);
    pl_unref(pl);
}

bool plog_busy(const struct partition_log *pl)
{
    return pl->refs > 1 || ckpt_busy(pl->ck_epoch) || ckpt_busy(pl->ck_start) ||
           ckpt_busy(pl->ck_recovery);
}

void plog_close(struct partition_log *pl)
{
    if (!pl)
        return;
    seg_seal(active(pl));
    int err = 0;
    for (size_t i = 0; i < pl->nsegs; i++) {
        struct segment *s = pl->segs[i];
        if (!s->dirty)
            continue;
        if (fsync(s->log_fd) || fsync(s->idx_fd) || fsync(s->tidx_fd) ||
            (s->txn_fd >= 0 && fsync(s->txn_fd)))
            err = errno;
        s->dirty = 0;
    }
    int64_t leo = active(pl)->next_offset;
    write_offset_file(pl, pl->ck_recovery, leo, 1, NULL);
    write_offset_file(pl, pl->ck_start, pl->log_start, 1, NULL);
    write_epochs(pl, NULL);
    /* Kafka snapshots producer state at the log end on close, so a clean
     * restart needs no replay; without it the marker must not be written. */
    if (pstate_snapshot_write(pl->ps, pl->dir, leo, NULL) != 0 && !err)
        err = EIO;
    if (!err) {
        char marker[4096];
        snprintf(marker, sizeof marker, "%s/%s", pl->dir, CLEAN_MARKER);
        int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    ckpt_fsync_dir(pl->dir);
    close_all(pl);
    pl->closed = 1;
    pl_unref(pl);
}

static int remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0 && !rc)
            rc = -errno;
    }
    closedir(d);
    if (rmdir(dir) != 0 && !rc)
        rc = -errno;
    return rc;
}

int plog_delete(struct partition_log *pl)
{
    uint8_t u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u)
        for (size_t i = 0; i < sizeof u; i++)
            u[i] = (uint8_t)(rand() ^ (uintptr_t)pl >> (i % 8));
    size_t n = strlen(pl->dir) + 64;
    char *dst = (char *)malloc(n);
    int rc = -ENOMEM;
    if (dst) {
        int k = snprintf(dst, n, "%s.", pl->dir);
        for (size_t i = 0; i < sizeof u; i++)
            k += snprintf(dst + k, n - (size_t)k, "%02x", u[i]);
        snprintf(dst + k, n - (size_t)k, "-delete");
    }
    close_all(pl);
    pl->closed = 1;
    if (dst) {
        rc = rename(pl->dir, dst) == 0 ? 0 : -errno;
        rc = remove_tree(rc == 0 ? dst : pl->dir);
        free(dst);
    }
    pl_unref(pl);
    return rc;
}
