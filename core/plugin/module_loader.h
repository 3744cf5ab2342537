/* Module loader: dlopen()s Sluice modules, checks their ABI descriptor, runs
 * their init with the host API and keeps what they registered (codecs
 * indexed by Kafka codec id) in an explicit registry the broker owns.
 *
 * Threads: load/free and the loop setters run on the broker's loop thread;
 * module_registry_codec/compress/decompress/assignor may be called from any
 * thread once loading is over (the codec and assignor tables are not
 * modified after startup except by module_registry_free). */
#ifndef SLUICE_MODULE_LOADER_H
#define SLUICE_MODULE_LOADER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sluice/plugin.h>

struct ev_loop;
struct host_post_queue;
struct metrics_registry;
struct meta_store;

/* Returns the raw value of a config key or NULL when unset.  The string must
 * stay valid while module init runs.  The integrator wires this to the
 * broker config (core/config/). */
typedef const char *(*module_config_lookup_fn)(void *ud, const char *key);

/* Receives module log lines, already prefixed with "[<module>] ". */
typedef void (*module_log_fn)(void *ud, int level, const char *msg);

/* Default cap on one decompressed payload (decompression-bomb guard). */
#define MODULE_DEFAULT_MAX_DECOMPRESSED ((size_t)64 << 20)

/* One registered codec: a private copy of the module's ops. */
struct module_codec {
    struct sluice_codec_ops ops;
    void *state;
    struct sluice_module_ctx *owner;
};

/* One registered assignor name: a private copy of the module's ops. */
struct module_assignor {
    struct sluice_assignor_ops ops;
    void *state;
    struct sluice_module_ctx *owner;
};

/* One registered transport (host->register_transport): a private copy of
 * the module's ops, in the slot of each security protocol it serves. */
struct module_transport {
    struct sluice_transport_ops ops;
    void *state;
    struct sluice_module_ctx *owner;
};
#define MODULE_SECURITY_SLOTS 4 /* PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL */
/* One registered SASL mechanism (ABI 1.2): a private copy of the ops. */
struct module_sasl_mech {
    struct sluice_sasl_mech_ops ops;
    void *state;
    struct sluice_module_ctx *owner;
};

/* The registered authorizer (ABI 1.2); owner NULL when none. */
struct module_authorizer {
    struct sluice_authorizer_ops ops;
    void *state;
    struct sluice_module_ctx *owner;
};

/* One registered service (host->register_service), in registration order. */
struct module_service {
    struct module_service *next;
    struct sluice_service_ops ops; /* private copy, struct_size = ours */
    void *state;
    struct sluice_module_ctx *owner;
    int started;
};

struct module_registry {
    struct sluice_module_ctx *modules; /* load order; newest last */
    struct module_codec codecs[SLUICE_CODEC_ID_MAX + 1];
    struct module_service *services; /* registration order */
    /* By Kafka security protocol index (bit i of SLUICE_SECURITY_*). */
    struct module_transport transports[MODULE_SECURITY_SLOTS];

    module_config_lookup_fn config_lookup;
    void *config_ud;
    module_log_fn log_fn; /* NULL: stderr */
    void *log_ud;

    size_t max_decompressed; /* 0 means MODULE_DEFAULT_MAX_DECOMPRESSED */

    struct ev_loop *loop;          /* NULL until module_registry_set_loop */
    struct host_post_queue *posts; /* post() queue + ev_async, with the loop */

    /* Assignors in registration order (few: a linear search by name is
     * fine).  Written only while modules load/unload on the loop thread. */
    struct module_assignor *assignors;
    size_t nassignors, cap_assignors;

    /* Borrowed from the broker (NULL: metric_register / record_* answer
     * SLUICE_ERR_UNSUPPORTED).  Both must outlive module_registry_free. */
    struct metrics_registry *metrics;
    struct meta_store *meta;

    /* Security modules (security_registry.c), registration order. */
    struct module_sasl_mech *sasl_mechs;
    size_t nsasl, cap_sasl;
    struct module_authorizer authorizer;
};

/* Zeroes the registry; no allocation.  Free with module_registry_free. */
void module_registry_init(struct module_registry *reg);

/* Config key lookup used by host->config_get_*. */
void module_registry_set_config(struct module_registry *reg, module_config_lookup_fn fn, void *ud);

/* Where module log lines go (default: stderr). */
void module_registry_set_log(struct module_registry *reg, module_log_fn fn, void *ud);

/* Gives modules the broker's loop for timer/io/post.  Call before loading
 * modules that use the loop, on the loop thread.  Returns 0 or -1 (err). */
int module_registry_set_loop(struct module_registry *reg, struct ev_loop *loop, char *err,
                             size_t errlen);

/* The broker's metrics registry and metadata store, for the host API's
 * metric_* and record_* (ABI 1.1).  Set before loading modules. */
void module_registry_set_metrics(struct module_registry *reg, struct metrics_registry *m);
void module_registry_set_meta(struct module_registry *reg, struct meta_store *ms);

/* Calls every registered service's start(), in registration order, on the
 * loop thread.  On the first failure stops the ones already started
 * (newest first) and returns -1 with one message naming the module, file
 * and service.  Returns 0 otherwise. */
int module_registry_start_services(struct module_registry *reg, char *err, size_t errlen);

/* Calls stop() on every started service, newest first.  Idempotent;
 * module_registry_free calls it too. */
void module_registry_stop_services(struct module_registry *reg);

/* Loads one module.  `name` is a module name ([a-z0-9_]+), resolved as
 * <plugin_dir>/<name>.so (plugin_dir NULL: SLUICE_MODULE_DIR), or an
 * absolute path to a .so whose basename (minus .so) is the name.  Checks the
 * descriptor (ABI major equal, minor not newer, struct_size, name, kinds,
 * flags), refuses duplicates, then runs init.  Returns 0, or -1 with one
 * message naming the module and file in err. */
int module_load(struct module_registry *reg, const char *name, const char *plugin_dir, char *err,
                size_t errlen);

/* Loads a comma/space separated list (the value of `module.load`), in order;
 * stops at the first failure.  Returns 0 or -1 (err). */
int module_load_list(struct module_registry *reg, const char *list, const char *plugin_dir,
                     char *err, size_t errlen);

/* Stops the services, then unloads every module newest-first: unregister
 * codecs and services, fini, release leftover watchers/posts/record acks,
 * unregister metrics, dlclose.  Also tears down the post queue.  The
 * registry is re-initialised and can be reused (the metrics and meta
 * pointers are kept). */
void module_registry_free(struct module_registry *reg);

/* The codec registered for a Kafka codec id, or NULL. */
const struct module_codec *module_registry_codec(const struct module_registry *reg, int codec_id);

/* The assignor registered under `name` (exact, case-sensitive), or NULL.
 * Any thread once loading is over.  See plugin/assignor.h for running one. */
const struct module_assignor *module_registry_assignor(const struct module_registry *reg,
                                                       const char *name);

/* The transport serving security protocol index `proto` (0 PLAINTEXT, 1
 * SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL, as enum listener_security), or NULL. */
const struct module_transport *module_registry_transport(const struct module_registry *reg,
                                                         int proto);
/* The SASL mechanism registered under `name` (case-sensitive, as Kafka
 * compares mechanism names), or NULL; and all of them in registration
 * order. */
const struct module_sasl_mech *module_registry_sasl_mech(const struct module_registry *reg,
                                                         const char *name);
const struct module_sasl_mech *module_registry_sasl_mechs(const struct module_registry *reg,
                                                          size_t *n);
/* The authorizer, or NULL when no module registered one. */
const struct module_authorizer *module_registry_authorizer(const struct module_registry *reg);

/* Number of loaded modules and lookup by name (NULL when absent). */
size_t module_registry_count(const struct module_registry *reg);
const struct sluice_module *module_registry_find(const struct module_registry *reg,
                                                 const char *name);

/* rb_decompress_fn for the log store: decompresses `in` with codec `codec`
 * into a malloc'd *out (caller frees; non-NULL even when *outlen == 0).
 * Returns 0, 76 (UNSUPPORTED_COMPRESSION_TYPE) when no module provides the
 * codec, or 2 (CORRUPT_MESSAGE) when the payload is corrupt or would
 * decompress beyond the registry's max_decompressed.  Codec 0 (none) is a
 * plain copy.  `registry` is a struct module_registry *. */
int module_registry_decompress(void *registry, int codec, const uint8_t *in, size_t inlen,
                               uint8_t **out, size_t *outlen);

/* Same contract for compression (down-conversion, topic compression.type):
 * level SLUICE_CODEC_LEVEL_DEFAULT uses the module's configured level.
 * Returns 0, 76, or 2 when the codec fails (detail is logged). */
int module_registry_compress(void *registry, int codec, int level, const uint8_t *in,
                             size_t inlen, uint8_t **out, size_t *outlen);

/* `sluiced --list-modules`: one line per *.so in dir (sorted), either
 *   <name> <version> abi <M>.<m> kinds <k1,k2> [<description>]
 * or
 *   <file>: not loadable: <reason>
 * Does not run init.  Returns the number of loadable modules, or -1 when
 * the directory can't be read (message on `out`). */
int module_list_dir(const char *dir, FILE *out);

/* Comma-separated kind names for a kinds bit set, e.g. "codec,service". */
void module_kinds_str(uint32_t kinds, char *buf, size_t len);

#endif
