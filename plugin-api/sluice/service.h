/* Sluice plugin ABI: background services (SLUICE_KIND_SERVICE).  Included
 * by <sluice/plugin.h>; see the changelog there.
 *
 * A service is module code with a lifetime tied to the running broker
 * rather than to loading: it starts once the broker is up and stops before
 * it goes down, while the metadata log (record_*) and the metrics registry
 * are still there.  Work happens on the loop (timers, io, post) or on
 * threads the service starts and joins itself. */
#ifndef SLUICE_SERVICE_H
#define SLUICE_SERVICE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registered from init() with host->register_service (ABI 1.1).  The host
 * copies the struct (only the first struct_size bytes), so it may live in
 * read-only static storage; `name` must stay valid until fini. */
struct sluice_service_ops {
    size_t struct_size; /* sizeof(struct sluice_service_ops) at build time */
    const char *name;   /* shown in the broker log; NULL = the module name */

    /* --- ABI 1.1 --- */

    /* Called once on the loop thread after every module in module.load
     * initialised and the broker's listeners are bound, in load order,
     * before the loop starts.  Start timers, io watchers and threads here.
     * Return 0, or a negative SLUICE_ERR_* with a message in err: the
     * broker then stops start-up with "module '<name>' (<file>): service
     * <name> failed to start: <err>", calling stop() only for the services
     * that already started.  Required. */
    int (*start)(void *state, char *err, size_t errlen);

    /* Called once on the loop thread at shutdown (SIGTERM/SIGINT), only if
     * start returned 0, after the listeners closed, newest service first,
     * before any module's fini.  record_put still works (acknowledgements
     * may not be delivered any more, but the write itself is flushed when
     * the metadata log closes) and so do the metric handles.  Stop timers
     * and join threads here or in fini.  May be NULL. */
    void (*stop)(void *state);
};

/* Smallest struct_size accepted by a 1.1 host (everything up to stop). */
#define SLUICE_SERVICE_OPS_MIN_SIZE_V1_1                                                           \
    (offsetof(struct sluice_service_ops, stop) + sizeof(((struct sluice_service_ops *)0)->stop))

#ifdef __cplusplus
}
#endif

#endif
