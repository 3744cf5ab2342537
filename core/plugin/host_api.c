/* The host API table given to modules (struct sluice_host_api, ABI 1.1):
 * logging, config, codec and service registration, accounted memory,
 * growable buffers, the libev-backed loop functions (timers, io,
 * thread-safe post), metrics in the broker's registry and durable records
 * in the metadata log.
 *
 * libev stays on this side: modules get opaque struct sluice_timer /
 * struct sluice_io handles that are really struct host_watch. */
#include "config.h"

#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "meta/metadata_store.h"
#include "meta/module_record.h"
#include "metrics/metrics.h"
#include "plugin/host_api.h"

/* ---------------------------------------------------------------------- */
/* Logging                                                                 */

static const char *level_name(int level)
{
    switch (level) {
    case SLUICE_LOG_ERROR: return "error";
    case SLUICE_LOG_WARN: return "warn";
    case SLUICE_LOG_INFO: return "info";
    default: return "debug";
    }
}

static void host_vlog(struct sluice_module_ctx *ctx, int level, const char *fmt, va_list ap)
    SLUICE_PRINTF(3, 0);

static void host_vlog(struct sluice_module_ctx *ctx, int level, const char *fmt, va_list ap)
{
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "[%s] ", ctx && ctx->name ? ctx->name : "?");
    if (n < 0)
        n = 0;
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    /* Modules sometimes end lines with '\n'; the sinks add their own. */
    size_t len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';
    struct module_registry *reg = ctx ? ctx->reg : NULL;
    if (reg && reg->log_fn)
        reg->log_fn(reg->log_ud, level, msg);
    else
        fprintf(stderr, "sluiced: %s: %s\n", level_name(level), msg);
}

static void host_log(struct sluice_module_ctx *ctx, int level, const char *fmt, ...)
    SLUICE_PRINTF(3, 4);

static void host_log(struct sluice_module_ctx *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

void host_log_ctx(struct sluice_module_ctx *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------- */
/* Config: module.<name>.<key> first, then the plain key.                  */

static const char *config_raw(struct sluice_module_ctx *ctx, const char *key)
{
    struct module_registry *reg = ctx->reg;
    if (!reg->config_lookup || !key)
        return NULL;
    char full[512];
    int n = snprintf(full, sizeof full, "module.%s.%s", ctx->name, key);
    if (n > 0 && (size_t)n < sizeof full) {
        const char *v = reg->config_lookup(reg->config_ud, full);
        if (v)
            return v;
    }
    return reg->config_lookup(reg->config_ud, key);
}

static const char *host_config_get_string(struct sluice_module_ctx *ctx, const char *key,
                                          const char *def)
{
    const char *v = config_raw(ctx, key);
    return v ? v : def;
}

static int host_config_get_int(struct sluice_module_ctx *ctx, const char *key, int64_t def,
                               int64_t *out)
{
    const char *v = config_raw(ctx, key);
    *out = def;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (errno || end == v || *end)
        return SLUICE_ERR_INVALID;
    *out = x;
    return 0;
}

static int host_config_get_bool(struct sluice_module_ctx *ctx, const char *key, int def, int *out)
{
    const char *v = config_raw(ctx, key);
    *out = def;
    if (!v)
        return 0;
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
        *out = 1;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
        *out = 0;
    else
        return SLUICE_ERR_INVALID;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Module data                                                             */

static void host_set_data(struct sluice_module_ctx *ctx, void *data) { ctx->data = data; }
static void *host_get_data(struct sluice_module_ctx *ctx) { return ctx->data; }

/* ---------------------------------------------------------------------- */
/* Codec registration                                                      */

static void reg_fail_v(struct sluice_module_ctx *ctx, const char *fmt, va_list ap)
    SLUICE_PRINTF(2, 0);

static void reg_fail_v(struct sluice_module_ctx *ctx, const char *fmt, va_list ap)
{
    /* Keep the first failure: it is the one worth reporting. */
    if (!ctx->reg_failed) {
        vsnprintf(ctx->reg_err, sizeof ctx->reg_err, fmt, ap);
        ctx->reg_failed = 1;
    }
}

int host_reg_fail(struct sluice_module_ctx *ctx, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reg_fail_v(ctx, fmt, ap);
    va_end(ap);
    return rc;
}

int host_copy_ops(struct sluice_module_ctx *ctx, uint32_t kind, const char *kind_name,
                  const char *what, const void *ops, size_t min_size, int min_minor,
                  bool during_init_only, void *dst, size_t dst_size)
{
    if (!(ctx->desc.kinds & kind))
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "register_%s called but the module does not declare %s", what,
                             kind_name);
    if (during_init_only && ctx->initialized)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID, "register_%s called after init", what);
    size_t size = ops ? *(const size_t *)ops : 0;
    if (size < min_size)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "%s ops struct_size %zu is smaller than the ABI 1.%d minimum %zu",
                             what, size, min_minor, min_size);
    memset(dst, 0, dst_size);
    memcpy(dst, ops, size < dst_size ? size : dst_size);
    *(size_t *)dst = dst_size;
    return 0;
}

static int host_register_codec(struct sluice_module_ctx *ctx, const struct sluice_codec_ops *ops,
                               void *state)
{
    struct sluice_codec_ops copy;
    int rc = host_copy_ops(ctx, SLUICE_KIND_CODEC, "SLUICE_KIND_CODEC", "codec", ops,
                           SLUICE_CODEC_OPS_MIN_SIZE_V1_0, 0, false, &copy, sizeof copy);
    if (rc)
        return rc;
    if (copy.codec_id <= SLUICE_CODEC_NONE || copy.codec_id > SLUICE_CODEC_ID_MAX)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID, "codec id %d is out of range 1..%d",
                          copy.codec_id, SLUICE_CODEC_ID_MAX);
    if (!copy.name || !copy.compress || !copy.decompress)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                          "codec id %d: name, compress and decompress are all required",
                          copy.codec_id);
    struct module_codec *slot = &ctx->reg->codecs[copy.codec_id];
    if (slot->owner)
        return host_reg_fail(ctx, SLUICE_ERR_EXISTS,
                          "codec id %d (%s) is already provided by module '%s'", copy.codec_id,
                          copy.name, slot->owner->name);
    slot->ops = copy;
    slot->state = state;
    slot->owner = ctx;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Assignor registration                                                   */

static int valid_assignor_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return 0;
    }
    return 1;
}

static int host_register_assignor(struct sluice_module_ctx *ctx,
                                  const struct sluice_assignor_ops *ops, void *state)
{
    struct sluice_assignor_ops copy;
    int rc = host_copy_ops(ctx, SLUICE_KIND_ASSIGNOR, "SLUICE_KIND_ASSIGNOR", "assignor", ops,
                           SLUICE_ASSIGNOR_OPS_MIN_SIZE_V1_1, 1, false, &copy, sizeof copy);
    if (rc)
        return rc;
    if (!valid_assignor_name(copy.name))
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                          "assignor name '%s' is not [a-z0-9._-]{1,64}",
                          copy.name ? copy.name : "(null)");
    if (!copy.assign)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID, "assignor '%s': assign is required", copy.name);
    struct module_registry *reg = ctx->reg;
    const struct module_assignor *dup = module_registry_assignor(reg, copy.name);
    if (dup)
        return host_reg_fail(ctx, SLUICE_ERR_EXISTS,
                          "assignor '%s' is already provided by module '%s'", copy.name,
                          dup->owner->name);
    if (reg->nassignors == reg->cap_assignors) {
        size_t cap = reg->cap_assignors ? reg->cap_assignors * 2 : 8;
        struct module_assignor *a = realloc(reg->assignors, cap * sizeof *a);
        if (!a)
            return host_reg_fail(ctx, SLUICE_ERR_NOMEM, "assignor '%s': out of memory", copy.name);
        reg->assignors = a;
        reg->cap_assignors = cap;
    }
    reg->assignors[reg->nassignors++] =
        (struct module_assignor){.ops = copy, .state = state, .owner = ctx};
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Memory: a 16-byte header keeps the size so free can account for it.    */

#define ALLOC_HDR 16

static void *host_alloc(struct sluice_module_ctx *ctx, size_t n)
{
    if (n > SIZE_MAX - ALLOC_HDR)
        return NULL;
    unsigned char *p = malloc(n + ALLOC_HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    atomic_fetch_add(&ctx->alloc_bytes, n);
    return p + ALLOC_HDR;
}

static void host_free(struct sluice_module_ctx *ctx, void *p)
{
    if (!p)
        return;
    unsigned char *base = (unsigned char *)p - ALLOC_HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    atomic_fetch_sub(&ctx->alloc_bytes, n);
    free(base);
}

int host_buf_reserve(struct sluice_buf *buf, size_t extra)
{
    if (buf->len > SIZE_MAX - extra)
        return SLUICE_ERR_TOO_LARGE;
    size_t need = buf->len + extra;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(buf->data, cap);
    if (!p)
        return SLUICE_ERR_NOMEM;
    buf->data = p;
    buf->cap = cap;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Loop: timers and io.  The libev watcher is the first member so the libev
 * callback can get back to the host_watch.                               */

enum { WATCH_TIMER, WATCH_IO };

struct host_watch {
    union {
        ev_timer timer;
        ev_io io;
    } w;
    int kind;
    struct sluice_module_ctx *ctx;
    struct host_watch *prev, *next;
    void *ud;
    sluice_cb_fn timer_cb;
    sluice_io_cb_fn io_cb;
};

static struct host_watch *watch_new(struct sluice_module_ctx *ctx, int kind, void *ud)
{
    struct host_watch *hw = calloc(1, sizeof *hw);
    if (!hw)
        return NULL;
    hw->kind = kind;
    hw->ctx = ctx;
    hw->ud = ud;
    hw->next = ctx->watches;
    if (hw->next)
        hw->next->prev = hw;
    ctx->watches = hw;
    return hw;
}

static void watch_free(struct host_watch *hw)
{
    struct ev_loop *loop = hw->ctx->reg->loop;
    if (hw->kind == WATCH_TIMER)
        ev_timer_stop(loop, &hw->w.timer);
    else
        ev_io_stop(loop, &hw->w.io);
    if (hw->prev)
        hw->prev->next = hw->next;
    else
        hw->ctx->watches = hw->next;
    if (hw->next)
        hw->next->prev = hw->prev;
    free(hw);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct host_watch *hw = (struct host_watch *)w;
    /* cb may call timer_stop on itself: touch nothing after it. */
    hw->timer_cb(hw->ud);
}

static struct sluice_timer *host_timer_start(struct sluice_module_ctx *ctx, uint64_t after_ms,
                                             uint64_t repeat_ms, sluice_cb_fn cb, void *ud)
{
    if (!ctx->reg->loop || !cb)
        return NULL;
    struct host_watch *hw = watch_new(ctx, WATCH_TIMER, ud);
    if (!hw)
        return NULL;
    hw->timer_cb = cb;
    ev_timer_init(&hw->w.timer, on_timer, (ev_tstamp)after_ms / 1000.0,
                  (ev_tstamp)repeat_ms / 1000.0);
    ev_timer_start(ctx->reg->loop, &hw->w.timer);
    return (struct sluice_timer *)hw;
}

static void host_timer_stop(struct sluice_module_ctx *ctx, struct sluice_timer *t)
{
    if (t)
        watch_free((struct host_watch *)t);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct host_watch *hw = (struct host_watch *)w;
    int r = 0;
    if (revents & EV_READ)
        r |= SLUICE_IO_READ;
    if (revents & EV_WRITE)
        r |= SLUICE_IO_WRITE;
    hw->io_cb(hw->ud, w->fd, r);
}

static struct sluice_io *host_io_start(struct sluice_module_ctx *ctx, int fd, int events,
                                       sluice_io_cb_fn cb, void *ud)
{
    if (!ctx->reg->loop || !cb || fd < 0 || !(events & (SLUICE_IO_READ | SLUICE_IO_WRITE)))
        return NULL;
    struct host_watch *hw = watch_new(ctx, WATCH_IO, ud);
    if (!hw)
        return NULL;
    hw->io_cb = cb;
    int ev = ((events & SLUICE_IO_READ) ? EV_READ : 0) | ((events & SLUICE_IO_WRITE) ? EV_WRITE : 0);
    ev_io_init(&hw->w.io, on_io, fd, ev);
    ev_io_start(ctx->reg->loop, &hw->w.io);
    return (struct sluice_io *)hw;
}

static void host_io_stop(struct sluice_module_ctx *ctx, struct sluice_io *io)
{
    if (io)
        watch_free((struct host_watch *)io);
}

/* ---------------------------------------------------------------------- */
/* Loop: post().  A mutex-protected FIFO drained by an ev_async watcher.   */

struct post_item {
    struct post_item *next;
    struct sluice_module_ctx *ctx;
    sluice_cb_fn cb;
    void *ud;
};

struct host_post_queue {
    ev_async async; /* first: the callback casts back */
    struct ev_loop *loop;
    pthread_mutex_t mu;
    struct post_item *head, *tail;
};

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
    struct host_post_queue *q = (struct host_post_queue *)w;
    /* Take one item at a time so a callback that unloads a module (and
     * drops its queued items) never leaves us holding a stale list. */
    for (;;) {
        pthread_mutex_lock(&q->mu);
        struct post_item *it = q->head;
        if (it) {
            q->head = it->next;
            if (!q->head)
                q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        if (!it)
            break;
        it->cb(it->ud);
        free(it);
    }
}

static int host_post(struct sluice_module_ctx *ctx, sluice_cb_fn cb, void *ud)
{
    struct host_post_queue *q = ctx->reg->posts;
    if (!q)
        return SLUICE_ERR_UNSUPPORTED;
    if (!cb)
        return SLUICE_ERR_INVALID;
    struct post_item *it = malloc(sizeof *it);
    if (!it)
        return SLUICE_ERR_NOMEM;
    it->next = NULL;
    it->ctx = ctx;
    it->cb = cb;
    it->ud = ud;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    pthread_mutex_unlock(&q->mu);
    ev_async_send(q->loop, &q->async);
    return 0;
}

int host_posts_start(struct module_registry *reg, struct ev_loop *loop, char *err, size_t errlen)
{
    struct host_post_queue *q = calloc(1, sizeof *q);
    if (!q || pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        snprintf(err, errlen, "out of memory setting up the module post queue");
        return -1;
    }
    q->loop = loop;
    ev_async_init(&q->async, on_async);
    ev_async_start(loop, &q->async);
    /* The queue alone must not keep the loop running. */
    ev_unref(loop);
    reg->posts = q;
    return 0;
}

void host_posts_stop(struct module_registry *reg)
{
    struct host_post_queue *q = reg->posts;
    if (!q)
        return;
    ev_ref(q->loop);
    ev_async_stop(q->loop, &q->async);
    for (struct post_item *it = q->head, *nx; it; it = nx) {
        nx = it->next;
        free(it);
    }
    pthread_mutex_destroy(&q->mu);
    free(q);
    reg->posts = NULL;
}

/* ---------------------------------------------------------------------- */
/* 1.1: metrics.  Thin glue over core/metrics: the module ctx is the owner
 * tag, so unloading drops exactly the module's families.                 */

static int host_metric_register(struct sluice_module_ctx *ctx, const struct sluice_metric_desc *desc,
                                struct sluice_metric **out)
{
    if (out)
        *out = NULL;
    if (!ctx->reg->metrics)
        return SLUICE_ERR_UNSUPPORTED;
    if (!desc || !out || desc->struct_size < SLUICE_METRIC_DESC_MIN_SIZE_V1_1) {
        host_log_ctx(ctx, SLUICE_LOG_WARN,
                     "metric_register: NULL argument or desc struct_size %zu below the 1.1 "
                     "minimum %zu",
                     desc ? desc->struct_size : (size_t)0,
                     (size_t)SLUICE_METRIC_DESC_MIN_SIZE_V1_1);
        return SLUICE_ERR_INVALID;
    }
    struct sluice_metric_desc d;
    memset(&d, 0, sizeof d);
    memcpy(&d, desc, desc->struct_size < sizeof d ? desc->struct_size : sizeof d);
    /* The ABI's SLUICE_METRIC_* numbers are the registry's enum values. */
    struct metric_spec spec = {
        .type = (enum metric_type)d.type,
        .name = d.name,
        .help = d.help,
        .labels = d.labels,
        .buckets = d.buckets,
        .nbuckets = d.nbuckets,
    };
    char err[256];
    struct metric *m;
    int rc = metrics_register(ctx->reg->metrics, ctx, &spec, &m, err, sizeof err);
    if (rc != 0) {
        host_log_ctx(ctx, SLUICE_LOG_WARN, "metric_register: %s", err);
        return rc == -2 ? SLUICE_ERR_EXISTS : rc == -3 ? SLUICE_ERR_NOMEM : SLUICE_ERR_INVALID;
    }
    *out = (struct sluice_metric *)m;
    return 0;
}

static void host_metric_add(struct sluice_metric *m, double v) { metric_add((struct metric *)m, v); }
static void host_metric_set(struct sluice_metric *m, double v) { metric_set((struct metric *)m, v); }
static void host_metric_observe(struct sluice_metric *m, double v)
{
    metric_observe((struct metric *)m, v);
}

/* ---------------------------------------------------------------------- */
/* 1.1: durable records in the metadata log, namespaced by module name.
 *
 * The acknowledgement goes through a host-owned host_record_ack, never
 * straight to the module's function: the flusher may report after the
 * module was unloaded (shutdown closes the metadata log after modules), and
 * a cancelled ack then just frees itself instead of jumping into a
 * dlclose()d object.                                                     */

struct host_record_ack {
    struct host_record_ack *prev, *next;
    struct sluice_module_ctx *ctx; /* NULL once cancelled by unload */
    sluice_record_done_fn done;
    void *ud;
};

static void record_acked(void *p, int err)
{
    struct host_record_ack *a = p;
    struct sluice_module_ctx *ctx = a->ctx;
    if (ctx) {
        if (a->prev)
            a->prev->next = a->next;
        else
            ctx->acks = a->next;
        if (a->next)
            a->next->prev = a->prev;
        if (err)
            host_log_ctx(ctx, SLUICE_LOG_WARN,
                         "metadata log fsync failed: the last record writes may not survive a "
                         "crash");
        if (a->done)
            a->done(a->ud, err ? SLUICE_ERR_IO : 0);
    }
    free(a);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int record_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    return n >= 1 && n <= SLUICE_RECORD_MAX_KEY;
}

/* Appends one SluiceModuleRecord (value_len -1: delete) and queues the
 * acknowledgement. */
static int record_write(struct sluice_module_ctx *ctx, const char *key, const void *value,
                        int32_t value_len, sluice_record_done_fn done, void *ud)
{
    struct host_record_ack *a = calloc(1, sizeof *a);
    if (!a)
        return SLUICE_ERR_NOMEM;
    struct meta_module_record rec = {ctx->name, key, value, value_len};
    struct meta_record mr = {META_REC_SLUICE_MODULE_RECORD, MODULE_RECORD_VERSION, &rec};
    char err[256];
    if (meta_store_append(ctx->reg->meta, &mr, 1, wall_ms(), err, sizeof err) != 0) {
        free(a);
        host_log_ctx(ctx, SLUICE_LOG_WARN, "record write of '%s' failed: %s", key, err);
        return SLUICE_ERR_IO;
    }
    a->ctx = ctx;
    a->done = done;
    a->ud = ud;
    a->next = ctx->acks;
    if (a->next)
        a->next->prev = a;
    ctx->acks = a;
    if (meta_store_sync(ctx->reg->meta, record_acked, a) != 0) {
        /* Written and applied, but no fsync could be queued: say so now
         * rather than acknowledge a durability we can't promise. */
        ctx->acks = a->next;
        if (a->next)
            a->next->prev = NULL;
        free(a);
        host_log_ctx(ctx, SLUICE_LOG_WARN, "record '%s' written but its fsync could not be queued",
                     key);
        return SLUICE_ERR_IO;
    }
    return 0;
}

static int host_record_put(struct sluice_module_ctx *ctx, const char *key, const void *value,
                           size_t len, sluice_record_done_fn done, void *ud)
{
    if (!ctx->reg->meta)
        return SLUICE_ERR_UNSUPPORTED;
    if (!record_key_ok(key) || (len > 0 && !value))
        return SLUICE_ERR_INVALID;
    if (len > SLUICE_RECORD_MAX_VALUE)
        return SLUICE_ERR_TOO_LARGE;
    return record_write(ctx, key, value, (int32_t)len, done, ud);
}

static int host_record_get(struct sluice_module_ctx *ctx, const char *key, void *buf, size_t cap,
                           size_t *len_r)
{
    if (!ctx->reg->meta)
        return SLUICE_ERR_UNSUPPORTED;
    if (!record_key_ok(key) || (cap > 0 && !buf))
        return SLUICE_ERR_INVALID;
    size_t len = 0;
    const uint8_t *v = meta_module_record_get(meta_store_image(ctx->reg->meta), ctx->name, key, &len);
    if (!v)
        return SLUICE_ERR_NOT_FOUND;
    if (cap)
        memcpy(buf, v, len < cap ? len : cap);
    if (len_r)
        *len_r = len;
    return 0;
}

static int host_record_delete(struct sluice_module_ctx *ctx, const char *key,
                              sluice_record_done_fn done, void *ud)
{
    if (!ctx->reg->meta)
        return SLUICE_ERR_UNSUPPORTED;
    if (!record_key_ok(key))
        return SLUICE_ERR_INVALID;
    if (!meta_module_record_get(meta_store_image(ctx->reg->meta), ctx->name, key, NULL))
        return SLUICE_ERR_NOT_FOUND;
    return record_write(ctx, key, NULL, -1, done, ud);
}

struct iter_glue {
    sluice_record_iter_fn cb;
    void *ud;
};

static int iter_glue_cb(void *p, const char *key, const uint8_t *value, size_t len)
{
    struct iter_glue *g = p;
    return g->cb(g->ud, key, value, len);
}

static int host_record_iterate(struct sluice_module_ctx *ctx, const char *prefix,
                               sluice_record_iter_fn cb, void *ud)
{
    if (!ctx->reg->meta)
        return SLUICE_ERR_UNSUPPORTED;
    if (!cb)
        return SLUICE_ERR_INVALID;
    struct iter_glue g = {cb, ud};
    int rc = meta_module_records_iterate(meta_store_image(ctx->reg->meta), ctx->name, prefix,
                                         iter_glue_cb, &g);
    /* -1 from the walk itself is ENOMEM; a callback's own -1 can't be told
     * apart, which is why the ABI reserves negative SLUICE_ERR_* values
     * for the host and asks callbacks to stop with any other value. */
    return rc;
}

/* ---------------------------------------------------------------------- */
/* 1.1: services                                                           */

static int host_register_service(struct sluice_module_ctx *ctx, const struct sluice_service_ops *ops,
                                 void *state)
{
    struct module_service *sv = calloc(1, sizeof *sv);
    if (!sv)
        return host_reg_fail(ctx, SLUICE_ERR_NOMEM, "out of memory registering a service");
    int rc = host_copy_ops(ctx, SLUICE_KIND_SERVICE, "SLUICE_KIND_SERVICE", "service", ops,
                           SLUICE_SERVICE_OPS_MIN_SIZE_V1_1, 1, true, &sv->ops, sizeof sv->ops);
    if (rc) {
        free(sv);
        return rc;
    }
    if (!sv->ops.start) {
        free(sv);
        return host_reg_fail(ctx, SLUICE_ERR_INVALID, "service ops without a start function");
    }
    if (!sv->ops.name)
        sv->ops.name = ctx->name;
    sv->state = state;
    sv->owner = ctx;
    struct module_service **tail = &ctx->reg->services;
    while (*tail)
        tail = &(*tail)->next;
    *tail = sv;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* 1.2: transports                                                         */

static int host_register_transport(struct sluice_module_ctx *ctx,
                                   const struct sluice_transport_ops *ops, void *state)
{
    struct sluice_transport_ops copy;
    int rc = host_copy_ops(ctx, SLUICE_KIND_TRANSPORT, "SLUICE_KIND_TRANSPORT", "transport", ops,
                           SLUICE_TRANSPORT_OPS_MIN_SIZE_V1_2, 2, true, &copy, sizeof copy);
    if (rc)
        return rc;
    const char *name = copy.name ? copy.name : ctx->name;
    const uint32_t servable = SLUICE_SECURITY_SSL | SLUICE_SECURITY_SASL_SSL;
    if (!copy.protocols || (copy.protocols & ~servable))
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "transport '%s': protocols 0x%x must be a non-empty mix of "
                             "SLUICE_SECURITY_SSL and SLUICE_SECURITY_SASL_SSL (plain TCP is "
                             "built in)",
                             name, copy.protocols);
    if (!copy.listener_open || !copy.accept || !copy.read || !copy.writev || !copy.close)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "transport '%s': listener_open, accept, read, writev and close are "
                             "required",
                             name);
    struct module_registry *reg = ctx->reg;
    for (int i = 0; i < MODULE_SECURITY_SLOTS; i++)
        if ((copy.protocols & (1u << i)) && reg->transports[i].owner)
            return host_reg_fail(ctx, SLUICE_ERR_EXISTS,
                                 "transport '%s': security protocol bit %d is already served by "
                                 "module '%s'",
                                 name, i, reg->transports[i].owner->name);
    copy.name = name;
    for (int i = 0; i < MODULE_SECURITY_SLOTS; i++)
        if (copy.protocols & (1u << i))
            reg->transports[i] = (struct module_transport){copy, state, ctx};
    return 0;
}

void host_ctx_release(struct sluice_module_ctx *ctx)
{
    /* Cancel, don't free: the flusher still holds these and frees them
     * when it reports (record_acked). */
    for (struct host_record_ack *a = ctx->acks; a; a = a->next)
        a->ctx = NULL;
    ctx->acks = NULL;
    if (ctx->reg->metrics)
        metrics_unregister_owner(ctx->reg->metrics, ctx);
    while (ctx->watches)
        watch_free(ctx->watches);
    struct host_post_queue *q = ctx->reg->posts;
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    struct post_item **pp = &q->head;
    q->tail = NULL;
    while (*pp) {
        struct post_item *it = *pp;
        if (it->ctx == ctx) {
            *pp = it->next;
            free(it);
        } else {
            q->tail = it;
            pp = &it->next;
        }
    }
    pthread_mutex_unlock(&q->mu);
}

/* ---------------------------------------------------------------------- */

static const struct sluice_host_api host_api_v1 = {
    .size = sizeof(struct sluice_host_api),
    .abi_major = SLUICE_ABI_MAJOR,
    .abi_minor = SLUICE_ABI_MINOR,
    .log = host_log,
    .vlog = host_vlog,
    .config_get_string = host_config_get_string,
    .config_get_int = host_config_get_int,
    .config_get_bool = host_config_get_bool,
    .set_data = host_set_data,
    .get_data = host_get_data,
    .register_codec = host_register_codec,
    .alloc = host_alloc,
    .free = host_free,
    .buf_reserve = host_buf_reserve,
    .timer_start = host_timer_start,
    .timer_stop = host_timer_stop,
    .io_start = host_io_start,
    .io_stop = host_io_stop,
    .post = host_post,
    /* 1.1 */
    .metric_register = host_metric_register,
    .metric_add = host_metric_add,
    .metric_set = host_metric_set,
    .metric_observe = host_metric_observe,
    .record_put = host_record_put,
    .record_get = host_record_get,
    .record_delete = host_record_delete,
    .record_iterate = host_record_iterate,
    .register_service = host_register_service,
    .register_assignor = host_register_assignor,
    /* --- ABI 1.2 --- */
    .register_transport = host_register_transport,
    .register_sasl_mechanism = host_register_sasl_mechanism,
    .register_authorizer = host_register_authorizer,
};

const struct sluice_host_api *host_api_table(void) { return &host_api_v1; }
