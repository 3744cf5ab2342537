/* Sluice plugin ABI: placeholder vtables for the module kinds that ABI 1.0
 * reserves but does not yet let modules register.  Included by
 * <sluice/plugin.h>; see the changelog there.
 *
 * Each struct is only its size prefix (and a name) today (the assignor kind
 * graduated in 1.1 and lives in <sluice/assignor.h>).  Later 1.x minors
 * APPEND their callbacks and add the matching host->register_*() function at
 * the end of struct sluice_host_api; because every vtable is size-prefixed
 * and the host only reads what a module declared, that is a minor bump and
 * existing modules keep loading.  Do not register these kinds yet: an ABI
 * 1.0 host has no function to take them. */
#ifndef SLUICE_KINDS_H
#define SLUICE_KINDS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SLUICE_KIND_TRANSPORT: a byte transport under a listener.  Registrable
 * since ABI 1.2: struct sluice_transport_ops is in <sluice/transport.h>
 * (the 1.0 placeholder was size + name, so the layout only grew),
 * registered with host->register_transport(). */

/* SLUICE_KIND_SASL: registrable since ABI 1.2: struct sluice_sasl_mech_ops
 * (the 1.0 placeholder's size + mechanism, then the session callbacks) is
 * in <sluice/sasl.h>, registered with host->register_sasl_mechanism(). */

/* SLUICE_KIND_AUTHORIZER: registrable since ABI 1.2: struct
 * sluice_authorizer_ops (size + name, then authorize and the ACL admin
 * callbacks) is in <sluice/authorizer.h>, registered with
 * host->register_authorizer(). */

/* SLUICE_KIND_ASSIGNOR: a consumer-group partition assignor (KIP-848
 * server-side assignor).  Registrable since ABI 1.1: struct
 * sluice_assignor_ops and its input/output structs are in
 * <sluice/assignor.h>, registered with host->register_assignor(). */

/* SLUICE_KIND_REMOTE_STORAGE: tiered storage (KIP-405 RemoteStorageManager
 * shape: copy/fetch/delete segment), run on module threads that report back
 * with host->post(). */
struct sluice_remote_storage_ops {
    size_t struct_size;
    const char *name;
};

/* SLUICE_KIND_SERVICE: struct sluice_service_ops is in <sluice/service.h>
 * (ABI 1.1). */

#ifdef __cplusplus
}
#endif

#endif
