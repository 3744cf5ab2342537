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
 * (timer, io, post).  Exceptions: log/vlog, alloc/free and buf_reserve are
 * safe from any thread, post is made for calling from module threads, and
 * config_get_* are only guaranteed inside init.
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
struct sluice_buf;

/* Opaque handles for loop watchers.  No libev type crosses the ABI. */
struct sluice_timer;
struct sluice_io;

/* io_start() event mask bits (also the `revents` passed to the callback). */
#define SLUICE_IO_READ 0x1
#define SLUICE_IO_WRITE 0x2

typedef void (*sluice_cb_fn)(void *ud);
typedef void (*sluice_io_cb_fn)(void *ud, int fd, int revents);

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
};

/* True when the host table has `member` (it was added in a minor no newer
 * than the host).  Use for members added after the minor you built for:
 *     if (SLUICE_HOST_HAS(host, register_codec)) ... */
#define SLUICE_HOST_HAS(host, member)                                                              \
    ((host) != NULL &&                                                                             \
     offsetof(struct sluice_host_api, member) + sizeof(((struct sluice_host_api *)0)->member) <=  \
         (host)->size &&                                                                           \
     (host)->member != NULL)

#ifdef __cplusplus
}
#endif

#endif
