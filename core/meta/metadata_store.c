#include "meta/metadata_store.h"
#include "meta/metadata_record.h"
#include "meta/module_record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/kafka_schema.h"
#include "proto/kp_codec.h"
#include "storage/batch_builder.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "util/arena.h"
#include "util/logger.h"

struct meta_store {
    struct meta_image image;
    struct partition_log *log;
    struct sluice_logger *lg;
    char cluster_id[23];
};

struct meta_image *meta_store_image(struct meta_store *ms)
{
    return &ms->image;
}

const char *meta_store_cluster_id(const struct meta_store *ms)
{
    return ms->cluster_id;
}

static int replay(struct meta_store *ms, char *err, size_t errlen)
{
    int64_t offset = plog_log_start_offset(ms->log), end = plog_log_end_offset(ms->log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    while (offset < end) {
        struct plog_read_result rr;
        memset(&rr, 0, sizeof rr);
        plog_read(ms->log, offset, 1 << 20, end, &rr);
        if (rr.error || rr.bytes == 0) {
            snprintf(err, errlen, "metadata log: read at offset %lld failed (error %d)",
                     (long long)offset, rr.error);
            free(buf);
            return -1;
        }
        if (rr.bytes > cap) {
            uint8_t *nb = realloc(buf, rr.bytes);
            if (!nb) {
                free(buf);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            buf = nb;
            cap = rr.bytes;
        }
        size_t got = 0;
        for (int i = 0; i < rr.nspans; i++) {
            ssize_t n = pread(rr.spans[i].fd, buf + got, rr.spans[i].len, rr.spans[i].off);
            if (n != (ssize_t)rr.spans[i].len) {
                snprintf(err, errlen, "metadata log: short read: %s", strerror(errno));
                free(buf);
                return -1;
            }
            got += (size_t)n;
        }
        for (size_t pos = 0; pos < got;) {
            size_t sz = rb_batch_size(buf + pos, got - pos);
            if (sz == 0 || sz > got - pos)
                break;
            struct rb_iter it;
            struct rb_record rec;
            if (rb_iter_init(&it, buf + pos, sz, NULL, NULL) != 0) {
                snprintf(err, errlen, "metadata log: bad batch at offset %lld", (long long)offset);
                free(buf);
                return -1;
            }
            while (rb_iter_next(&it, &rec)) {
                if (rec.offset < offset)
                    continue;
                if (meta_record_apply_value(&ms->image, rec.value, rec.value_len, rec.offset, err, errlen) < 0) {
                    rb_iter_free(&it);
                    free(buf);
                    return -1;
                }
                offset = rec.offset + 1;
            }
            rb_iter_free(&it);
            pos += sz;
        }
    }
    free(buf);
    return 0;
}

/* meta.properties holds the cluster id, created once, as Kafka's does. */
static int load_cluster_id(struct meta_store *ms, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/meta.properties", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "cluster.id=", 11) == 0) {
                size_t n = strcspn(line + 11, "\r\n");
                if (n > 0 && n < sizeof ms->cluster_id) {
                    memcpy(ms->cluster_id, line + 11, n);
                    ms->cluster_id[n] = '\0';
                }
            }
        }
        fclose(f);
        if (ms->cluster_id[0])
            return 0;
        snprintf(err, errlen, "%s: no cluster.id", path);
        return -1;
    }
    struct meta_uuid u;
    meta_uuid_random(&u);
    meta_uuid_to_base64(&u, ms->cluster_id);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    char body[128];
    int n = snprintf(body, sizeof body, "version=1\ncluster.id=%s\n", ms->cluster_id);
    /* Start-up, before the loop runs: a synchronous fsync is fine here. */
    if (write(fd, body, (size_t)n) != n || fsync(fd) < 0 || close(fd) < 0 ||
        rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int meta_store_open(struct meta_store **out, const char *dir, struct flusher *fl,
                    struct sluice_logger *log, int64_t now_ms, char *err, size_t errlen)
{
    struct meta_store *ms = calloc(1, sizeof *ms);
    if (!ms) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    meta_image_init(&ms->image);
    ms->lg = log;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "metadata.log.dir %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (load_cluster_id(ms, dir, err, errlen) < 0)
        goto fail;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/__cluster_metadata-0", dir);
    struct plog_config pc;
    plog_config_default(&pc);
    pc.segment_bytes = 64 << 20;
    pc.segment_ms = INT64_MAX;
    pc.segment_index_bytes = 1 << 20;
    pc.index_interval_bytes = 4096;
    pc.retention_ms = -1;
    pc.retention_bytes = -1;
    pc.flush_interval_messages = INT64_MAX;
    pc.flush_interval_ms = INT64_MAX;
    pc.max_message_bytes = 8 << 20;
    pc.file_delete_delay_ms = 0;
    ms->log = plog_open(path, &pc, fl, now_ms, err, errlen);
    if (!ms->log)
        goto fail;
    if (replay(ms, err, errlen) < 0)
        goto fail;
    slog(log, SLOG_INFO, "metadata", "loaded %zu topics from %s (%lld records, cluster id %s)",
         meta_image_topic_count(&ms->image), path, (long long)plog_log_end_offset(ms->log),
         ms->cluster_id);
    *out = ms;
    return 0;
fail:
    meta_store_close(ms);
    return -1;
}

int meta_store_append(struct meta_store *ms, const struct meta_record *recs, size_t n,
                      int64_t now_ms, char *err, size_t errlen)
{
    struct batch_builder bb;
    batch_builder_init(&bb);
    for (size_t i = 0; i < n; i++) {
        const struct kp_message *m = kp_metadata_record(recs[i].type);
        struct wire_writer w;
        wire_writer_init(&w);
        wire_write_uvarint(&w, META_FRAME_VERSION);
        wire_write_uvarint(&w, (uint32_t)recs[i].type);
        wire_write_uvarint(&w, (uint32_t)recs[i].version);
        int enc = recs[i].type == META_REC_SLUICE_MODULE_RECORD
                      ? module_record_encode(&w, recs[i].version, recs[i].msg)
                      : m ? kp_encode(m, recs[i].version, recs[i].msg, &w) : -1;
        if (enc < 0 || w.err) {
            snprintf(err, errlen, "cannot encode metadata record type %d", recs[i].type);
            wire_writer_free(&w);
            batch_builder_free(&bb);
            return -1;
        }
        batch_builder_add(&bb, now_ms, NULL, -1, w.buf, (int32_t)w.len);
        wire_writer_free(&w);
    }
    size_t len;
    uint8_t *batch = batch_builder_finish(&bb, 0, -1, -1, &len);
    if (!batch) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Callers validate before appending; a record that still fails to
     * apply below is a bug, reported loudly. */
    struct plog_append_result res;
    memset(&res, 0, sizeof res);
    plog_append(ms->log, batch, len, 0, now_ms, NULL, NULL, &res);
    free(batch);
    if (res.error) {
        snprintf(err, errlen, "metadata log append failed: %s %s", kp_error_name(res.error),
                 res.errmsg);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (meta_record_apply(&ms->image, recs[i].type, recs[i].msg) < 0) {
            slog(ms->lg, SLOG_ERROR, "metadata", "record %zu (type %d) did not apply", i,
                 recs[i].type);
        }
    }
    return 0;
}

void meta_store_set_io_error_cb(struct meta_store *ms,
                                void (*fn)(void *ud, struct partition_log *pl, int err,
                                           const char *what),
                                void *ud)
{
    plog_set_io_error_cb(ms->log, fn, ud);
}

int meta_store_sync(struct meta_store *ms, void (*cb)(void *ud, int err), void *ud)
{
    return plog_flush(ms->log, cb, ud);
}

void meta_store_close(struct meta_store *ms)
{
    if (!ms)
        return;
    if (ms->log)
        plog_close(ms->log);
    meta_image_free(&ms->image);
    free(ms);
}
