/* Private to core/plugin: the host side of a loaded module (the struct that
 * modules only see as the opaque struct sluice_module_ctx) and the host API
 * table implementation in host_api.c. */
#ifndef SLUICE_HOST_API_INTERNAL_H
#define SLUICE_HOST_API_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "plugin/module_loader.h"

struct host_watch;      /* a timer or io watcher a module started */
struct host_record_ack; /* a record_put/delete acknowledgement not yet delivered */

struct sluice_module_ctx {
    struct sluice_module_ctx *next;
    struct module_registry *reg;
    struct sluice_module desc; /* copy of the first struct_size bytes, rest zeroed */
    void *dl;
    char *name;
    char *path;
    void *data;          /* host->set_data */
    int initialized;     /* init returned 0: fini is due */
    int reg_failed;      /* a register_* call failed during init */
    char reg_err[256];   /* ... and why */
    atomic_size_t alloc_bytes;
    struct host_watch *watches;
    struct host_record_ack *acks;
};

/* The host table handed to every module (read-only, shared). */
const struct sluice_host_api *host_api_table(void);

/* Formats and emits a host message attributed to ctx's module. */
void host_log_ctx(struct sluice_module_ctx *ctx, int level, const char *fmt, ...)
    SLUICE_PRINTF(3, 4);

/* Growable host buffer, also used by the registry's (de)compress glue. */
int host_buf_reserve(struct sluice_buf *buf, size_t extra);

/* After fini: stop and free every timer/io the module left open, drop its
 * queued post() callbacks and its undelivered record acknowledgements, and
 * unregister its metrics. */
void host_ctx_release(struct sluice_module_ctx *ctx);

/* Records a failed register_* call so the load fails with its reason. */
int host_reg_fail(struct sluice_module_ctx *ctx, int rc, const char *fmt, ...) SLUICE_PRINTF(3, 4);

/* The checks every register_<what> call shares: the module declares
 * `kind` (named kind_name in the error), init is still running when
 * during_init_only, the ops reach min_size (the ABI 1.<min_minor>
 * minimum).  Then dst = the first struct_size bytes of the module's ops
 * (every vtable starts with its size_t struct_size), zero-padded to
 * dst_size, with struct_size set to dst_size.  0 or the host_reg_fail code. */
int host_copy_ops(struct sluice_module_ctx *ctx, uint32_t kind, const char *kind_name,
                  const char *what, const void *ops, size_t min_size, int min_minor,
                  bool during_init_only, void *dst, size_t dst_size);

/* 1.2 registrations (security_registry.c) and their unload. */
int host_register_sasl_mechanism(struct sluice_module_ctx *ctx,
                                 const struct sluice_sasl_mech_ops *ops, void *state);
int host_register_authorizer(struct sluice_module_ctx *ctx, const struct sluice_authorizer_ops *ops,
                             void *state);
void security_registry_drop(struct module_registry *reg, struct sluice_module_ctx *ctx);
void security_registry_free(struct module_registry *reg);

/* post() queue bound to the registry's loop (ev_async). */
int host_posts_start(struct module_registry *reg, struct ev_loop *loop, char *err, size_t errlen);
void host_posts_stop(struct module_registry *reg);

#endif
