/*
 * bench_codecs: compression ratio and single-thread throughput of every codec
 * module of this build, through the same module loader and host buffer path
 * the broker uses (module_registry_compress/decompress).
 *
 *   ./bench/bench_codecs [--seconds S] [--size BYTES] [--top BUILDDIR]
 *
 * Inputs: generated English-like text (the kind of value a record batch
 * holds) and incompressible random bytes, both of --size (default 1 MiB).
 * MB/s = 10^6 bytes of uncompressed data per second, for compress and for
 * decompress; each measurement repeats for at least --seconds (default 0.5).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec_inputs.h"
#include "plugin/module_loader.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_text(uint8_t *p, size_t n)
{
    static const char *words[] = {"kafka ",  "sluice ",    "record ", "batch ",   "offset ",
                                  "topic ",  "partition ", "leader ", "replica ", "commit\n"};
    uint32_t x = 2463534242u;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const char *w = words[x % 10];
        for (; *w && i < n; w++)
            p[i++] = (uint8_t)*w;
        if (i < n && (x >> 8) % 3 == 0)
            p[i++] = (uint8_t)('0' + (x >> 12) % 10);
    }
}

struct run {
    int codec;
    const char *name;
    int level; /* SLUICE_CODEC_LEVEL_DEFAULT = module default */
};

static int measure(struct module_registry *reg, const struct run *r, const char *input_name,
                   const uint8_t *in, size_t n, double secs)
{
    uint8_t *c = NULL, *d = NULL;
    size_t clen = 0, dlen = 0;
    long iters = 0;
    double t0 = now_s(), t;
    do {
        free(c);
        if (module_registry_compress(reg, r->codec, r->level, in, n, &c, &clen) != 0) {
            fprintf(stderr, "%s: compress failed\n", r->name);
            return -1;
        }
        iters++;
    } while ((t = now_s() - t0) < secs);
    double cmbs = (double)n * (double)iters / t / 1e6;
    iters = 0;
    t0 = now_s();
    do {
        free(d);
        if (module_registry_decompress(reg, r->codec, c, clen, &d, &dlen) != 0 || dlen != n ||
            memcmp(d, in, n) != 0) {
            fprintf(stderr, "%s: decompress failed or differs\n", r->name);
            return -1;
        }
        iters++;
    } while ((t = now_s() - t0) < secs);
    double dmbs = (double)n * (double)iters / t / 1e6;
    char lv[16];
    if (r->level == SLUICE_CODEC_LEVEL_DEFAULT)
        snprintf(lv, sizeof lv, "default");
    else
        snprintf(lv, sizeof lv, "%d", r->level);
    printf("  %-7s %-8s %-7s %10zu %10zu %7.1f%% %10.0f %10.0f\n", r->name, lv, input_name, n, clen,
           100.0 * (double)clen / (double)n, cmbs, dmbs);
    free(c);
    free(d);
    return 0;
}

static const char *no_config(void *ud, const char *key) { return NULL; }

static void quiet_log(void *ud, int level, const char *msg)
{
    if (level <= SLUICE_LOG_WARN)
        fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
    double secs = 0.5;
    size_t size = 1 << 20;
    const char *top = getenv("SLUICE_TOP_BUILDDIR");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            size = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--top") && i + 1 < argc)
            top = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--size BYTES] [--top BUILDDIR]\n", argv[0]);
            return 2;
        }
    }
    if (!top)
        top = ".";
    if (size == 0 || size > ((size_t)1 << 30) || secs <= 0) {
        fprintf(stderr, "--size 1..2^30 and --seconds > 0\n");
        return 2;
    }

    struct module_registry reg;
    module_registry_init(&reg);
    module_registry_set_config(&reg, no_config, NULL);
    module_registry_set_log(&reg, quiet_log, NULL);
    reg.max_decompressed = size;
    static const char *mods[] = {"codec_gzip", "codec_snappy", "codec_lz4", "codec_zstd"};
    for (int i = 0; i < 4; i++) {
        char dir[1024], err[512];
        snprintf(dir, sizeof dir, "%s/modules/%s/.libs", top, mods[i]);
        if (module_load(&reg, mods[i], dir, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }

    static const struct run runs[] = {
        {1, "gzip", 1},   {1, "gzip", SLUICE_CODEC_LEVEL_DEFAULT}, {2, "snappy", SLUICE_CODEC_LEVEL_DEFAULT},
        {3, "lz4", 1},    {3, "lz4", 9},   {3, "lz4", 12},
        {4, "zstd", -1},  {4, "zstd", 1},  {4, "zstd", 3},  {4, "zstd", 9},  {4, "zstd", 19},
    };
    uint8_t *text = malloc(size), *rnd = malloc(size);
    fill_text(text, size);
    fill_random(rnd, size);
    printf("single thread, %zu-byte inputs, >= %.2f s per measurement; MB/s of uncompressed data\n",
           size, secs);
    printf("  %-7s %-8s %-7s %10s %10s %8s %10s %10s\n", "codec", "level", "input", "bytes",
           "compressed", "ratio", "comp MB/s", "decomp MB/s");
    int rc = 0;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        rc |= measure(&reg, &runs[i], "text", text, size, secs);
        if (runs[i].level == SLUICE_CODEC_LEVEL_DEFAULT || runs[i].level == 1 ||
            runs[i].level == 3)
            rc |= measure(&reg, &runs[i], "random", rnd, size, secs);
    }
    free(text);
    free(rnd);
    module_registry_free(&reg);
    return rc ? 1 : 0;
}
