/* SluiceModuleRecord (metadata record type 10000): exact bytes, bounds-checked
 * decoding of every truncation, the image map, and persistence through the
 * metadata store (append, fsync callback, replay after reopen). */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/metadata_store.h"
#include "meta/module_record.h"
#include "storage/flusher.h"
#include "tap.h"
#include "util/logger.h"

static int encode(const struct meta_module_record *rec, struct wire_writer *w)
{
    wire_writer_init(w);
    return module_record_encode(w, MODULE_RECORD_VERSION, rec);
}

struct walk {
    char seen[512];
    struct meta_image *img;
    int delete_next;
};

static int walk_cb(void *ud, const char *key, const uint8_t *value, size_t len)
{
    struct walk *w = ud;
    size_t n = strlen(w->seen);
    snprintf(w->seen + n, sizeof w->seen - n, "%s=%.*s;", key, (int)len, (const char *)value);
    if (w->delete_next) {
        /* Deleting from inside the walk: the next key must be skipped. */
        struct meta_module_record del = {"mod_a", "user/carol", NULL, -1};
        meta_image_apply_module_record(w->img, &del);
        w->delete_next = 0;
    }
    return 0;
}

static int stop_cb(void *ud, const char *key, const uint8_t *value, size_t len)
{
    (*(int *)ud)++;
    return 42;
}

static void on_synced(void *ud, int err)
{
    int *st = ud;
    *st = err ? -1 : 1;
}

int main(void)
{
    /* ---- encoding: exact bytes ---------------------------------------- */
    struct meta_module_record rec = {"svc", "k1", (const uint8_t *)"abc", 3};
    struct wire_writer w;
    is_int(encode(&rec, &w), 0, "encode");
    const uint8_t want[] = {4, 's', 'v', 'c', 3, 'k', '1', 4, 'a', 'b', 'c', 0};
    is_int(w.len, sizeof want, "encoded length");
    is_mem(w.buf, want, sizeof want, "compact strings, compact bytes, empty tagged fields");

    struct kp_arena a;
    kp_arena_init(&a);
    struct meta_module_record out;
    struct wire_reader r;
    wire_reader_init(&r, w.buf, w.len);
    is_int(module_record_decode(&r, 0, &a, &out), 0, "decode");
    is_str(out.module, "svc", "module");
    is_str(out.key, "k1", "key");
    ok(out.value_len == 3 && memcmp(out.value, "abc", 3) == 0, "value");
    int truncs_rejected = 1;
    for (size_t n = 0; n < w.len; n++) {
        wire_reader_init(&r, w.buf, n);
        if (module_record_decode(&r, 0, &a, &out) == 0)
            truncs_rejected = 0;
    }
    ok(truncs_rejected, "every truncation is rejected");
    uint8_t trailing[sizeof want + 1];
    memcpy(trailing, want, sizeof want);
    trailing[sizeof want] = 0;
    wire_reader_init(&r, trailing, sizeof trailing);
    is_int(module_record_decode(&r, 0, &a, &out), -1, "trailing bytes rejected");
    wire_reader_init(&r, w.buf, w.len);
    is_int(module_record_decode(&r, 1, &a, &out), -1, "unknown version rejected");
    wire_writer_free(&w);

    /* Delete: null value. */
    struct meta_module_record del = {"svc", "k1", NULL, -1};
    is_int(encode(&del, &w), 0, "encode delete");
    const uint8_t want_del[] = {4, 's', 'v', 'c', 3, 'k', '1', 0, 0};
    ok(w.len == sizeof want_del && memcmp(w.buf, want_del, w.len) == 0, "null value encoded as 0");
    wire_reader_init(&r, w.buf, w.len);
    ok(module_record_decode(&r, 0, &a, &out) == 0 && out.value_len == -1 && !out.value,
       "decoded as a delete");
    wire_writer_free(&w);

    /* Tagged fields from a future writer are skipped. */
    const uint8_t tagged[] = {4, 's', 'v', 'c', 3, 'k', '1', 1, 1, 5, 2, 'x', 'y'};
    wire_reader_init(&r, tagged, sizeof tagged);
    ok(module_record_decode(&r, 0, &a, &out) == 0 && out.value_len == 0, "unknown tag skipped");

    /* Hostile bodies. */
    const uint8_t bad_module[] = {4, 'S', 'v', 'c', 3, 'k', '1', 1, 0};
    wire_reader_init(&r, bad_module, sizeof bad_module);
    is_int(module_record_decode(&r, 0, &a, &out), -1, "upper-case module name rejected");
    const uint8_t nul_key[] = {4, 's', 'v', 'c', 3, 'k', 0, 1, 0};
    wire_reader_init(&r, nul_key, sizeof nul_key);
    is_int(module_record_decode(&r, 0, &a, &out), -1, "NUL inside the key rejected");
    const uint8_t empty_key[] = {4, 's', 'v', 'c', 1, 1, 0};
    wire_reader_init(&r, empty_key, sizeof empty_key);
    is_int(module_record_decode(&r, 0, &a, &out), -1, "empty key rejected");
    const uint8_t huge[] = {4, 's', 'v', 'c', 3, 'k', '1', 0xff, 0xff, 0xff, 0xff, 0x0f};
    wire_reader_init(&r, huge, sizeof huge);
    is_int(module_record_decode(&r, 0, &a, &out), -1, "4 GiB length rejected without reading");
    kp_arena_free(&a);

    char err[256];
    uint8_t *big = calloc(1, MODULE_RECORD_MAX_VALUE + 1);
    struct meta_module_record toobig = {"svc", "k", big, MODULE_RECORD_MAX_VALUE + 1};
    is_int(module_record_check(&toobig, err, sizeof err), -1, "value over the limit refused");
    is_str(err, "record value must be 0..65536 bytes (got 65537)", "... message");
    toobig.value_len = MODULE_RECORD_MAX_VALUE;
    is_int(module_record_check(&toobig, err, sizeof err), 0, "value at the limit accepted");
    free(big);

    /* ---- image -------------------------------------------------------- */
    struct meta_image img;
    meta_image_init(&img);
    const char *keys[] = {"user/bob", "user/alice", "acl/1", "user/carol"};
    for (int i = 0; i < 4; i++) {
        struct meta_module_record p = {"mod_a", keys[i], (const uint8_t *)keys[i], 1};
        meta_image_apply_module_record(&img, &p);
    }
    struct meta_module_record other = {"mod_b", "user/alice", (const uint8_t *)"B", 1};
    meta_image_apply_module_record(&img, &other);
    struct meta_module_record repl = {"mod_a", "user/alice", (const uint8_t *)"A2", 2};
    meta_image_apply_module_record(&img, &repl);
    size_t len = 0;
    const uint8_t *v = meta_module_record_get(&img, "mod_a", "user/alice", &len);
    ok(v && len == 2 && memcmp(v, "A2", 2) == 0, "put replaces");
    v = meta_module_record_get(&img, "mod_b", "user/alice", &len);
    ok(v && len == 1 && v[0] == 'B', "modules are separate namespaces");
    ok(meta_module_record_get(&img, "mod_a", "nope", &len) == NULL, "missing key");
    is_int(meta_module_record_count(&img, "mod_a"), 4, "count per module");
    is_int(meta_module_record_count(&img, NULL), 5, "count over all");
    struct walk wk = {.img = &img, .delete_next = 1};
    is_int(meta_module_records_iterate(&img, "mod_a", "user/", walk_cb, &wk), 0, "iterate");
    is_str(wk.seen, "user/alice=A2;user/bob=u;", "prefix filter, key order, delete-during-walk safe");
    int calls = 0;
    is_int(meta_module_records_iterate(&img, "mod_a", NULL, stop_cb, &calls), 42,
           "callback's non-zero stops the walk and is returned");
    is_int(calls, 1, "... after one call");
    meta_image_free(&img);

    /* ---- metadata store: append, fsync callback, replay ---------------- */
    char dir[] = "/tmp/sluice-modrec-XXXXXX";
    ok(mkdtemp(dir) != NULL, "temp dir");
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    struct sluice_logger lg;
    logger_init_stderr(&lg);
    logger_set_level(&lg, SLOG_WARN);
    struct meta_store *ms = NULL;
    is_int(meta_store_open(&ms, dir, fl, &lg, 1000, err, sizeof err), 0, "store opened");
    struct meta_module_record r1 = {"service_heartbeat", "last_run", (const uint8_t *)"12345", 5};
    struct meta_module_record r2 = {"service_heartbeat", "ticks", (const uint8_t *)"7", 1};
    struct meta_module_record r3 = {"sasl_scram", "user/alice", (const uint8_t *)"x", 1};
    struct meta_record recs[] = {
        {META_REC_SLUICE_MODULE_RECORD, 0, &r1},
        {META_REC_SLUICE_MODULE_RECORD, 0, &r2},
        {META_REC_SLUICE_MODULE_RECORD, 0, &r3},
    };
    is_int(meta_store_append(ms, recs, 3, 1000, err, sizeof err), 0, "three records appended");
    struct meta_module_record d3 = {"sasl_scram", "user/alice", NULL, -1};
    struct meta_record drec = {META_REC_SLUICE_MODULE_RECORD, 0, &d3};
    is_int(meta_store_append(ms, &drec, 1, 1001, err, sizeof err), 0, "delete appended");
    ok(meta_module_record_get(meta_store_image(ms), "service_heartbeat", "ticks", &len) != NULL,
       "visible in the image at once");
    int synced = 0;
    is_int(meta_store_sync(ms, on_synced, &synced), 0, "sync queued");
    is_int(synced, 0, "ack not synchronous");
    ev_run(loop, 0);
    is_int(synced, 1, "ack after fsync, on the loop");
    meta_store_close(ms);

    ms = NULL;
    is_int(meta_store_open(&ms, dir, fl, &lg, 2000, err, sizeof err), 0, "store reopened");
    v = meta_module_record_get(meta_store_image(ms), "service_heartbeat", "last_run", &len);
    ok(v && len == 5 && memcmp(v, "12345", 5) == 0, "record replayed with its value");
    is_int(meta_module_record_count(meta_store_image(ms), NULL), 2, "the delete replayed too");
    meta_store_close(ms);
    flusher_free(fl);
    ev_loop_destroy(loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return done_testing();
}
