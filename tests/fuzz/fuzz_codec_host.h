/* A tiny stand-in for the broker's host API, for the codec fuzz targets.
 * Each target compiles one module's source straight into the fuzzer (so
 * libFuzzer instruments it), runs its init() against this table and keeps
 * the ops it registers.  Config lookups return the defaults. */
#ifndef SLUICE_FUZZ_CODEC_HOST_H
#define SLUICE_FUZZ_CODEC_HOST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

/* The cap the fuzzers decompress under: small, so a bomb is caught by the
 * module rather than by libFuzzer's memory limit. */
#define FUZZ_MAX_OUT ((size_t)1 << 20)

struct fuzz_codec {
    struct sluice_codec_ops ops;
    void *state;
    void *data;
    int ready;
};

static struct fuzz_codec fuzz_codec_slot;

static void fh_log(struct sluice_module_ctx *ctx, int level, const char *fmt, ...) {}
static void fh_vlog(struct sluice_module_ctx *ctx, int level, const char *fmt, va_list ap) {}
static const char *fh_str(struct sluice_module_ctx *ctx, const char *key, const char *def) { return def; }
static int fh_int(struct sluice_module_ctx *ctx, const char *key, int64_t def, int64_t *out)
{
    *out = def;
    return 0;
}
static int fh_bool(struct sluice_module_ctx *ctx, const char *key, int def, int *out)
{
    *out = def;
    return 0;
}
static void fh_set_data(struct sluice_module_ctx *ctx, void *data) { fuzz_codec_slot.data = data; }
static void *fh_get_data(struct sluice_module_ctx *ctx) { return fuzz_codec_slot.data; }
static int fh_register(struct sluice_module_ctx *ctx, const struct sluice_codec_ops *ops, void *state)
{
    memcpy(&fuzz_codec_slot.ops, ops, sizeof fuzz_codec_slot.ops);
    fuzz_codec_slot.state = state;
    return 0;
}
static void *fh_alloc(struct sluice_module_ctx *ctx, size_t n) { return malloc(n); }
static void fh_free(struct sluice_module_ctx *ctx, void *p) { free(p); }

/* Same growth rule as the host: at least double, so the modules' bounds
 * (capacity under 2x the limit) are checked against the real policy. */
static int fh_buf_reserve(struct sluice_buf *b, size_t extra)
{
    if (b->len > SIZE_MAX - extra)
        return SLUICE_ERR_TOO_LARGE;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return SLUICE_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

static const struct sluice_host_api fuzz_host = {
    .size = sizeof(struct sluice_host_api),
    .abi_major = SLUICE_ABI_MAJOR,
    .abi_minor = SLUICE_ABI_MINOR,
    .log = fh_log,
    .vlog = fh_vlog,
    .config_get_string = fh_str,
    .config_get_int = fh_int,
    .config_get_bool = fh_bool,
    .set_data = fh_set_data,
    .get_data = fh_get_data,
    .register_codec = fh_register,
    .alloc = fh_alloc,
    .free = fh_free,
    .buf_reserve = fh_buf_reserve,
};

extern const struct sluice_module sluice_module;

static const struct fuzz_codec *fuzz_codec_get(void)
{
    if (!fuzz_codec_slot.ready) {
        char err[256];
        if (sluice_module.init(&fuzz_host, (struct sluice_module_ctx *)&fuzz_codec_slot, err,
                               sizeof err) != 0) {
            fprintf(stderr, "module init failed: %s\n", err);
            abort();
        }
        fuzz_codec_slot.ready = 1;
    }
    return &fuzz_codec_slot;
}

/* Decompress `data` under FUZZ_MAX_OUT and check the codec contract: a
 * known result code, a NUL-terminated message on failure, never more than
 * max_out bytes kept on success nor more than max_out + 1 written, and a
 * buffer that did not grow past twice that.  On success, compressing the
 * output and decompressing it again must give it back. */
static int fuzz_codec_one(const uint8_t *data, size_t size)
{
    const struct fuzz_codec *c = fuzz_codec_get();
    struct sluice_buf out = {0};
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = c->ops.decompress(c->state, data, size, FUZZ_MAX_OUT, &out, err, sizeof err);
    if (out.len > out.cap || out.len > FUZZ_MAX_OUT + 1 || out.cap > 2 * (FUZZ_MAX_OUT + 1) + 256)
        abort();
    if (rc != 0) {
        if (rc != SLUICE_ERR_CORRUPT && rc != SLUICE_ERR_TOO_LARGE && rc != SLUICE_ERR_NOMEM)
            abort();
        if (memchr(err, '\0', sizeof err) == NULL)
            abort();
    } else {
        if (out.len > FUZZ_MAX_OUT)
            abort();
        struct sluice_buf z = {0}, back = {0};
        if (c->ops.compress(c->state, SLUICE_CODEC_LEVEL_DEFAULT, out.data, out.len, &z, err,
                            sizeof err) != 0 ||
            c->ops.decompress(c->state, z.data, z.len, FUZZ_MAX_OUT, &back, err, sizeof err) != 0 ||
            back.len != out.len || (out.len && memcmp(back.data, out.data, out.len) != 0))
            abort();
        free(z.data);
        free(back.data);
    }
    free(out.data);
    return 0;
}

#endif
