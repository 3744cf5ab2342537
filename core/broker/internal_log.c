#include "broker/internal_log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "plugin/module_loader.h"
#include "storage/batch_builder.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"

struct flush_wait {
    internal_write_done done;
    void *ud;
};

static void flushed(void *ud, int err)
{
    struct flush_wait *fw = ud;
    fw->done(fw->ud, err ? KP_ERR_KAFKA_STORAGE_ERROR : KP_ERR_NONE);
    free(fw);
}

int16_t internal_log_append(struct broker *b, struct partition_log *pl, const char *area,
                            const char *where, const struct internal_record *recs, size_t n,
                            int64_t producer_id, int16_t producer_epoch,
                            internal_write_done done, void *ud)
{
    int64_t now = broker_now_ms(b);
    struct batch_builder bb;
    batch_builder_init(&bb);
    for (size_t i = 0; i < n; i++)
        batch_builder_add(&bb, now, recs[i].key, recs[i].klen, recs[i].value,
                          recs[i].value ? recs[i].vlen : -1);
    size_t len;
    bool txn = producer_id >= 0;
    uint8_t *batch = batch_builder_finish(&bb, txn ? RB_ATTR_TRANSACTIONAL : 0, producer_id,
                                          txn ? producer_epoch : -1, &len);
    if (!batch)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    struct plog_append_result res;
    memset(&res, 0, sizeof res);
    plog_append_ex(pl, batch, len, 0, now, module_registry_decompress, b->modules,
                   txn ? PLOG_APPEND_ALLOW_CONTROL : 0, &res);
    free(batch);
    if (res.error) {
        slog(b->log, SLOG_WARN, area, "%s: append refused: %s (%s)", where,
             kp_error_name(res.error), res.errmsg);
        return res.error;
    }
    broker_fetch_wake(b);
    if (!res.need_flush) {
        done(ud, KP_ERR_NONE);
        return KP_ERR_NONE;
    }
    struct flush_wait *fw = malloc(sizeof *fw);
    if (!fw)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    fw->done = done;
    fw->ud = ud;
    if (plog_flush(pl, flushed, fw) < 0) {
        free(fw);
        return KP_ERR_KAFKA_STORAGE_ERROR;
    }
    return KP_ERR_NONE;
}

int internal_log_replay(struct broker *b, struct partition_log *pl, const char *area,
                        const char *where, internal_batch_fn fn, void *ud)
{
    int64_t offset = plog_log_start_offset(pl), end = plog_high_watermark(pl);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (offset < end && rc == 0) {
        struct plog_read_result rr;
        memset(&rr, 0, sizeof rr);
        plog_read(pl, offset, 1 << 20, end, &rr);
        if (rr.error || rr.bytes == 0) {
            slog(b->log, SLOG_ERROR, area, "%s: read at offset %lld failed (%s)", where,
                 (long long)offset, kp_error_name(rr.error));
            rc = -1;
            break;
        }
        if (rr.bytes > cap) {
            uint8_t *nb = realloc(buf, rr.bytes);
            if (!nb) {
                rc = -1;
                break;
            }
            buf = nb;
            cap = rr.bytes;
        }
        size_t got = 0;
        for (int i = 0; i < rr.nspans && rc == 0; i++) {
            ssize_t n = pread(rr.spans[i].fd, buf + got, rr.spans[i].len, rr.spans[i].off);
            if (n != (ssize_t)rr.spans[i].len)
                rc = -1;
            else
                got += (size_t)n;
        }
        int64_t before = offset;
        for (size_t pos = 0; pos < got && rc == 0;) {
            size_t sz = rb_batch_size(buf + pos, got - pos);
            if (sz == 0 || sz > got - pos)
                break;
            int64_t next = offset;
            if (fn(ud, buf + pos, sz, offset, &next) < 0) {
                slog(b->log, SLOG_ERROR, area, "%s: cannot load the batch at offset %lld",
                     where, (long long)offset);
                rc = -1;
            }
            if (next > offset)
                offset = next;
            pos += sz;
        }
        if (rc == 0 && offset == before) {
            rc = -1;
            slog(b->log, SLOG_ERROR, area, "%s: no progress at offset %lld", where,
                 (long long)offset);
        }
    }
    free(buf);
    return rc;
}
