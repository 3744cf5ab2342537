/* Sluice plugin ABI: the public, versioned contract between the sluiced
 * broker (the "host") and loadable modules (shared objects).
 *
 * A module includes only this header (it pulls in <sluice/host.h>,
 * <sluice/codec.h>, <sluice/service.h>, <sluice/assignor.h>,
 * <sluice/transport.h> and <sluice/kinds.h>), exports
 * exactly one data symbol, `sluice_module`, and never links against the
 * broker: everything it may call arrives as the function table passed to its
 * init().
 *
 * ABI rules
 * ---------
 * 1. A module is loaded only when
 *        module.abi_major == SLUICE_ABI_MAJOR && module.abi_minor <= SLUICE_ABI_MINOR
 *    so a module built against an older minor of the same major keeps
 *    working; one built against a newer minor or another major is refused
 *    with a message naming the file and the got/expected values.
 * 2. Minor bumps only ever APPEND: new members at the end of a struct, new
 *    kind bits, new flag bits, new error codes.  Nothing is reordered,
 *    resized or removed within a major; removing or changing anything is a
 *    major bump.  The first seven members of struct sluice_module are frozen
 *    even across majors, so any host can explain a refusal.
 * 3. Every struct that crosses the boundary starts with its size
 *    (`struct_size` / `size`) and the reader only looks at the members that
 *    fit inside the size the writer declared, so an older module (smaller
 *    struct) and a newer host, or the reverse for the host table,
 *    interoperate.  Test host members newer than the minor you target with
 *    SLUICE_HOST_HAS() (see SLUICE_TARGET_ABI_MINOR below).
 * No libev, OpenSSL or other third-party types cross the boundary; handles
 * are opaque pointers.
 *
 * Changelog (newest first; every entry names what was added or removed)
 * ---------
 * 2026-12-07  1.2  Transports, SASL mechanisms, the authorizer.
 *                  Added to struct sluice_host_api: register_transport
 *                  (the first 1.2 member, appended after
 *                  register_assignor).
 *                  Added: <sluice/transport.h> with struct
 *                  sluice_transport_ops (name, then protocols,
 *                  listener_open, listener_close, listener_reload, accept,
 *                  handshake, read, writev, sendfile, pending, want,
 *                  peer_principal, close; the 1.0 placeholder in kinds.h
 *                  was size + name, so the layout only grew), struct
 *                  sluice_transport_listener, SLUICE_SECURITY_*,
 *                  SLUICE_TRANSPORT_DONE/WANT_READ/WANT_WRITE,
 *                  SLUICE_TRANSPORT_OPS_MIN_SIZE_V1_2.
 *                  SASL mechanisms and the authorizer.
 *                  <sluice/sasl.h>: struct sluice_sasl_mech_ops (the 1.0
 *                  placeholder's struct_size + mechanism, then session_new,
 *                  step, principal, session_lifetime_ms, session_free,
 *                  credential_upsert/delete/get/list, scram_mechanism),
 *                  struct sluice_sasl_conn_info, SLUICE_SASL_DONE/
 *                  CONTINUE/FAIL, SLUICE_SCRAM_SHA_256/512,
 *                  sluice_sasl_credential_fn,
 *                  SLUICE_SASL_MECH_OPS_MIN_SIZE_V1_2.
 *                  <sluice/authorizer.h>: struct sluice_authorizer_ops
 *                  (struct_size + name, then authorize, create_acls,
 *                  describe_acls, delete_acls), struct sluice_acl_binding,
 *                  struct sluice_authz_action, sluice_acl_fn, Kafka's
 *                  SLUICE_ACL_OP_*, SLUICE_RES_*, SLUICE_PATTERN_*,
 *                  SLUICE_PERM_* codes, SLUICE_AUTHORIZER_OPS_MIN_SIZE_V1_2.
 *                  Appended to struct sluice_authorizer_ops (after
 *                  delete_acls, optional, not in the minimum size):
 *                  authorize_by_resource_type (Kafka's
 *                  authorizeByResourceType, for KIP-679).
 *                  Appended to struct sluice_host_api (after the 1.2
 *                  transport member): register_sasl_mechanism,
 *                  register_authorizer.
 * 2026-11-22  1.1  Metrics, durable records, services.
 *                  Added to struct sluice_host_api: metric_register,
 *                  metric_add, metric_set, metric_observe (labelled
 *                  counters/gauges/histograms in the broker's registry);
 *                  record_put, record_get, record_delete, record_iterate
 *                  (small durable key/value records per module, in the
 *                  metadata log, acknowledged after fsync);
 *                  register_service.
 *                  Added: struct sluice_metric_desc, SLUICE_METRIC_*,
 *                  sluice_record_done_fn, sluice_record_iter_fn,
 *                  SLUICE_RECORD_MAX_KEY/VALUE, SLUICE_ERR_IO,
 *                  SLUICE_TARGET_ABI_MINOR.
 *                  Changed (no layout change): struct sluice_service_ops
 *                  moved to <sluice/service.h> and gained start/stop.
 *                  Partition assignors: <sluice/assignor.h> with
 *                  struct sluice_assignor_ops (name, then assign,
 *                  next_step; the 1.0 placeholder was size + name, so the
 *                  layout only grew), sluice_assignor_group,
 *                  sluice_assignor_member, sluice_assignor_topic,
 *                  sluice_assignor_result, SLUICE_ASSIGNOR_UNASSIGNED,
 *                  SLUICE_ASSIGNOR_NO_RACK, SLUICE_ASSIGNOR_OPS_MIN_SIZE_V1_1,
 *                  SLUICE_ASSIGNOR_HAS; sluice_host_api.register_assignor
 *                  (appended after register_service).
 * 2026-11-22  1.0  First cut.
 *                  Added: struct sluice_module (frozen header: abi_major,
 *                  abi_minor, struct_size, name, version, kinds, flags;
 *                  then init, fini, description), SLUICE_MODULE_HEADER,
 *                  SLUICE_MODULE_DECLARE, SLUICE_EXPORT.
 *                  Added: struct sluice_host_api v1 (log, vlog,
 *                  config_get_string/int/bool, set_data/get_data,
 *                  register_codec, alloc, free, buf_reserve, timer_start,
 *                  timer_stop, io_start, io_stop, post), SLUICE_HOST_HAS.
 *                  Added: struct sluice_buf, struct sluice_codec_ops.
 *                  Added (placeholders, size only): sluice_transport_ops,
 *                  sluice_sasl_mech_ops, sluice_authorizer_ops,
 *                  sluice_assignor_ops, sluice_remote_storage_ops,
 *                  sluice_service_ops.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Versions                                                                */

#define SLUICE_ABI_MAJOR 1
#define SLUICE_ABI_MINOR 2

/* The minor a module declares in its descriptor (and so the oldest host
 * that will load it).  Defaults to the header's own minor.  A module that
 * wants to run on older hosts of the same major defines it lower before
 * including this header, and guards every host member added after that
 * minor with SLUICE_HOST_HAS():
 *     #define SLUICE_TARGET_ABI_MINOR 0
 *     #include <sluice/plugin.h>
 *     ... if (SLUICE_HOST_HAS(host, metric_register)) ...               */
#ifndef SLUICE_TARGET_ABI_MINOR
#define SLUICE_TARGET_ABI_MINOR SLUICE_ABI_MINOR
#endif

/* The one symbol the loader looks up with dlsym(). */
#define SLUICE_MODULE_SYMBOL "sluice_module"

/* Marks the descriptor as the module's only exported symbol.  Modules are
 * built with -fvisibility=hidden, so everything else stays private and two
 * modules can never clash on symbol names. */
#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_VISIBLE __attribute__((visibility("default")))
#define SLUICE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SLUICE_VISIBLE
#define SLUICE_PRINTF(f, a)
#endif
#ifdef __cplusplus
#define SLUICE_EXPORT extern "C" SLUICE_VISIBLE
#else
#define SLUICE_EXPORT SLUICE_VISIBLE
#endif

/* ---------------------------------------------------------------------- */
/* Errors: 0 is success, failures are negative SLUICE_ERR_* values.  Text
 * detail goes into a caller-supplied (char *err, size_t errlen) buffer,
 * always NUL-terminated when errlen > 0.                                  */

#define SLUICE_OK 0
#define SLUICE_ERR_GENERIC (-1)     /* anything not covered below */
#define SLUICE_ERR_NOMEM (-2)       /* allocation failed */
#define SLUICE_ERR_INVALID (-3)     /* bad argument or bad configuration value */
#define SLUICE_ERR_CORRUPT (-4)     /* input data is malformed (e.g. bad gzip stream) */
#define SLUICE_ERR_TOO_LARGE (-5)   /* output would exceed the caller's limit */
#define SLUICE_ERR_EXISTS (-6)      /* already registered / already loaded */
#define SLUICE_ERR_NOT_FOUND (-7)   /* no such key, module or codec */
#define SLUICE_ERR_UNSUPPORTED (-8) /* the host cannot do this (e.g. no event loop) */
#define SLUICE_ERR_IO (-9)          /* 1.1: a disk write or fsync failed */

/* Log levels for host->log(). */
#define SLUICE_LOG_ERROR 0
#define SLUICE_LOG_WARN 1
#define SLUICE_LOG_INFO 2
#define SLUICE_LOG_DEBUG 3

/* ---------------------------------------------------------------------- */
/* Module kinds: bit flags in sluice_module.kinds saying which ops vtables
 * the module registers from init().  A module may provide several kinds.
 * SLUICE_KIND_CODEC (1.0), SLUICE_KIND_SERVICE and SLUICE_KIND_ASSIGNOR
 * (1.1), SLUICE_KIND_TRANSPORT, SLUICE_KIND_SASL and SLUICE_KIND_AUTHORIZER
 * (1.2) have registration functions; the other bits are reserved so their
 * values never move, and are usable once the minor that adds their
 * register_* host function ships.  A register_* call for a kind the
 * descriptor does not declare fails.                                     */

#define SLUICE_KIND_CODEC (1u << 0)          /* compression codec (struct sluice_codec_ops) */
#define SLUICE_KIND_TRANSPORT (1u << 1)      /* listener transport (struct sluice_transport_ops) */
#define SLUICE_KIND_SASL (1u << 2)           /* SASL mechanism */
#define SLUICE_KIND_AUTHORIZER (1u << 3)     /* ACL authorizer */
#define SLUICE_KIND_ASSIGNOR (1u << 4)       /* consumer-group partition assignor */
#define SLUICE_KIND_REMOTE_STORAGE (1u << 5) /* tiered (remote log) storage */
#define SLUICE_KIND_SERVICE (1u << 6)        /* background service (struct sluice_service_ops) */
#define SLUICE_KIND_ALL_V1_0 0x7fu           /* every kind bit known to ABI 1.0 */

/* Module flags (sluice_module.flags).  ABI 1.0 defines none: the field must
 * be 0, and the loader refuses bits it does not know, so a later minor can
 * give them meaning safely. */
#define SLUICE_MODULE_FLAGS_V1_0 0u

/* ---------------------------------------------------------------------- */
/* Host-owned growable output buffer.
 *
 * The host creates it (data may be NULL with cap 0), a module appends bytes
 * at data + len after making room with host->buf_reserve(), then advances
 * len.  The module never frees or reallocs `data` itself: the memory belongs
 * to the host, which reads the first `len` bytes after the call returns.
 * Invariant: len <= cap.                                                  */
struct sluice_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

/* ---------------------------------------------------------------------- */
/* The module descriptor.
 *
 * Every module exports exactly one of these, named `sluice_module`, built
 * with SLUICE_MODULE_HEADER() / SLUICE_MODULE_DECLARE() so the ABI fields are
 * filled in from the header the module was compiled against.
 *
 * The first seven members are frozen for all ABI majors, so any future host
 * can read them to print a useful refusal message.                        */

struct sluice_host_api;   /* <sluice/host.h> */
struct sluice_module_ctx; /* opaque, owned by the host, one per loaded module */

struct sluice_module {
    /* --- frozen header (never changes, even across majors) --- */
    uint16_t abi_major;  /* SLUICE_ABI_MAJOR the module was built against */
    uint16_t abi_minor;  /* SLUICE_TARGET_ABI_MINOR: the oldest minor it runs on */
    size_t struct_size;  /* sizeof(struct sluice_module) at build time */
    const char *name;    /* must equal the file name without ".so"; [a-z0-9_]+.
                          * Also the config namespace (module.<name>.*) and
                          * the log prefix. */
    const char *version; /* module's own version string, free-form, e.g. "1.2.0" */
    uint32_t kinds;      /* SLUICE_KIND_* bits the module provides */
    uint32_t flags;      /* SLUICE_MODULE_F_*; 0 in ABI 1.0 */

    /* --- ABI 1.0 --- */

    /* Called once, on the broker's main (loop) thread, after the descriptor
     * passed the ABI checks.  `host` and `ctx` stay valid until fini()
     * returns; keep them (e.g. in the state given to host->set_data or to
     * register_codec).  Register every vtable the module provides from here.
     * Return 0, or a negative SLUICE_ERR_* with a message in err (the host
     * prefixes it with the module name and file).  When init fails, fini is
     * NOT called: release whatever init allocated before returning (timer
     * and io handles still open are freed by the host, and codecs it
     * registered are dropped).  If init returns 0 but a register_* call
     * failed, the load still fails and fini IS called. */
    int (*init)(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                size_t errlen);

    /* Called once on the loop thread at unload, only if init returned 0.
     * Modules are unloaded newest first, after every service's stop() ran
     * and the listeners closed.  By then the host has unregistered the
     * module's codecs, and the broker unloads modules only after its worker
     * threads stopped calling them.  Metric handles and record_* still work
     * inside fini.  After fini returns the host stops and frees any
     * timers/io watchers still open, drops queued post() callbacks and
     * record acknowledgements not yet delivered, unregisters the module's
     * metrics, then dlclose()s the module.  Must join any thread the module
     * started.  May be NULL. */
    void (*fini)(const struct sluice_host_api *host, struct sluice_module_ctx *ctx);

    /* One-line human description for `sluiced --list-modules`; may be NULL. */
    const char *description;
};

/* Fills the frozen header.  Use inside the initializer:
 *
 *   SLUICE_EXPORT const struct sluice_module sluice_module = {
 *       SLUICE_MODULE_HEADER("codec_gzip", "1.0.0", SLUICE_KIND_CODEC, 0),
 *       .init = gzip_init,
 *       .fini = gzip_fini,
 *   };
 */
#define SLUICE_MODULE_HEADER(name_, version_, kinds_, flags_)                                      \
    .abi_major = SLUICE_ABI_MAJOR, .abi_minor = SLUICE_TARGET_ABI_MINOR,                           \
    .struct_size = sizeof(struct sluice_module), .name = (name_), .version = (version_),           \
    .kinds = (kinds_), .flags = (flags_)

/* The whole descriptor in one line:
 *   SLUICE_MODULE_DECLARE("codec_gzip", "1.0.0", SLUICE_KIND_CODEC,
 *                         gzip_init, gzip_fini, "gzip compression (zlib)");  */
#define SLUICE_MODULE_DECLARE(name_, version_, kinds_, init_, fini_, description_)                 \
    SLUICE_EXPORT const struct sluice_module sluice_module = {                                     \
        SLUICE_MODULE_HEADER(name_, version_, kinds_, 0),                                          \
        .init = (init_),                                                                           \
        .fini = (fini_),                                                                           \
        .description = (description_),                                                             \
    }

/* Smallest struct_size the 1.0 loader accepts (everything up to fini). */
#define SLUICE_MODULE_MIN_SIZE_V1_0                                                                \
    (offsetof(struct sluice_module, fini) + sizeof(((struct sluice_module *)0)->fini))

#ifdef __cplusplus
}
#endif

#include <sluice/assignor.h>
#include <sluice/authorizer.h>
#include <sluice/codec.h>
#include <sluice/host.h>
#include <sluice/kinds.h>
#include <sluice/sasl.h>
#include <sluice/service.h>
#include <sluice/transport.h>

#endif
