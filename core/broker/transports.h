/* Module transports (ABI 1.2, <sluice/transport.h>) bound to the broker's
 * listeners: one listener_open per SSL/SASL_SSL listener at start-up, a
 * net transport factory that hands each accepted socket to the module,
 * reload on SIGHUP and listener_close at shutdown. */
#ifndef SLUICE_BROKER_TRANSPORTS_H
#define SLUICE_BROKER_TRANSPORTS_H

#include <stddef.h>

#include "net/connection.h"
#include "net/listener.h"

struct module_registry;
struct sluice_logger;
struct broker_transports;

/* Opens the module transport of every listener in specs whose protocol is
 * not plain TCP (SSL, SASL_SSL) and registers the factories with net.  A
 * listener whose protocol has no transport module fails with a message
 * naming the listener and what to load.  Returns NULL with err on failure
 * (everything opened so far closed again); a set (possibly empty) on
 * success, freed with broker_transports_free. */
struct broker_transports *broker_transports_open(struct module_registry *reg,
                                                 struct net_server *net,
                                                 const struct listener_spec *specs, size_t n,
                                                 struct sluice_logger *log, char *err,
                                                 size_t errlen);

/* Re-reads every listener's certificates (SIGHUP); failures are logged and
 * the old certificates stay.  Returns the number of listeners that failed. */
int broker_transports_reload(struct broker_transports *t);

/* listener_close for each; call after the net server (and so every
 * connection) is gone and before the modules unload.  NULL is fine. */
void broker_transports_free(struct broker_transports *t);

#endif
