/* Sluice plugin ABI: the host API, a size-prefixed function table the broker
 * passes to a module's init().  Included by <sluice/plugin.h>; see the
 * changelog there.
 *
 * The table is append-only within a major.  A module built against minor N
 * may find itself on a host with a larger table (newer host: fine) but never
 * a smaller one for members of its own minor, because the loader refuses
 * modules whose abi_minor exceeds the host's.  Members a module uses beyond
 * the minimum minor it wants to support must be tested with SLUICE_HOST_HAS.
 *
 * Threads: unless a member says otherwise, call it only from the broker's
 * loop thread, i.e. from init/fini or from a callback the host invoked
 * (timer, io, post, service start/stop, record acknowledgement).
 * Exceptions: log/vlog, alloc/free, buf_reserve and the metric updates
 * (metric_add/set/observe) are safe from any thread, post is made for
 * calling from module threads, and config_get_* are only guaranteed inside
 * init.
 *
 * `ctx` is the opaque handle the host passed to init; every member that
 * takes it must be given that same handle. */
#ifndef SLUICE_HOST_H
#define SLUICE_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sluice_module_ctx;
struct sluice_codec_ops;
struct sluice_assignor_ops;
struct sluice_service_ops;
struct sluice_transport_ops;
struct sluice_sasl_mech_ops;
struct sluice_authorizer_ops;
struct sluice_buf;

/* Opaque handles for loop watchers.  No libev type crosses the ABI. */
struct sluice_timer;
struct sluice_io;

/* io_start() event mask bits (also the `revents` passed to the callback). */
#define SLUICE_IO_READ 0x1
#define SLUICE_IO_WRITE 0x2

typedef void (*sluice_cb_fn)(void *ud);
typedef void (*sluice_io_cb_fn)(void *ud, int fd, int revents);

/* ---------------------------------------------------------------------- */
/* 1.1: metrics.  The broker owns one registry (Prometheus data model) and
 * renders it in the Prometheus text format; modules add series to it and
 * never run an exporter of their own.                                    */

struct sluice_metric; /* opaque handle: one labelled series */

#define SLUICE_METRIC_COUNTER 1   /* only goes up (metric_add with v >= 0) */
#define SLUICE_METRIC_GAUGE 2     /* metric_set / metric_add (any sign) */
#define SLUICE_METRIC_HISTOGRAM 3 /* metric_observe into fixed buckets */

/* Describes one series for metric_register().  Read only during the call
 * (every string and array is copied), only up to struct_size. */
struct sluice_metric_desc {
    size_t struct_size; /* sizeof(struct sluice_metric_desc) at build time */
    int type;           /* SLUICE_METRIC_* */
    /* Prometheus metric name, [a-zA-Z_:][a-zA-Z0-9_:]*, at most 200 bytes.
     * Start it with the module name (e.g. "service_heartbeat_ticks_total")
     * and end counters with "_total": names are global, and the first
     * registrant (the broker's own come first) owns a name. */
    const char *name;
    const char *help; /* one line for "# HELP"; may be NULL */
    /* NULL, or name/value pairs ending in NULL: {"topic", "t1", NULL}.
     * At most 16 labels; names [a-zA-Z_][a-zA-Z0-9_]*, not starting with
     * "__", not "le" on a histogram; values any UTF-8 up to 1024 bytes.
     * Every series of one name must use the same label names in the same
     * order; different values make different series. */
    const char *const *labels;
    /* Histograms: finite, strictly increasing upper bounds (at most 64),
     * +Inf implied; NULL means Prometheus' defaults (0.005 .. 10). */
    const double *buckets;
    size_t nbuckets;
};

/* Smallest struct_size accepted by a 1.1 host. */
#define SLUICE_METRIC_DESC_MIN_SIZE_V1_1                                                           \
    (offsetof(struct sluice_metric_desc, nbuckets) +                                               \
     sizeof(((struct sluice_metric_desc *)0)->nbuckets))

/* ---------------------------------------------------------------------- */
/* 1.1: durable records.  A small key/value store per module (its name is
 * the namespace, so two modules never see each other's keys), kept in the
 * broker's metadata log so it survives restarts and will replicate with
 * cluster metadata.  Meant for credentials, ACLs and a service's state:
 * every put is one metadata record, so don't use it as a queue.          */

#define SLUICE_RECORD_MAX_KEY 255     /* bytes, excluding the NUL */
#define SLUICE_RECORD_MAX_VALUE 65536 /* bytes */

/* Acknowledgement of record_put/record_delete: runs on the loop thread once
 * the write is on disk (err 0), or failed to get there (SLUICE_ERR_IO: the
 * value is in effect now but may not survive a crash). */
typedef void (*sluice_record_done_fn)(void *ud, int err);

/* record_iterate callback.  key and value are borrowed for the call.
 * Return 0 to go on, anything else to stop (record_iterate returns it). */
typedef int (*sluice_record_iter_fn)(void *ud, const char *key, const void *value, size_t len);

struct sluice_host_api {
    /* --- frozen header --- */
    size_t size;        /* sizeof(struct sluice_host_api) in the host */
    uint16_t abi_major; /* the host's SLUICE_ABI_MAJOR */
    uint16_t abi_minor; /* the host's SLUICE_ABI_MINOR */

    /* --- ABI 1.0 --- */

    /* Logging.  The host prefixes the message with "[<module name>] " and
     * routes it to the broker log; a trailing newline is not needed.
     * Any thread.  level is SLUICE_LOG_*. */
    void (*log)(struct sluice_module_ctx *ctx, int level, const char *fmt, ...) SLUICE_PRINTF(3, 4);
    void (*vlog)(struct sluice_module_ctx *ctx, int level, const char *fmt, va_list ap)
        SLUICE_PRINTF(3, 0);

    /* Configuration, read-only.  `key` is looked up first as
     * "module.<module name>.<key>", then as plain "<key>" so Kafka's own
     * property names (e.g. "compression.gzip.level") work unprefixed.
     *
     * config_get_string returns the value, or `def` when the key is absent.
     * The returned pointer is borrowed: valid until init returns; copy it if
     * it is needed later.
     * config_get_int / config_get_bool store the value (or `def` when absent)
     * in *out and return 0; when the key is present but does not parse
     * (ints: base-10 int64 with no trailing garbage; bools: true/false, also
     * 1/0 and yes/no, case-insensitive) they store `def`, return
     * SLUICE_ERR_INVALID and log nothing, leaving the message to the module. */
    const char *(*config_get_string)(struct sluice_module_ctx *ctx, const char *key, const char *def);
    int (*config_get_int)(struct sluice_module_ctx *ctx, const char *key, int64_t def, int64_t *out);
    int (*config_get_bool)(struct sluice_module_ctx *ctx, const char *key, int def, int *out);

    /* Per-module state pointer, for modules that need it in fini or in
     * callbacks that only get ctx.  The host never dereferences or frees it. */
    void (*set_data)(struct sluice_module_ctx *ctx, void *data);
    void *(*get_data)(struct sluice_module_ctx *ctx);

    /* Registers a compression codec (module kinds must include
     * SLUICE_KIND_CODEC).  `ops` is copied (see <sluice/codec.h>); `state`
     * is borrowed and handed back to every ops call until fini; the module
     * owns and frees it in fini.  Returns 0, SLUICE_ERR_EXISTS when another
     * module already provides codec_id, or SLUICE_ERR_INVALID (bad id, size
     * or missing callbacks).  On failure the host remembers the reason and
     * fails the module load with it even if init goes on to return 0. */
    int (*register_codec)(struct sluice_module_ctx *ctx, const struct sluice_codec_ops *ops,
                          void *state);

    /* Memory with per-module accounting (shown in module stats).  Any
     * thread.  alloc returns NULL on failure; free(NULL) is a no-op.  Memory
     * from alloc must be released with this free, never libc free(). */
    void *(*alloc)(struct sluice_module_ctx *ctx, size_t n);
    void (*free)(struct sluice_module_ctx *ctx, void *p);

    /* Makes room for at least `extra` more bytes after buf->len (may move
     * buf->data).  Grows geometrically: the new capacity is at least twice
     * the old one, so reserving small steps is cheap; the capacity may thus
     * exceed len + extra (bytes beyond len are never read by the host).  Any thread, but never concurrently on the same buffer.
     * Returns 0, SLUICE_ERR_NOMEM, or SLUICE_ERR_TOO_LARGE when len + extra
     * would overflow. */
    int (*buf_reserve)(struct sluice_buf *buf, size_t extra);

    /* Loop: timers.  cb(ud) runs on the loop thread after `after_ms`, then
     * every `repeat_ms` if non-zero.  Returns a handle, or NULL when the host
     * has no event loop (e.g. `sluiced --list-modules`) or is out of memory.
     * The handle stays valid (also after a one-shot timer fired) until
     * timer_stop(), which stops and frees it and may be called from inside
     * cb.  Handles still open at unload are freed by the host after fini. */
    struct sluice_timer *(*timer_start)(struct sluice_module_ctx *ctx, uint64_t after_ms,
                                        uint64_t repeat_ms, sluice_cb_fn cb, void *ud);
    void (*timer_stop)(struct sluice_module_ctx *ctx, struct sluice_timer *t);

    /* Loop: fd readiness.  cb(ud, fd, revents) runs on the loop thread while
     * `fd` is ready for `events` (SLUICE_IO_READ|SLUICE_IO_WRITE; level
     * triggered).  The fd stays owned by the module; close it after
     * io_stop().  Same handle rules as timers. */
    struct sluice_io *(*io_start)(struct sluice_module_ctx *ctx, int fd, int events,
                                  sluice_io_cb_fn cb, void *ud);
    void (*io_stop)(struct sluice_module_ctx *ctx, struct sluice_io *io);

    /* Loop: run cb(ud) soon on the loop thread.  The ONE host function meant
     * for module threads (tiered uploads, mirror fetches report back with
     * it); safe from any thread, including the loop thread.  Callbacks run in
     * post order.  Returns 0, SLUICE_ERR_NOMEM, or SLUICE_ERR_UNSUPPORTED
     * when the host has no loop.  Callbacks still queued when the module is
     * unloaded are dropped without being called, so the module must not
     * rely on one to free `ud` after fini has started. */
    int (*post)(struct sluice_module_ctx *ctx, sluice_cb_fn cb, void *ud);

    /* --- ABI 1.1 (check with SLUICE_HOST_HAS when targeting 1.0) --- */

    /* Metrics: finds or creates the series `desc` describes and stores its
     * handle in *out.  Returns 0; SLUICE_ERR_INVALID (bad name, labels,
     * buckets, type or struct_size); SLUICE_ERR_EXISTS (the name belongs to
     * the broker or another module, or was registered with another type,
     * label names or buckets); SLUICE_ERR_NOMEM; SLUICE_ERR_UNSUPPORTED (the
     * host has no registry, e.g. `sluiced --list-modules`).  The reason is
     * also logged at WARN under the module's name.  Registering the same
     * series twice returns the same handle.  The handle is valid until the
     * module's fini returns; the series disappears from the exposition when
     * the module is unloaded.  Loop thread (usually from init). */
    int (*metric_register)(struct sluice_module_ctx *ctx, const struct sluice_metric_desc *desc,
                           struct sluice_metric **out);
    /* Updates, lock-free and safe from ANY thread.  m may be NULL (no-op).
     * A call that does not fit the type is ignored: add on a counter with
     * v < 0 or NaN, set on a counter or histogram, observe on a non-
     * histogram. */
    void (*metric_add)(struct sluice_metric *m, double v);
    void (*metric_set)(struct sluice_metric *m, double v);
    void (*metric_observe)(struct sluice_metric *m, double v);

    /* Records: writes `len` bytes of `value` (borrowed for the call; NULL is
     * fine when len is 0) under `key` (a NUL-terminated string of
     * 1..SLUICE_RECORD_MAX_KEY bytes) in this module's namespace, replacing
     * any previous value.  The new value is visible to record_get at once;
     * done(ud, err) runs later on the loop thread when it is durable (may be
     * NULL).  Returns 0 (done will be called), or, without calling done:
     * SLUICE_ERR_INVALID (bad key), SLUICE_ERR_TOO_LARGE (len over
     * SLUICE_RECORD_MAX_VALUE), SLUICE_ERR_IO (the metadata log refused the
     * write), SLUICE_ERR_NOMEM, SLUICE_ERR_UNSUPPORTED (no metadata log:
     * `--list-modules`).  Acknowledgements still pending when the module is
     * unloaded are dropped without being called.  Loop thread; usable from
     * init through fini. */
    int (*record_put)(struct sluice_module_ctx *ctx, const char *key, const void *value,
                      size_t len, sluice_record_done_fn done, void *ud);
    /* Copies up to `cap` bytes of the value of `key` into buf (buf may be
     * NULL when cap is 0) and stores the value's full length in *len_r, so
     * a call with cap 0 sizes the buffer.  Returns 0, SLUICE_ERR_NOT_FOUND,
     * SLUICE_ERR_INVALID (bad key) or SLUICE_ERR_UNSUPPORTED.  Loop
     * thread. */
    int (*record_get)(struct sluice_module_ctx *ctx, const char *key, void *buf, size_t cap,
                      size_t *len_r);
    /* Removes `key`; same acknowledgement rules as record_put.  Returns 0,
     * SLUICE_ERR_NOT_FOUND (nothing written, done not called),
     * SLUICE_ERR_INVALID, SLUICE_ERR_IO, SLUICE_ERR_NOMEM or
     * SLUICE_ERR_UNSUPPORTED.  Loop thread. */
    int (*record_delete)(struct sluice_module_ctx *ctx, const char *key,
                         sluice_record_done_fn done, void *ud);
    /* Calls cb(ud, key, value, len) for every record of this module whose
     * key starts with `prefix` (NULL or "" for all), in byte order of the
     * keys.  cb may put and delete records: the keys are collected first,
     * and one deleted before its turn is skipped.  Returns 0 after the last
     * record, cb's non-zero value if it stopped the walk, SLUICE_ERR_NOMEM
     * or SLUICE_ERR_UNSUPPORTED.  Loop thread. */
    int (*record_iterate)(struct sluice_module_ctx *ctx, const char *prefix,
                          sluice_record_iter_fn cb, void *ud);

    /* Registers a service (module kinds must include SLUICE_KIND_SERVICE):
     * the host calls ops->start once the broker is up and ops->stop at
     * shutdown (see <sluice/service.h>).  `ops` is copied (up to its
     * struct_size); `state` is borrowed and passed back to start/stop.
     * Returns 0 or SLUICE_ERR_INVALID (kind not declared, struct_size too
     * small, no start), SLUICE_ERR_NOMEM; on failure the module load fails
     * with the reason even if init returns 0.  From init only. */
    int (*register_service)(struct sluice_module_ctx *ctx, const struct sluice_service_ops *ops,
                            void *state);

    /* Registers a partition assignor under ops->name (module kinds must
     * include SLUICE_KIND_ASSIGNOR); a module may register several names.
     * `ops` is copied (see <sluice/assignor.h>); `state` is borrowed and
     * handed to every ops call, possibly from several threads at once, until
     * fini; the module frees it in fini.  Returns 0, SLUICE_ERR_EXISTS when
     * another assignor already has that name, or SLUICE_ERR_INVALID (bad
     * name, size or missing assign).  On failure the host remembers the
     * reason and fails the module load with it even if init returns 0.
     * Loop thread, from init only.  Check SLUICE_HOST_HAS(host,
     * register_assignor) when the module must also load on a 1.0 host. */
    int (*register_assignor)(struct sluice_module_ctx *ctx, const struct sluice_assignor_ops *ops,
                             void *state);

    /* --- 1.2 --- */

    /* Registers a listener transport (module kinds must include
     * SLUICE_KIND_TRANSPORT) for the security protocols in ops->protocols
     * (see <sluice/transport.h>).  `ops` is copied up to its struct_size;
     * `state` is borrowed and passed to ops->listener_open until fini.
     * Returns 0, SLUICE_ERR_EXISTS when another transport already serves
     * one of those protocols, or SLUICE_ERR_INVALID (struct_size too small,
     * no protocols, PLAINTEXT/SASL_PLAINTEXT asked for, a required member
     * missing).  On failure the module load fails with the reason even if
     * init returns 0.  Loop thread, from init only.  Check
     * SLUICE_HOST_HAS(host, register_transport) when the module must also
     * load on a 1.1 host. */
    int (*register_transport)(struct sluice_module_ctx *ctx,
                              const struct sluice_transport_ops *ops, void *state);

    /* Registers a SASL mechanism under ops->mechanism (module kinds must
     * include SLUICE_KIND_SASL); a module may register several.  `ops` is
     * copied (see <sluice/sasl.h>); `state` is borrowed and handed to every
     * call until fini.  Returns 0, SLUICE_ERR_EXISTS (another module has
     * the mechanism) or SLUICE_ERR_INVALID (bad name, size or missing
     * callbacks); on failure the load fails with the reason.  From init
     * only. */
    int (*register_sasl_mechanism)(struct sluice_module_ctx *ctx,
                                   const struct sluice_sasl_mech_ops *ops, void *state);

    /* Registers the broker's authorizer (module kinds must include
     * SLUICE_KIND_AUTHORIZER); at most one per broker (SLUICE_ERR_EXISTS
     * otherwise).  Same copying and failure rules.  From init only. */
    int (*register_authorizer)(struct sluice_module_ctx *ctx,
                               const struct sluice_authorizer_ops *ops, void *state);
};

/* True when the host table has `member` (it was added in a minor no newer
 * than the host).  Needed only for members added after the minor you
 * target (SLUICE_TARGET_ABI_MINOR), since an older host never loads a
 * module that targets a newer minor:
 *     if (SLUICE_HOST_HAS(host, metric_register)) ... */
#define SLUICE_HOST_HAS(host, member)                                                              \
    ((host) != NULL &&                                                                             \
     offsetof(struct sluice_host_api, member) + sizeof(((struct sluice_host_api *)0)->member) <=  \
         (host)->size &&                                                                           \
     (host)->member != NULL)

#ifdef __cplusplus
}
#endif

#endif
