/* Module loader and registry: dlopen, descriptor checks (the ABI rule
 * abi_major == SLUICE_ABI_MAJOR && abi_minor <= SLUICE_ABI_MINOR), init with
 * the host table, the codec table, unload, and `--list-modules`.
 *
 * Every refusal produces exactly one message naming the module and the file
 * and, for ABI problems, the got/expected values, because that message is
 * what an operator sees when a third-party module was built for another
 * broker. */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin/host_api.h"
#include "plugin/module_loader.h"

#ifndef SLUICE_MODULE_DIR
#define SLUICE_MODULE_DIR "/usr/local/lib/sluice/modules"
#endif

/* Kafka error codes returned by the (de)compress glue. */
#define KAFKA_CORRUPT_MESSAGE 2
#define KAFKA_UNSUPPORTED_COMPRESSION_TYPE 76

static void reg_log(struct module_registry *reg, int level, const char *fmt, ...)
    SLUICE_PRINTF(3, 4);

static void reg_log(struct module_registry *reg, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (reg->log_fn)
        reg->log_fn(reg->log_ud, level, msg);
    else
        fprintf(stderr, "sluiced: %s\n", msg);
}

void module_registry_init(struct module_registry *reg) { memset(reg, 0, sizeof *reg); }

void module_registry_set_config(struct module_registry *reg, module_config_lookup_fn fn, void *ud)
{
    reg->config_lookup = fn;
    reg->config_ud = ud;
}

void module_registry_set_log(struct module_registry *reg, module_log_fn fn, void *ud)
{
    reg->log_fn = fn;
    reg->log_ud = ud;
}

void module_registry_set_metrics(struct module_registry *reg, struct metrics_registry *m)
{
    reg->metrics = m;
}

void module_registry_set_meta(struct module_registry *reg, struct meta_store *ms)
{
    reg->meta = ms;
}

int module_registry_set_loop(struct module_registry *reg, struct ev_loop *loop, char *err,
                             size_t errlen)
{
    if (reg->loop) {
        snprintf(err, errlen, "module registry already has an event loop");
        return -1;
    }
    if (host_posts_start(reg, loop, err, errlen) != 0)
        return -1;
    reg->loop = loop;
    return 0;
}

void module_kinds_str(uint32_t kinds, char *buf, size_t len)
{
    static const char *const names[] = {"codec",      "transport", "sasl",   "authorizer",
                                        "assignor",   "remote_storage", "service"};
    size_t pos = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (unsigned i = 0; i < 32; i++) {
        if (!(kinds & (1u << i)))
            continue;
        char unk[16];
        const char *n = i < sizeof names / sizeof names[0] ? names[i] : unk;
        if (n == unk)
            snprintf(unk, sizeof unk, "bit%u", i);
        int w = snprintf(buf + pos, len - pos, "%s%s", pos ? "," : "", n);
        if (w < 0 || (size_t)w >= len - pos)
            return;
        pos += (size_t)w;
    }
    if (pos == 0)
        snprintf(buf, len, "none");
}

/* ---------------------------------------------------------------------- */
/* Name and path resolution                                                */

static int valid_module_name(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Splits `spec` (a name or an absolute .so path) into the module name and
 * the file path.  Returns 0 or -1 with err. */
static int resolve(const char *spec, const char *plugin_dir, char **name_r, char **path_r, char *err,
                   size_t errlen)
{
    const char *base;
    size_t blen;
    char *path;
    if (spec[0] == '/') {
        base = strrchr(spec, '/') + 1;
        blen = strlen(base);
        if (blen < 4 || strcmp(base + blen - 3, ".so") != 0) {
            snprintf(err, errlen, "module path '%s' does not name a .so file", spec);
            return -1;
        }
        blen -= 3;
        path = strdup(spec);
    } else {
        base = spec;
        blen = strlen(spec);
        if (!valid_module_name(base, blen)) {
            snprintf(err, errlen,
                     "invalid module name '%s' (use [a-z0-9_]+ or an absolute path to a .so)", spec);
            return -1;
        }
        const char *dir = plugin_dir && *plugin_dir ? plugin_dir : SLUICE_MODULE_DIR;
        size_t n = strlen(dir) + blen + 5;
        path = malloc(n);
        if (path)
            snprintf(path, n, "%s/%.*s.so", dir, (int)blen, base);
    }
    if (!valid_module_name(base, blen)) {
        snprintf(err, errlen, "module file '%s': '%.*s' is not a valid module name ([a-z0-9_]+)",
                 spec, (int)blen, base);
        free(path);
        return -1;
    }
    char *name = strndup(base, blen);
    if (!path || !name) {
        free(path);
        free(name);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *name_r = name;
    *path_r = path;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Descriptor checks, shared by module_load and module_list_dir.  Copies the
 * part of the descriptor the module declared into *out (rest zeroed).     */

static int check_descriptor(const struct sluice_module *m, const char *name, const char *path,
                            struct sluice_module *out, char *err, size_t errlen)
{
    if (m->abi_major != SLUICE_ABI_MAJOR) {
        snprintf(err, errlen,
                 "module '%s' (%s): plugin ABI major mismatch: got %u.%u, expected %d.x "
                 "(rebuild the module against this broker's <sluice/plugin.h>)",
                 name, path, m->abi_major, m->abi_minor, SLUICE_ABI_MAJOR);
        return -1;
    }
    if (m->abi_minor > SLUICE_ABI_MINOR) {
        snprintf(err, errlen,
                 "module '%s' (%s): plugin ABI %u.%u is newer than this broker: got minor %u, "
                 "expected <= %d (upgrade the broker or rebuild the module)",
                 name, path, m->abi_major, m->abi_minor, m->abi_minor, SLUICE_ABI_MINOR);
        return -1;
    }
    if (m->struct_size < SLUICE_MODULE_MIN_SIZE_V1_0) {
        snprintf(err, errlen,
                 "module '%s' (%s): descriptor struct_size %zu is smaller than the ABI %d.0 "
                 "minimum %zu",
                 name, path, m->struct_size, SLUICE_ABI_MAJOR, (size_t)SLUICE_MODULE_MIN_SIZE_V1_0);
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, m, m->struct_size < sizeof *out ? m->struct_size : sizeof *out);
    out->struct_size = sizeof *out;
    if (!out->name || strcmp(out->name, name) != 0) {
        snprintf(err, errlen,
                 "module '%s' (%s): descriptor declares name '%s' (the name must match the file "
                 "name)",
                 name, path, out->name ? out->name : "(null)");
        return -1;
    }
    if (!out->init) {
        snprintf(err, errlen, "module '%s' (%s): descriptor has no init function", name, path);
        return -1;
    }
    if (out->kinds == 0 || (out->kinds & ~SLUICE_KIND_ALL_V1_0)) {
        snprintf(err, errlen,
                 "module '%s' (%s): invalid kinds 0x%x (known kind bits: 0x%x, at least one)",
                 name, path, out->kinds, SLUICE_KIND_ALL_V1_0);
        return -1;
    }
    if (out->flags & ~SLUICE_MODULE_FLAGS_V1_0) {
        snprintf(err, errlen, "module '%s' (%s): unknown flag bits 0x%x", name, path, out->flags);
        return -1;
    }
    return 0;
}

/* dlopen + dlsym; on failure one message naming module and file. */
static void *open_module(const char *name, const char *path, const struct sluice_module **m_r,
                         char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "module '%s': cannot load %s: %s", name, path, strerror(errno));
        return NULL;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        snprintf(err, errlen, "module '%s': cannot load %s: %s", name, path, e ? e : "dlopen failed");
        return NULL;
    }
    dlerror();
    const struct sluice_module *m = dlsym(dl, SLUICE_MODULE_SYMBOL);
    if (!m) {
        snprintf(err, errlen,
                 "module '%s': %s does not export the '%s' symbol (not a Sluice module?)", name,
                 path, SLUICE_MODULE_SYMBOL);
        dlclose(dl);
        return NULL;
    }
    *m_r = m;
    return dl;
}

/* ---------------------------------------------------------------------- */

static struct sluice_module_ctx *find_ctx(const struct module_registry *reg, const char *name)
{
    for (struct sluice_module_ctx *c = reg->modules; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void unlink_ctx(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    for (struct sluice_module_ctx **pp = &reg->modules; *pp; pp = &(*pp)->next)
        if (*pp == ctx) {
            *pp = ctx->next;
            return;
        }
}

static void drop_codecs(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    for (int i = 0; i <= SLUICE_CODEC_ID_MAX; i++)
        if (reg->codecs[i].owner == ctx)
            memset(&reg->codecs[i], 0, sizeof reg->codecs[i]);
}

static void drop_assignors(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    size_t j = 0;
    for (size_t i = 0; i < reg->nassignors; i++)
        if (reg->assignors[i].owner != ctx)
            reg->assignors[j++] = reg->assignors[i];
    reg->nassignors = j;
}

static void drop_transports(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    for (int i = 0; i < MODULE_SECURITY_SLOTS; i++)
        if (reg->transports[i].owner == ctx)
            memset(&reg->transports[i], 0, sizeof reg->transports[i]);
}

static void drop_services(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    struct module_service **pp = &reg->services;
    while (*pp) {
        struct module_service *sv = *pp;
        if (sv->owner == ctx) {
            if (sv->started && sv->ops.stop)
                sv->ops.stop(sv->state);
            *pp = sv->next;
            free(sv);
        } else {
            pp = &sv->next;
        }
    }
}

/* Unregisters, finis (when init succeeded), releases and closes one module. */
static void unload_ctx(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    drop_services(reg, ctx);
    drop_codecs(reg, ctx);
    drop_assignors(reg, ctx);
    drop_transports(reg, ctx);
    security_registry_drop(reg, ctx);
    if (ctx->initialized && ctx->desc.fini)
        ctx->desc.fini(host_api_table(), ctx);
    host_ctx_release(ctx);
    size_t leaked = atomic_load(&ctx->alloc_bytes);
    if (leaked)
        reg_log(reg, SLUICE_LOG_WARN, "[%s] unloaded with %zu bytes still allocated", ctx->name,
                leaked);
    unlink_ctx(reg, ctx);
    if (ctx->dl)
        dlclose(ctx->dl);
    free(ctx->name);
    free(ctx->path);
    free(ctx);
}

int module_load(struct module_registry *reg, const char *spec, const char *plugin_dir, char *err,
                size_t errlen)
{
    char *name, *path;
    if (!spec || resolve(spec, plugin_dir, &name, &path, err, errlen) != 0) {
        if (!spec)
            snprintf(err, errlen, "no module name given");
        return -1;
    }
    struct sluice_module_ctx *dup = find_ctx(reg, name);
    if (dup) {
        snprintf(err, errlen, "module '%s' (%s): already loaded from %s", name, path, dup->path);
        goto fail;
    }
    const struct sluice_module *m;
    void *dl = open_module(name, path, &m, err, errlen);
    if (!dl)
        goto fail;
    struct sluice_module desc;
    if (check_descriptor(m, name, path, &desc, err, errlen) != 0) {
        dlclose(dl);
        goto fail;
    }
    struct sluice_module_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        dlclose(dl);
        snprintf(err, errlen, "module '%s': out of memory", name);
        goto fail;
    }
    ctx->reg = reg;
    ctx->desc = desc;
    ctx->dl = dl;
    ctx->name = name;
    ctx->path = path;
    atomic_init(&ctx->alloc_bytes, 0);
    /* Append so load order is config order (newest last). */
    struct sluice_module_ctx **tail = &reg->modules;
    while (*tail)
        tail = &(*tail)->next;
    *tail = ctx;

    char merr[512] = "";
    int rc = desc.init(host_api_table(), ctx, merr, sizeof merr);
    merr[sizeof merr - 1] = '\0';
    if (rc == 0)
        ctx->initialized = 1;
    if (rc != 0 || ctx->reg_failed) {
        /* A failed registration wins: it is the precise reason, whereas
         * the module's own message is often just "register failed". */
        const char *why = ctx->reg_failed ? ctx->reg_err : merr[0] ? merr : "no reason given";
        if (rc != 0)
            snprintf(err, errlen, "module '%s' (%s): init failed (%d): %s", name, path, rc, why);
        else
            snprintf(err, errlen, "module '%s' (%s): init failed: %s", name, path, why);
        unload_ctx(reg, ctx); /* frees name and path */
        return -1;
    }
    char kinds[128];
    module_kinds_str(desc.kinds, kinds, sizeof kinds);
    reg_log(reg, SLUICE_LOG_INFO, "loaded module '%s' %s (abi %u.%u, %s) from %s", ctx->name,
            desc.version ? desc.version : "-", desc.abi_major, desc.abi_minor, kinds, ctx->path);
    return 0;

fail:
    free(name);
    free(path);
    return -1;
}

int module_load_list(struct module_registry *reg, const char *list, const char *plugin_dir,
                     char *err, size_t errlen)
{
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        char *one = strndup(p, n);
        if (!one) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        int rc = module_load(reg, one, plugin_dir, err, errlen);
        free(one);
        if (rc != 0)
            return -1;
        p += n;
    }
    return 0;
}

int module_registry_start_services(struct module_registry *reg, char *err, size_t errlen)
{
    for (struct module_service *sv = reg->services; sv; sv = sv->next) {
        if (sv->started)
            continue;
        char serr[512] = "";
        int rc = sv->ops.start(sv->state, serr, sizeof serr);
        serr[sizeof serr - 1] = '\0';
        if (rc != 0) {
            snprintf(err, errlen, "module '%s' (%s): service %s failed to start (%d): %s",
                     sv->owner->name, sv->owner->path, sv->ops.name, rc,
                     serr[0] ? serr : "no reason given");
            module_registry_stop_services(reg);
            return -1;
        }
        sv->started = 1;
        reg_log(reg, SLUICE_LOG_INFO, "[%s] service %s started", sv->owner->name, sv->ops.name);
    }
    return 0;
}

void module_registry_stop_services(struct module_registry *reg)
{
    /* Newest first: walk for the last started one until none is left. */
    for (;;) {
        struct module_service *last = NULL;
        for (struct module_service *sv = reg->services; sv; sv = sv->next)
            if (sv->started)
                last = sv;
        if (!last)
            return;
        last->started = 0;
        if (last->ops.stop)
            last->ops.stop(last->state);
        reg_log(reg, SLUICE_LOG_INFO, "[%s] service %s stopped", last->owner->name, last->ops.name);
    }
}

void module_registry_free(struct module_registry *reg)
{
    module_registry_stop_services(reg);
    /* Newest first, so a module never outlives one it was loaded after. */
    while (reg->modules) {
        struct sluice_module_ctx *last = reg->modules;
        while (last->next)
            last = last->next;
        unload_ctx(reg, last);
    }
    host_posts_stop(reg);
    reg->loop = NULL;
    memset(reg->codecs, 0, sizeof reg->codecs);
    memset(reg->transports, 0, sizeof reg->transports);
    security_registry_free(reg);
    free(reg->assignors);
    reg->assignors = NULL;
    reg->nassignors = reg->cap_assignors = 0;
    reg->services = NULL;
}

const struct module_codec *module_registry_codec(const struct module_registry *reg, int codec_id)
{
    if (codec_id <= SLUICE_CODEC_NONE || codec_id > SLUICE_CODEC_ID_MAX)
        return NULL;
    return reg->codecs[codec_id].owner ? &reg->codecs[codec_id] : NULL;
}

const struct module_assignor *module_registry_assignor(const struct module_registry *reg,
                                                       const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < reg->nassignors; i++)
        if (strcmp(reg->assignors[i].ops.name, name) == 0)
            return &reg->assignors[i];
    return NULL;
}

const struct module_transport *module_registry_transport(const struct module_registry *reg,
                                                         int proto)
{
    if (proto < 0 || proto >= MODULE_SECURITY_SLOTS)
        return NULL;
    return reg->transports[proto].owner ? &reg->transports[proto] : NULL;
}

size_t module_registry_count(const struct module_registry *reg)
{
    size_t n = 0;
    for (struct sluice_module_ctx *c = reg->modules; c; c = c->next)
        n++;
    return n;
}

const struct sluice_module *module_registry_find(const struct module_registry *reg,
                                                 const char *name)
{
    struct sluice_module_ctx *c = find_ctx(reg, name);
    return c ? &c->desc : NULL;
}

/* ---------------------------------------------------------------------- */
/* (De)compression glue for the log store and the broker.                  */

static int copy_out(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    *out = malloc(inlen ? inlen : 1);
    if (!*out)
        return KAFKA_CORRUPT_MESSAGE; /* no better Kafka code for ENOMEM here */
    if (inlen)
        memcpy(*out, in, inlen);
    *outlen = inlen;
    return 0;
}

int module_registry_decompress(void *registry, int codec, const uint8_t *in, size_t inlen,
                               uint8_t **out, size_t *outlen)
{
    struct module_registry *reg = registry;
    *out = NULL;
    *outlen = 0;
    if (codec == SLUICE_CODEC_NONE)
        return copy_out(in, inlen, out, outlen);
    const struct module_codec *c = module_registry_codec(reg, codec);
    if (!c)
        return KAFKA_UNSUPPORTED_COMPRESSION_TYPE;
    size_t max = reg->max_decompressed ? reg->max_decompressed : MODULE_DEFAULT_MAX_DECOMPRESSED;
    struct sluice_buf b = {0};
    char err[256] = "";
    int rc = c->ops.decompress(c->state, in, inlen, max, &b, err, sizeof err);
    if (rc == 0 && b.len > max) {
        snprintf(err, sizeof err, "codec returned %zu bytes, over the %zu limit", b.len, max);
        rc = SLUICE_ERR_TOO_LARGE;
    }
    if (rc != 0) {
        err[sizeof err - 1] = '\0';
        /* Debug only: a client can trigger this at will. */
        reg_log(reg, SLUICE_LOG_DEBUG, "[%s] %s decompress of %zu bytes failed (%d): %s",
                c->owner->name, c->ops.name, inlen, rc, err);
        free(b.data);
        return KAFKA_CORRUPT_MESSAGE;
    }
    if (!b.data && !(b.data = malloc(1)))
        return KAFKA_CORRUPT_MESSAGE;
    *out = b.data;
    *outlen = b.len;
    return 0;
}

int module_registry_compress(void *registry, int codec, int level, const uint8_t *in,
                             size_t inlen, uint8_t **out, size_t *outlen)
{
    struct module_registry *reg = registry;
    *out = NULL;
    *outlen = 0;
    if (codec == SLUICE_CODEC_NONE)
        return copy_out(in, inlen, out, outlen);
    const struct module_codec *c = module_registry_codec(reg, codec);
    if (!c)
        return KAFKA_UNSUPPORTED_COMPRESSION_TYPE;
    struct sluice_buf b = {0};
    char err[256] = "";
    int rc = c->ops.compress(c->state, level, in, inlen, &b, err, sizeof err);
    if (rc != 0) {
        err[sizeof err - 1] = '\0';
        reg_log(reg, SLUICE_LOG_WARN, "[%s] %s compress of %zu bytes failed (%d): %s",
                c->owner->name, c->ops.name, inlen, rc, err);
        free(b.data);
        return KAFKA_CORRUPT_MESSAGE;
    }
    if (!b.data && !(b.data = malloc(1)))
        return KAFKA_CORRUPT_MESSAGE;
    *out = b.data;
    *outlen = b.len;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* --list-modules                                                          */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int module_list_dir(const char *dir, FILE *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(out, "cannot read module directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **files = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".so") != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nf = realloc(files, nc * sizeof *nf);
            if (!nf)
                break;
            files = nf;
            cap = nc;
        }
        if ((files[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n)
        qsort(files, n, sizeof *files, cmp_str);
    int loadable = 0;
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + strlen(files[i]) + 2;
        size_t nlen = strlen(files[i]) - 3;
        char *path = malloc(plen);
        char *name = strndup(files[i], nlen);
        char err[512];
        if (!path || !name) {
            free(path);
            free(name);
            free(files[i]);
            continue;
        }
        snprintf(path, plen, "%s/%s", dir, files[i]);
        const struct sluice_module *m;
        struct sluice_module desc;
        void *dl = NULL;
        if (!valid_module_name(name, nlen)) {
            snprintf(err, sizeof err, "'%s' is not a valid module name ([a-z0-9_]+)", name);
        } else if ((dl = open_module(name, path, &m, err, sizeof err)) != NULL &&
                   check_descriptor(m, name, path, &desc, err, sizeof err) == 0) {
            char kinds[128];
            module_kinds_str(desc.kinds, kinds, sizeof kinds);
            fprintf(out, "%-20s %-10s abi %u.%u  kinds %-12s %s\n", desc.name,
                    desc.version ? desc.version : "-", desc.abi_major, desc.abi_minor, kinds,
                    desc.description ? desc.description : "");
            loadable++;
        } else {
            fprintf(out, "%s: not loadable: %s\n", files[i], err);
        }
        if (dl)
            dlclose(dl);
        free(name);
        free(path);
        free(files[i]);
    }
    free(files);
    return loadable;
}
