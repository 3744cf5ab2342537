/* The snappy, lz4 and zstd codec modules, loaded from the build tree
 * through the real module loader: round trips at several levels, the exact
 * framing Kafka clients expect (checked with the libraries directly, not
 * with the module), reference encodings from other producers (golden bytes
 * and, when installed, the zstd/lz4 CLIs and kafka-python's xerial
 * encoder), raw snappy as librdkafka sends it, the legacy lz4 header
 * checksum fix-up, corrupt input, decompression bombs against max_out, and
 * two modules on one codec id. */
#include "config.h"

#include <dlfcn.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "codec_inputs.h"
#include "module_fixture.h"

static const char *top;

/* TAP "ok N # SKIP why", n times: the check needs a tool that is absent. */
static void skip(int n, const char *why)
{
    for (int i = 0; i < n; i++)
        printf("ok %d # SKIP %s\n", ++tap_run, why);
}

static const char *mod_dir(const char *module)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/modules/%s/.libs", top, module);
    return buf[i];
}

/* ---- data ----------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- independent decoders (the libraries, not the modules) ---------------- */

/* Xerial framing exactly as snappy-java's SnappyOutputStream writes it:
 * 16-byte header (magic, version 1, compatible 1), then [BE32 len][block]
 * with every block but the last holding exactly 32 KiB.  Returns 0 and the
 * chunk count, or -1 when the framing differs. */
static int ref_xerial(const uint8_t *c, size_t clen, uint8_t *out, size_t cap, size_t *outlen,
                      int *chunks)
{
    static const uint8_t hdr[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    if (clen < 16 || memcmp(c, hdr, 16) != 0)
        return -1;
    size_t off = 16, o = 0;
    int n = 0, short_seen = 0;
    while (off < clen) {
        if (clen - off < 4)
            return -1;
        uint32_t l = be32(c + off);
        off += 4;
        if (l > clen - off)
            return -1;
        size_t ul;
        if (snappy_uncompressed_length((const char *)c + off, l, &ul) != SNAPPY_OK || ul > 32768 ||
            short_seen || ul > cap - o)
            return -1;
        if (ul < 32768)
            short_seen = 1;
        size_t got = cap - o;
        if (snappy_uncompress((const char *)c + off, l, (char *)out + o, &got) != SNAPPY_OK)
            return -1;
        o += got;
        off += l;
        n++;
    }
    *outlen = o;
    *chunks = n;
    return 0;
}

static int ref_lz4(const uint8_t *c, size_t clen, uint8_t *out, size_t cap, size_t *outlen)
{
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return -1;
    size_t dsz = cap, ssz = clen;
    size_t r = LZ4F_decompress(d, out, &dsz, c, &ssz, NULL);
    LZ4F_freeDecompressionContext(d);
    *outlen = dsz;
    return !LZ4F_isError(r) && r == 0 && ssz == clen ? 0 : -1;
}

static int ref_zstd(const uint8_t *c, size_t clen, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t r = ZSTD_decompress(out, cap, c, clen);
    *outlen = ZSTD_isError(r) ? 0 : r;
    return ZSTD_isError(r) ? -1 : 0;
}

/* ---- helpers -------------------------------------------------------------- */

static const char *codec_name(int id) { return id == 2 ? "snappy" : id == 3 ? "lz4" : "zstd"; }

/* Compress with the module at `level`, check the framing with the library,
 * decompress with the module, compare. */
static void round_trip(struct module_registry *reg, int id, int level, const char *what,
                       const uint8_t *in, size_t n)
{
    const char *name = codec_name(id);
    char lv[32];
    if (level == SLUICE_CODEC_LEVEL_DEFAULT)
        snprintf(lv, sizeof lv, "default level");
    else
        snprintf(lv, sizeof lv, "level %d", level);
    uint8_t *c = NULL, *d = NULL;
    size_t clen = 0, dlen = 0;
    is_int(module_registry_compress(reg, id, level, in, n, &c, &clen), 0, "%s %s: compress %s (%zu bytes)",
           name, lv, what, n);
    uint8_t *z = malloc(n + 1);
    size_t zlen = 0;
    int chunks = 0, rr = -1;
    if (id == 2) {
        rr = ref_xerial(c, clen, z, n + 1, &zlen, &chunks);
        if (rr == 0 && (size_t)chunks != (n + 32767) / 32768)
            rr = -1;
    } else if (id == 3) {
        /* Kafka's Lz4BlockOutputStream header: FLG 0x60 (v1, independent
         * blocks, nothing else), BD 0x40 (64 KiB), HC 0x82. */
        static const uint8_t kh[7] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82};
        rr = clen >= 7 && memcmp(c, kh, 7) == 0 ? ref_lz4(c, clen, z, n + 1, &zlen) : -1;
    } else {
        rr = ZSTD_getFrameContentSize(c, clen) == n ? ref_zstd(c, clen, z, n + 1, &zlen) : -1;
    }
    ok(rr == 0 && zlen == n && (n == 0 || memcmp(z, in, n) == 0),
       "%s %s %s: lib%s reads it back (Kafka framing%s)", name, lv, what, name,
       id == 2 ? ", xerial 32 KiB chunks" : id == 3 ? ", 64 KiB independent blocks" : ", content size");
    free(z);
    is_int(module_registry_decompress(reg, id, c, clen, &d, &dlen), 0, "%s %s %s: decompress", name,
           lv, what);
    ok(dlen == n && d && (n == 0 || memcmp(d, in, n) == 0), "%s %s %s: same %zu bytes back", name, lv,
       what, n);
    free(c);
    free(d);
}

static int dec(struct module_registry *reg, int id, const uint8_t *c, size_t clen, uint8_t **d,
               size_t *dlen)
{
    return module_registry_decompress(reg, id, c, clen, d, dlen);
}

/* Decompress straight through the vtable with a limit: the error code, and
 * that the host buffer never grew past the contract. */
static void bomb(struct module_registry *reg, int id, const char *what, const uint8_t *c, size_t clen,
                 size_t max_out, int want_rc)
{
    const struct module_codec *mc = module_registry_codec(reg, id);
    struct sluice_buf b = {0};
    char err[256] = "";
    int rc = mc->ops.decompress(mc->state, c, clen, max_out, &b, err, sizeof err);
    is_int(rc, want_rc, "%s %s: vtable decompress with max_out %zu -> %d", codec_name(id), what,
           max_out, want_rc);
    ok(b.len <= max_out + 1 && b.cap <= 2 * (max_out + 1) + 256,
       "%s %s: wrote %zu bytes, buffer capacity %zu, within max_out + 1 and 2x", codec_name(id),
       what, b.len, b.cap);
    if (want_rc == SLUICE_ERR_TOO_LARGE) {
        char want[64];
        snprintf(want, sizeof want, "%s payload decompresses to more than %zu bytes", codec_name(id),
                 max_out);
        ok(strncmp(err, want, strlen(want)) == 0, "%s %s: error says '%s' (got '%s')", codec_name(id),
           what, want, err);
    }
    free(b.data);
}

/* Runs a shell pipeline, feeding `in` and collecting stdout.  Returns 0 on
 * exit status 0. */
static int run_filter(const char *cmd, const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    char inpath[] = "/tmp/sluice-codec-in.XXXXXX";
    int fd = mkstemp(inpath);
    if (fd < 0)
        return -1;
    if (write(fd, in, inlen) != (ssize_t)inlen) {
        close(fd);
        unlink(inpath);
        return -1;
    }
    close(fd);
    char full[1024];
    snprintf(full, sizeof full, "%s < %s 2>/dev/null", cmd, inpath);
    FILE *p = popen(full, "r");
    if (!p) {
        unlink(inpath);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, p)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    int st = pclose(p);
    unlink(inpath);
    *out = buf;
    *outlen = len;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int have_cmd(const char *cmd)
{
    char buf[256];
    snprintf(buf, sizeof buf, "command -v %s >/dev/null 2>&1", cmd);
    return system(buf) == 0;
}

/* ---- snappy --------------------------------------------------------------- */

/* kafka-python 2.0.2 `snappy_encode(b"hello kafka\n", xerial_compatible=True)`
 * (the Java client's framing; python3-snappy 0.6.1 underneath). */
static const uint8_t xerial_hello[] = {0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0x00, 0x00,
                                       0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0e,
                                       0x0c, 0x2c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61,
                                       0x66, 0x6b, 0x61, 0x0a};

static void test_snappy(struct module_registry *reg, struct fixture *f, const uint8_t *text,
                        const uint8_t *rnd)
{
    const size_t mib = 1 << 20;
    round_trip(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, "empty", (const uint8_t *)"", 0);
    round_trip(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, "one byte", (const uint8_t *)"k", 1);
    round_trip(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, "32 KiB exactly", text, 32768);
    round_trip(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, "1 MiB text", text, mib);
    round_trip(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, "1 MiB random", rnd, mib);
    round_trip(reg, 2, 5, "100 KiB text", text, 100 << 10);

    uint8_t *c, *d;
    size_t clen, dlen;
    is_int(module_registry_compress(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, (const uint8_t *)"hello kafka\n",
                                    12, &c, &clen),
           0, "snappy compress 'hello kafka\\n'");
    ok(clen == sizeof xerial_hello && memcmp(c, xerial_hello, clen) == 0,
       "... byte for byte what kafka-python's xerial encoder writes");
    free(c);
    is_int(dec(reg, 2, xerial_hello, sizeof xerial_hello, &d, &dlen), 0, "decompress kafka-python xerial bytes");
    ok(dlen == 12 && memcmp(d, "hello kafka\n", 12) == 0, "... 'hello kafka\\n'");
    free(d);

    /* Raw snappy, as librdkafka sends it (rd_kafka_snappy_compress_slice). */
    size_t rawcap = snappy_max_compressed_length(mib);
    uint8_t *raw = malloc(rawcap);
    size_t rawlen = rawcap;
    snappy_compress((const char *)text, mib, (char *)raw, &rawlen);
    is_int(dec(reg, 2, raw, rawlen, &d, &dlen), 0, "raw (unframed) snappy of 1 MiB decompresses");
    ok(dlen == mib && memcmp(d, text, mib) == 0, "... to the same bytes");
    free(d);
    is_int(dec(reg, 2, xerial_hello + 20, sizeof xerial_hello - 20, &d, &dlen), 0,
           "raw snappy 'hello kafka\\n' (14 bytes, shorter than the xerial header)");
    ok(dlen == 12 && memcmp(d, "hello kafka\n", 12) == 0, "... decoded");
    free(d);
    uint8_t zero = 0;
    is_int(dec(reg, 2, &zero, 1, &d, &dlen), 0, "raw snappy of nothing (one 0x00 byte)");
    is_int(dlen, 0, "... is empty");
    free(d);
    is_int(dec(reg, 2, xerial_hello, 16, &d, &dlen), 0, "xerial header alone");
    is_int(dlen, 0, "... is empty (SnappyOutputStream of nothing)");
    free(d);

    /* Two xerial streams appended (SnappyInputStream reads on). */
    uint8_t two[2 * sizeof xerial_hello];
    memcpy(two, xerial_hello, sizeof xerial_hello);
    memcpy(two + sizeof xerial_hello, xerial_hello, sizeof xerial_hello);
    is_int(dec(reg, 2, two, sizeof two, &d, &dlen), 0, "two concatenated xerial streams");
    ok(dlen == 24 && memcmp(d, "hello kafka\nhello kafka\n", 24) == 0, "... both decoded in order");
    free(d);

    /* kafka-python live, when it and python3-snappy are installed. */
    uint8_t *py;
    size_t pylen;
    if (run_filter("/usr/bin/python3 -c 'import sys; from kafka.codec import snappy_encode as e; "
                   "sys.stdout.buffer.write(e(sys.stdin.buffer.read(), xerial_compatible=True, "
                   "xerial_blocksize=32768))'",
                   text, 300000, &py, &pylen) == 0 &&
        pylen > 16) {
        is_int(dec(reg, 2, py, pylen, &d, &dlen), 0, "kafka-python xerial encoding of 300000 bytes");
        ok(dlen == 300000 && memcmp(d, text, dlen) == 0, "... decoded");
        free(d);
        uint8_t *mine;
        size_t minelen;
        module_registry_compress(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, text, 300000, &mine, &minelen);
        ok(minelen == pylen && memcmp(mine, py, pylen) == 0,
           "module output equals kafka-python's xerial output byte for byte (%zu bytes)", pylen);
        free(mine);
    } else {
        skip(3, "kafka-python with snappy support not installed (apt-get install python3-kafka python3-snappy)");
    }
    free(py);

    /* Corrupt input -> CORRUPT_MESSAGE (2). */
    uint8_t bad[sizeof xerial_hello + 4];
    d = (uint8_t *)"sentinel";
    is_int(dec(reg, 2, (const uint8_t *)"", 0, &d, &dlen), 2, "empty payload -> 2");
    ok(d == NULL && dlen == 0, "... no output");
    memcpy(bad, xerial_hello, sizeof xerial_hello);
    bad[19] = 0x20; /* chunk length past the end */
    is_int(dec(reg, 2, bad, sizeof xerial_hello, &d, &dlen), 2, "chunk length past the end -> 2");
    memcpy(bad, xerial_hello, sizeof xerial_hello);
    bad[20] = 0x40; /* block says 64 bytes, holds 12 */
    is_int(dec(reg, 2, bad, sizeof xerial_hello, &d, &dlen), 2, "block length lies -> 2");
    memcpy(bad, xerial_hello, sizeof xerial_hello);
    memcpy(bad + sizeof xerial_hello, "xyz", 3);
    is_int(dec(reg, 2, bad, sizeof xerial_hello + 3, &d, &dlen), 2, "3 trailing bytes -> 2");
    memcpy(bad, xerial_hello, sizeof xerial_hello);
    bad[11] = 0; /* version 0 */
    is_int(dec(reg, 2, bad, sizeof xerial_hello, &d, &dlen), 2, "xerial version 0 -> 2");
    memcpy(bad, xerial_hello, sizeof xerial_hello);
    bad[16] = 0x80; /* negative chunk length */
    is_int(dec(reg, 2, bad, sizeof xerial_hello, &d, &dlen), 2, "negative chunk length -> 2");
    memcpy(bad, xerial_hello, 16);
    memset(bad + 16, 0, 4);
    is_int(dec(reg, 2, bad, 20, &d, &dlen), 2, "zero-length chunk -> 2");
    is_int(dec(reg, 2, rnd, 4096, &d, &dlen), 2, "random bytes -> 2");
    is_int(dec(reg, 2, raw, rawlen - 10, &d, &dlen), 2, "truncated raw block -> 2");
    ok(has_log_prefix(f, "[codec_snappy] snappy decompress of 34 bytes failed (-4): "),
       "corrupt payload logged with the module prefix and reason");

    /* Bombs: lengths are checked before anything is reserved. */
    uint8_t *zeros = calloc(8, mib);
    size_t zlen = snappy_max_compressed_length(8 * mib);
    uint8_t *zc = malloc(zlen);
    snappy_compress((const char *)zeros, 8 * mib, (char *)zc, &zlen);
    ok(zlen < 512 << 10, "8 MiB of zeros: raw snappy block of %zu bytes", zlen);
    bomb(reg, 2, "raw 8 MiB bomb", zc, zlen, mib, SLUICE_ERR_TOO_LARGE);
    free(zc);
    module_registry_compress(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, zeros, 8 * mib, &zc, &zlen);
    bomb(reg, 2, "xerial 8 MiB bomb", zc, zlen, mib, SLUICE_ERR_TOO_LARGE);
    free(zc);
    module_registry_compress(reg, 2, SLUICE_CODEC_LEVEL_DEFAULT, text, mib, &zc, &zlen);
    bomb(reg, 2, "1 MiB at a 1 MiB limit", zc, zlen, mib, 0);
    bomb(reg, 2, "1 MiB at a 1 MiB - 1 limit", zc, zlen, mib - 1, SLUICE_ERR_TOO_LARGE);
    free(zc);
    bomb(reg, 2, "raw 1 MiB at a 1 MiB - 1 limit", raw, rawlen, mib - 1, SLUICE_ERR_TOO_LARGE);
    /* A 5-byte block claiming 10 MiB (more than snappy can expand to):
     * refused before anything is reserved. */
    {
        static const uint8_t liar[] = {0x80, 0x80, 0x80, 0x05, 0x00};
        const struct module_codec *mc = module_registry_codec(reg, 2);
        struct sluice_buf b = {0};
        char err[256];
        is_int(mc->ops.decompress(mc->state, liar, sizeof liar, 64 * mib, &b, err, sizeof err),
               SLUICE_ERR_CORRUPT, "5-byte raw block claiming 10 MiB -> CORRUPT");
        ok(b.cap == 0, "... nothing reserved (cap %zu)", b.cap);
        free(b.data);
    }
    free(raw);
    free(zeros);
}

/* ---- lz4 ------------------------------------------------------------------ */

/* `printf 'hello kafka\n' | lz4 -q -c` (lz4 1.9.4 CLI): FLG 0x64 (content
 * checksum), BD 0x40, one uncompressed block, end mark, content checksum. */
static const uint8_t lz4_cli_hello[] = {0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x0c, 0x00, 0x00,
                                        0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66,
                                        0x6b, 0x61, 0x0a, 0x00, 0x00, 0x00, 0x00, 0xb5, 0x45, 0xcc,
                                        0xd3};

/* The header checksum byte of a frame header, computed the correct way
 * (over FLG, BD, ...) or Kafka's old broken way (over the magic too), with
 * the system's libxxhash when it is there (an implementation independent of
 * the module's). */
static int xxh_hc(const uint8_t *p, size_t len, uint8_t *hc)
{
    void *h = dlopen("libxxhash.so.0", RTLD_NOW);
    if (!h)
        return -1;
    unsigned (*x32)(const void *, size_t, unsigned) =
        (unsigned (*)(const void *, size_t, unsigned))dlsym(h, "XXH32");
    int rc = -1;
    if (x32) {
        *hc = (uint8_t)(x32(p, len, 0) >> 8);
        rc = 0;
    }
    dlclose(h);
    return rc;
}

static void test_lz4(struct module_registry *reg, struct fixture *f, const uint8_t *text,
                     const uint8_t *rnd)
{
    const size_t mib = 1 << 20;
    round_trip(reg, 3, SLUICE_CODEC_LEVEL_DEFAULT, "empty", (const uint8_t *)"", 0);
    round_trip(reg, 3, SLUICE_CODEC_LEVEL_DEFAULT, "one byte", (const uint8_t *)"k", 1);
    round_trip(reg, 3, SLUICE_CODEC_LEVEL_DEFAULT, "1 MiB text", text, mib);
    round_trip(reg, 3, SLUICE_CODEC_LEVEL_DEFAULT, "1 MiB random", rnd, mib);
    static const int levels[] = {1, 3, 9, 12, 17};
    size_t sizes[5];
    for (int i = 0; i < 5; i++) {
        round_trip(reg, 3, levels[i], "1 MiB text", text, mib);
        uint8_t *c;
        module_registry_compress(reg, 3, levels[i], text, mib, &c, &sizes[i]);
        free(c);
    }
    round_trip(reg, 3, 17, "1 MiB random", rnd, mib);
    ok(sizes[3] < sizes[2] && sizes[1] < sizes[2] && sizes[2] < mib / 2,
       "HC levels 3 (%zu) and 12 (%zu) beat level 9 = Kafka's default fast mode (%zu)", sizes[1],
       sizes[3], sizes[2]);
    is_int(sizes[4], sizes[3], "level 17 is LZ4HC's maximum (12): same output size");

    uint8_t *c, *d;
    size_t clen, dlen;
    is_int(module_registry_compress(reg, 3, 0, text, 10, &c, &clen), 2, "level 0 refused");
    is_int(module_registry_compress(reg, 3, 18, text, 10, &c, &clen), 2, "level 18 refused");
    ok(has_log_prefix(f, "[codec_lz4] lz4 compress of 10 bytes failed (-3): lz4 level 18 is out of range (1..17)"),
       "... with the range in the log");

    is_int(dec(reg, 3, lz4_cli_hello, sizeof lz4_cli_hello, &d, &dlen), 0,
           "lz4 CLI frame (content checksum, uncompressed block)");
    ok(dlen == 12 && memcmp(d, "hello kafka\n", 12) == 0, "... 'hello kafka\\n'");
    free(d);

    if (have_cmd("lz4")) {
        static const char *cmds[] = {"lz4 -q -c", "lz4 -q -c -9 -BD", "lz4 -q -c -B4 --content-size",
                                     "lz4 -q -c -BX -B7"};
        for (int i = 0; i < 4; i++) {
            uint8_t *cli;
            size_t clilen;
            int rc = run_filter(cmds[i], text, mib, &cli, &clilen);
            is_int(rc, 0, "`%s` on 1 MiB text", cmds[i]);
            is_int(dec(reg, 3, cli, clilen, &d, &dlen), 0, "... module decompresses its %zu bytes", clilen);
            ok(dlen == mib && memcmp(d, text, mib) == 0, "... to the input");
            free(d);
            free(cli);
        }
        /* And the CLI reads the module's frames. */
        module_registry_compress(reg, 3, 12, text, mib, &c, &clen);
        uint8_t *back;
        size_t backlen;
        is_int(run_filter("lz4 -q -d -c", c, clen, &back, &backlen), 0, "`lz4 -d` reads a module frame");
        ok(backlen == mib && memcmp(back, text, mib) == 0, "... back to the input");
        free(back);
        free(c);
    } else {
        skip(14, "lz4 CLI not installed");
    }

    /* Legacy header checksum (Kafka magic v0 / KafkaLZ4BlockOutputStream
     * with useBrokenFlagDescriptorChecksum): XXH32 over magic + FLG + BD.
     * For Kafka's header 04 22 4d 18 60 40 the correct HC is 0x82 and the
     * broken one 0x1a (both computed with libxxhash 0.8.1). */
    module_registry_compress(reg, 3, SLUICE_CODEC_LEVEL_DEFAULT, text, 100000, &c, &clen);
    uint8_t good_hc = 0, legacy_hc = 0;
    if (xxh_hc(c + 4, 2, &good_hc) == 0 && xxh_hc(c, 6, &legacy_hc) == 0)
        ok(good_hc == 0x82 && legacy_hc == 0x1a, "libxxhash agrees: HC 0x%02x, legacy HC 0x%02x",
           good_hc, legacy_hc);
    else
        skip(1, "libxxhash.so.0 not available");
    is_int(c[6], 0x82, "module frame carries the correct HC");
    c[6] = 0x1a;
    size_t zl;
    uint8_t *z = malloc(100001);
    ok(ref_lz4(c, clen, z, 100001, &zl) != 0, "plain liblz4 refuses the legacy-HC frame");
    free(z);
    is_int(dec(reg, 3, c, clen, &d, &dlen), 0, "module fixes up the legacy HC and decodes");
    ok(dlen == 100000 && memcmp(d, text, dlen) == 0, "... to the input");
    ok(has_log_prefix(f, "[codec_lz4] lz4 frame with the legacy Kafka header checksum: fixed up"),
       "fix-up logged (debug)");
    free(d);
    c[6] = 0x55;
    is_int(dec(reg, 3, c, clen, &d, &dlen), 2, "any other wrong HC -> 2");
    ok(has_log_prefix(f, "[codec_lz4] lz4 decompress of") ,"... logged");
    /* Legacy HC on a frame with a content size field (FLG bit 3). */
    uint8_t cs[sizeof lz4_cli_hello + 8];
    memcpy(cs, lz4_cli_hello, 4);
    cs[4] = 0x6c; /* + content size */
    cs[5] = 0x40;
    uint64_t n12 = 12;
    for (int i = 0; i < 8; i++)
        cs[6 + i] = (uint8_t)(n12 >> (8 * i));
    memcpy(cs + 15, lz4_cli_hello + 7, sizeof lz4_cli_hello - 7);
    uint8_t hc;
    if (xxh_hc(cs, 14, &hc) == 0) {
        cs[14] = hc; /* legacy: over magic + 10 descriptor bytes */
        is_int(dec(reg, 3, cs, sizeof cs, &d, &dlen), 0, "legacy HC with a content size field: fixed up");
        ok(dlen == 12 && memcmp(d, "hello kafka\n", 12) == 0, "... 'hello kafka\\n'");
        free(d);
        xxh_hc(cs + 4, 10, &hc);
        cs[14] = hc;
        is_int(dec(reg, 3, cs, sizeof cs, &d, &dlen), 0, "same frame with the correct HC");
        free(d);
        cs[10] = 1; /* content size now wrong (and HC too) */
        is_int(dec(reg, 3, cs, sizeof cs, &d, &dlen), 2, "changed descriptor without a new HC -> 2");
    } else {
        skip(4, "libxxhash.so.0 not available");
    }
    c[6] = 0x82;

    /* Corrupt input. */
    d = (uint8_t *)"sentinel";
    is_int(dec(reg, 3, (const uint8_t *)"", 0, &d, &dlen), 2, "empty payload -> 2");
    ok(d == NULL && dlen == 0, "... no output");
    is_int(dec(reg, 3, c, 5, &d, &dlen), 2, "5-byte header stub -> 2");
    is_int(dec(reg, 3, c, clen - 4, &d, &dlen), 2, "no end mark (truncated) -> 2");
    is_int(dec(reg, 3, c, clen / 2, &d, &dlen), 2, "cut in the middle -> 2");
    uint8_t *tr = malloc(clen + 3);
    memcpy(tr, c, clen);
    memcpy(tr + clen, "xyz", 3);
    is_int(dec(reg, 3, tr, clen + 3, &d, &dlen), 2, "trailing garbage -> 2");
    memcpy(tr + clen, c, 3);
    is_int(dec(reg, 3, tr, clen + 3, &d, &dlen), 2, "start of a second frame after the first -> 2");
    free(tr);
    uint8_t flip[sizeof lz4_cli_hello];
    memcpy(flip, lz4_cli_hello, sizeof flip);
    flip[sizeof flip - 1] ^= 0xff;
    is_int(dec(reg, 3, flip, sizeof flip, &d, &dlen), 2, "bad content checksum -> 2");
    memcpy(flip, lz4_cli_hello, sizeof flip);
    flip[0] = 0x05;
    is_int(dec(reg, 3, flip, sizeof flip, &d, &dlen), 2, "bad magic -> 2");
    is_int(dec(reg, 3, rnd, 4096, &d, &dlen), 2, "random bytes -> 2");
    free(c);

    /* Bombs: 8 MiB of zeros, no content size in the frame (Kafka's shape). */
    uint8_t *zeros = calloc(8, mib);
    module_registry_compress(reg, 3, 12, zeros, 8 * mib, &c, &clen);
    ok(clen < 64 << 10, "8 MiB of zeros: lz4 frame of %zu bytes", clen);
    bomb(reg, 3, "8 MiB bomb", c, clen, mib, SLUICE_ERR_TOO_LARGE);
    bomb(reg, 3, "8 MiB bomb, tiny limit", c, clen, 1000, SLUICE_ERR_TOO_LARGE);
    bomb(reg, 3, "8 MiB at an 8 MiB limit", c, clen, 8 * mib, 0);
    free(c);
    /* A frame that declares its size is refused before decoding. */
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.contentSize = 8 * mib;
    size_t cap = LZ4F_compressFrameBound(8 * mib, &prefs);
    c = malloc(cap);
    clen = LZ4F_compressFrame(c, cap, zeros, 8 * mib, &prefs);
    bomb(reg, 3, "8 MiB bomb declaring its size", c, clen, mib, SLUICE_ERR_TOO_LARGE);
    bomb(reg, 3, "8 MiB declared, 8 MiB limit", c, clen, 8 * mib, 0);
    free(c);
    module_registry_compress(reg, 3, 1, text, mib, &c, &clen);
    bomb(reg, 3, "1 MiB at a 1 MiB limit", c, clen, mib, 0);
    bomb(reg, 3, "1 MiB at a 1 MiB - 1 limit", c, clen, mib - 1, SLUICE_ERR_TOO_LARGE);
    free(c);
    free(zeros);
}

/* ---- zstd ----------------------------------------------------------------- */

/* `printf 'hello kafka\n' | zstd -q -c` (zstd 1.5.4 CLI, from a pipe, so
 * without a content size; content checksum on). */
static const uint8_t zstd_cli_hello[] = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x61, 0x00, 0x00,
                                         0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66,
                                         0x6b, 0x61, 0x0a, 0xf6, 0x2c, 0x6b, 0xcb};

/* zstd frame without a content size, as zstd-jni's ZstdOutputStream (the
 * Java client) writes it. */
static uint8_t *zstd_no_size(const uint8_t *in, size_t n, int level, size_t *clen)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    size_t cap = ZSTD_compressBound(n);
    uint8_t *out = malloc(cap);
    *clen = ZSTD_compress2(c, out, cap, in, n);
    ZSTD_freeCCtx(c);
    return out;
}

static void test_zstd(struct module_registry *reg, struct fixture *f, const uint8_t *text,
                      const uint8_t *rnd)
{
    const size_t mib = 1 << 20;
    round_trip(reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, "empty", (const uint8_t *)"", 0);
    round_trip(reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, "one byte", (const uint8_t *)"k", 1);
    round_trip(reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, "1 MiB text", text, mib);
    round_trip(reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, "1 MiB random", rnd, mib);
    static const int levels[] = {-131072, -5, 0, 1, 19};
    for (int i = 0; i < 5; i++)
        round_trip(reg, 4, levels[i], "1 MiB text", text, mib);
    round_trip(reg, 4, 22, "100 KiB text", text, 100 << 10);
    uint8_t *c1, *c19, *c;
    size_t l1, l19, clen;
    module_registry_compress(reg, 4, 1, text, mib, &c1, &l1);
    module_registry_compress(reg, 4, 19, text, mib, &c19, &l19);
    ok(l19 < l1 && l1 < mib / 3, "level 19 (%zu) smaller than level 1 (%zu)", l19, l1);
    free(c1);
    free(c19);
    is_int(module_registry_compress(reg, 4, 23, text, 10, &c, &clen), 2, "level 23 refused");
    is_int(module_registry_compress(reg, 4, -131073, text, 10, &c, &clen), 2, "level -131073 refused");
    ok(has_log_prefix(f, "[codec_zstd] zstd compress of 10 bytes failed (-3): zstd level 23 is out of range (-131072..22)"),
       "... with the range in the log");

    uint8_t *d;
    size_t dlen;
    is_int(dec(reg, 4, zstd_cli_hello, sizeof zstd_cli_hello, &d, &dlen), 0,
           "zstd CLI frame without a content size");
    ok(dlen == 12 && memcmp(d, "hello kafka\n", 12) == 0, "... 'hello kafka\\n'");
    free(d);

    /* Java-style frames (no content size) go through the streaming path. */
    c = zstd_no_size(text, mib, 3, &clen);
    ok(ZSTD_getFrameContentSize(c, clen) == ZSTD_CONTENTSIZE_UNKNOWN, "frame without content size built");
    is_int(dec(reg, 4, c, clen, &d, &dlen), 0, "1 MiB frame without content size decompresses");
    ok(dlen == mib && memcmp(d, text, mib) == 0, "... to the input");
    free(d);
    bomb(reg, 4, "1 MiB unsized at a 1 MiB limit", c, clen, mib, 0);
    bomb(reg, 4, "1 MiB unsized at a 1 MiB - 1 limit", c, clen, mib - 1, SLUICE_ERR_TOO_LARGE);
    /* Truncated / trailing on the streaming path. */
    is_int(dec(reg, 4, c, clen - 1, &d, &dlen), 2, "unsized frame missing its last byte -> 2");
    uint8_t *tr = malloc(clen + 5);
    memcpy(tr, c, clen);
    memcpy(tr + clen, "junk!", 5);
    is_int(dec(reg, 4, tr, clen + 5, &d, &dlen), 2, "unsized frame + trailing garbage -> 2");
    free(tr);
    free(c);

    /* Concatenated frames: sized + sized (one-shot path), unsized + sized
     * (streaming path). */
    uint8_t *a, *b;
    size_t alen, blen;
    module_registry_compress(reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, text, 1000, &a, &alen);
    module_registry_compress(reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, text + 1000, 2000, &b, &blen);
    uint8_t *cat = malloc(alen + blen + sizeof zstd_cli_hello);
    memcpy(cat, a, alen);
    memcpy(cat + alen, b, blen);
    is_int(dec(reg, 4, cat, alen + blen, &d, &dlen), 0, "two sized frames");
    ok(dlen == 3000 && memcmp(d, text, 3000) == 0, "... decode to both contents");
    free(d);
    bomb(reg, 4, "two sized frames (3000 bytes) at a 2999 limit", cat, alen + blen, 2999,
         SLUICE_ERR_TOO_LARGE);
    memcpy(cat, zstd_cli_hello, sizeof zstd_cli_hello);
    memcpy(cat + sizeof zstd_cli_hello, a, alen);
    is_int(dec(reg, 4, cat, sizeof zstd_cli_hello + alen, &d, &dlen), 0, "unsized frame + sized frame");
    ok(dlen == 1012 && memcmp(d, "hello kafka\n", 12) == 0 && memcmp(d + 12, text, 1000) == 0,
       "... both decoded");
    free(d);
    memcpy(cat, a, alen);
    memcpy(cat + alen, "junk!", 5);
    is_int(dec(reg, 4, cat, alen + 5, &d, &dlen), 2, "sized frame + trailing garbage -> 2");
    free(cat);
    free(a);
    free(b);

    if (have_cmd("zstd")) {
        static const char *cmds[] = {"zstd -q -c", "zstd -q -c -19", "zstd -q -c --no-check -1",
                                     "zstd -q -c --ultra -22"};
        for (int i = 0; i < 4; i++) {
            uint8_t *cli;
            size_t clilen;
            is_int(run_filter(cmds[i], text, mib, &cli, &clilen), 0, "`%s` on 1 MiB text", cmds[i]);
            int drc = dec(reg, 4, cli, clilen, &d, &dlen);
            is_int(drc, 0, "... module decompresses its %zu bytes", clilen);
            if (drc != 0 && f->nlogs > 0)
                diag("%s", f->logs[f->nlogs - 1]);
            ok(dlen == mib && memcmp(d, text, mib) == 0, "... to the input");
            free(d);
            free(cli);
        }
        module_registry_compress(reg, 4, 19, text, mib, &c, &clen);
        uint8_t *back;
        size_t backlen;
        is_int(run_filter("zstd -q -d -c", c, clen, &back, &backlen), 0, "`zstd -d` reads a module frame");
        ok(backlen == mib && memcmp(back, text, mib) == 0, "... back to the input");
        free(back);
        free(c);
    } else {
        skip(14, "zstd CLI not installed");
    }

    /* Corrupt input. */
    module_registry_compress(reg, 4, 3, text, 100000, &c, &clen);
    d = (uint8_t *)"sentinel";
    is_int(dec(reg, 4, (const uint8_t *)"", 0, &d, &dlen), 2, "empty payload -> 2");
    ok(d == NULL && dlen == 0, "... no output");
    is_int(dec(reg, 4, c, clen - 3, &d, &dlen), 2, "sized frame truncated -> 2");
    uint8_t *flip = malloc(clen);
    memcpy(flip, c, clen);
    flip[clen / 2] ^= 0x5a;
    is_int(dec(reg, 4, flip, clen, &d, &dlen), 2, "flipped byte in the middle -> 2");
    memcpy(flip, c, clen);
    flip[0] = 0x29;
    is_int(dec(reg, 4, flip, clen, &d, &dlen), 2, "bad magic -> 2");
    free(flip);
    uint8_t ck[sizeof zstd_cli_hello];
    memcpy(ck, zstd_cli_hello, sizeof ck);
    ck[sizeof ck - 1] ^= 1;
    is_int(dec(reg, 4, ck, sizeof ck, &d, &dlen), 2, "bad content checksum -> 2");
    is_int(dec(reg, 4, rnd, 4096, &d, &dlen), 2, "random bytes -> 2");
    free(c);

    /* Bombs: 64 MiB of zeros, sized (refused from the header) and unsized
     * (streaming, stopped at the limit). */
    uint8_t *zeros = calloc(64, mib);
    module_registry_compress(reg, 4, 3, zeros, 64 * mib, &c, &clen);
    ok(clen < 64 << 10, "64 MiB of zeros: zstd frame of %zu bytes", clen);
    bomb(reg, 4, "64 MiB sized bomb", c, clen, mib, SLUICE_ERR_TOO_LARGE);
    free(c);
    c = zstd_no_size(zeros, 64 * mib, 3, &clen);
    bomb(reg, 4, "64 MiB unsized bomb", c, clen, mib, SLUICE_ERR_TOO_LARGE);
    bomb(reg, 4, "64 MiB unsized bomb, tiny limit", c, clen, 100, SLUICE_ERR_TOO_LARGE);
    free(c);
    free(zeros);
}

/* ---- loading, config, clashes ------------------------------------------------ */

static void test_config(void)
{
    struct module_registry reg;
    struct fixture f;
    char err[512], want[1200];
    mf_setup(&reg, &f);

    cfg_set(&f, "compression.lz4.level", "18");
    is_int(module_load(&reg, "codec_lz4", mod_dir("codec_lz4"), err, sizeof err), -1, "lz4 level 18 refused");
    snprintf(want, sizeof want,
             "module 'codec_lz4' (%s/codec_lz4.so): init failed (-3): compression.lz4.level must be "
             "1..17, got '18'",
             mod_dir("codec_lz4"));
    is_str(err, want, "lz4 level message");
    cfg_set(&f, "module.codec_lz4.compression.lz4.level", "3");
    is_int(module_load(&reg, "codec_lz4", mod_dir("codec_lz4"), err, sizeof err), 0,
           "module.codec_lz4.compression.lz4.level=3 wins over the plain key");
    ok(has_log_prefix(&f, "[codec_lz4] lz4 codec ready (liblz4 ") &&
           strstr(f.logs[f.nlogs - 2], "level 3)") != NULL,
       "lz4 logs its level (%s)", f.nlogs >= 2 ? f.logs[f.nlogs - 2] : "");

    cfg_set(&f, "compression.zstd.level", "23");
    is_int(module_load(&reg, "codec_zstd", mod_dir("codec_zstd"), err, sizeof err), -1, "zstd level 23 refused");
    snprintf(want, sizeof want,
             "module 'codec_zstd' (%s/codec_zstd.so): init failed (-3): compression.zstd.level must "
             "be -131072..22, got '23'",
             mod_dir("codec_zstd"));
    is_str(err, want, "zstd level message");
    cfg_set(&f, "compression.zstd.level", "fast");
    is_int(module_load(&reg, "codec_zstd", mod_dir("codec_zstd"), err, sizeof err), -1, "zstd level 'fast' refused");
    cfg_set(&f, "compression.zstd.level", "-131072");
    is_int(module_load(&reg, "codec_zstd", mod_dir("codec_zstd"), err, sizeof err), 0, "zstd level -131072 accepted");

    /* The configured level is what SLUICE_CODEC_LEVEL_DEFAULT means. */
    uint8_t *text = make_text(1 << 20), *c;
    size_t clen, cref;
    module_registry_compress(&reg, 4, SLUICE_CODEC_LEVEL_DEFAULT, text, 1 << 20, &c, &clen);
    free(c);
    module_registry_compress(&reg, 4, -131072, text, 1 << 20, &c, &cref);
    free(c);
    is_int(clen, cref, "zstd default level = configured -131072 (%zu bytes)", clen);
    module_registry_compress(&reg, 3, SLUICE_CODEC_LEVEL_DEFAULT, text, 1 << 20, &c, &clen);
    free(c);
    module_registry_compress(&reg, 3, 3, text, 1 << 20, &c, &cref);
    free(c);
    is_int(clen, cref, "lz4 default level = configured 3 (%zu bytes)", clen);
    free(text);
    module_registry_free(&reg);
    ok(!has_log_prefix(&f, "[codec_lz4] unloaded with") && !has_log_prefix(&f, "[codec_zstd] unloaded with"),
       "modules freed all they allocated");
}

static void test_clash(void)
{
    struct module_registry reg;
    struct fixture f;
    char err[512], want[1200], clash_dir[512];
    snprintf(clash_dir, sizeof clash_dir, "%s/tests/modules/clash/.libs", top);

    mf_setup(&reg, &f);
    is_int(module_load(&reg, "codec_lz4", mod_dir("codec_lz4"), err, sizeof err), 0, "codec_lz4 loads");
    is_int(module_load(&reg, "mod_lz4_clash", clash_dir, err, sizeof err), -1,
           "a second module on codec id 3 is refused");
    snprintf(want, sizeof want,
             "module 'mod_lz4_clash' (%s/mod_lz4_clash.so): init failed (-6): codec id 3 (lz4-clash) "
             "is already provided by module 'codec_lz4'",
             clash_dir);
    is_str(err, want, "... naming the id and the owner");
    const struct module_codec *mc = module_registry_codec(&reg, 3);
    ok(mc && strcmp(mc->ops.name, "lz4") == 0, "codec 3 still belongs to codec_lz4");
    module_registry_free(&reg);

    mf_setup(&reg, &f);
    is_int(module_load(&reg, "mod_lz4_clash", clash_dir, err, sizeof err), 0, "the other order: clash module first");
    is_int(module_load(&reg, "codec_lz4", mod_dir("codec_lz4"), err, sizeof err), -1, "codec_lz4 refused");
    snprintf(want, sizeof want,
             "module 'codec_lz4' (%s/codec_lz4.so): init failed (-6): codec id 3 (lz4) is already "
             "provided by module 'mod_lz4_clash'",
             mod_dir("codec_lz4"));
    is_str(err, want, "... naming the owner");
    ok(!has_log_prefix(&f, "[codec_lz4] unloaded with"), "codec_lz4 freed its state after the failed init");
    module_registry_free(&reg);
}

/* The ABI the modules were just built against, as --list-modules prints it
 * (they follow the header, so a minor bump must not break this). */
#define ABI_STR2(x) #x
#define ABI_STR(x) ABI_STR2(x)
#define ABI_NOW ABI_STR(SLUICE_ABI_MAJOR) "." ABI_STR(SLUICE_ABI_MINOR)

static void test_list(void)
{
    static const char *mods[] = {"codec_snappy", "codec_lz4", "codec_zstd"};
    static const char *lines[] = {
        "codec_snappy         1.0.0      abi " ABI_NOW "  kinds codec        snappy compression codec (libsnappy, xerial framing)",
        "codec_lz4            1.0.0      abi " ABI_NOW "  kinds codec        lz4 compression codec (liblz4 frame format)",
        "codec_zstd           1.0.0      abi " ABI_NOW "  kinds codec        zstd compression codec (libzstd)",
    };
    for (int i = 0; i < 3; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        int n = module_list_dir(mod_dir(mods[i]), out);
        fclose(out);
        ok(n == 1 && strstr(buf, lines[i]) != NULL, "--list-modules: %s", lines[i]);
        free(buf);
    }
}

int main(void)
{
    top = getenv("SLUICE_TOP_BUILDDIR");
    if (!top)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");

    struct module_registry reg;
    struct fixture f;
    char err[512];
    mf_setup(&reg, &f);
    is_int(module_load_list(&reg, "codec_snappy", mod_dir("codec_snappy"), err, sizeof err), 0,
           "load codec_snappy");
    is_int(module_load(&reg, "codec_lz4", mod_dir("codec_lz4"), err, sizeof err), 0, "load codec_lz4");
    is_int(module_load(&reg, "codec_zstd", mod_dir("codec_zstd"), err, sizeof err), 0, "load codec_zstd");
    for (int id = 2; id <= 4; id++) {
        const struct module_codec *mc = module_registry_codec(&reg, id);
        ok(mc && strcmp(mc->ops.name, codec_name(id)) == 0, "codec id %d is %s", id, codec_name(id));
    }
    ok(module_registry_codec(&reg, 1) == NULL, "gzip not loaded: id 1 free");

    uint8_t *text = make_text(1 << 20);
    uint8_t *rnd = make_random(1 << 20);
    test_snappy(&reg, &f, text, rnd);
    test_lz4(&reg, &f, text, rnd);
    test_zstd(&reg, &f, text, rnd);
    free(text);
    free(rnd);

    /* The registry's own limit (64 MiB default) applies through the glue. */
    reg.max_decompressed = 1000;
    uint8_t *c, *d;
    size_t clen, dlen;
    uint8_t big[1001];
    memset(big, 'x', sizeof big);
    for (int id = 2; id <= 4; id++) {
        module_registry_compress(&reg, id, SLUICE_CODEC_LEVEL_DEFAULT, big, sizeof big, &c, &clen);
        is_int(dec(&reg, id, c, clen, &d, &dlen), 2, "%s: 1001 bytes over a registry limit of 1000 -> 2",
               codec_name(id));
        is_int(dec(&reg, id, c, clen, &d, &dlen), 2, "%s: (again, no state left behind)", codec_name(id));
        free(c);
        module_registry_compress(&reg, id, SLUICE_CODEC_LEVEL_DEFAULT, big, 1000, &c, &clen);
        is_int(dec(&reg, id, c, clen, &d, &dlen), 0, "%s: 1000 bytes at the limit", codec_name(id));
        free(d);
        free(c);
    }
    module_registry_free(&reg);
    ok(!has_log_prefix(&f, "[codec_snappy] unloaded with") && !has_log_prefix(&f, "[codec_lz4] unloaded with") &&
           !has_log_prefix(&f, "[codec_zstd] unloaded with"),
       "all three modules freed all they allocated");

    test_config();
    test_clash();
    test_list();
    return done_testing();
}
