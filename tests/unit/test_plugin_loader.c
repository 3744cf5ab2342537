/* Module loader, host API and codec_gzip: loads the real codec_gzip.so from
 * the build tree and the ABI-exercising modules of tests/modules/ (built as
 * check_LTLIBRARIES), and checks every refusal message word for word. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec_inputs.h"
#include "module_fixture.h"

/* ---- data ------------------------------------------------------------- */

static const uint8_t gz_hello[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb,
                                   0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x4e, 0x4c, 0xcb, 0x4e, 0xe4,
                                   0x02, 0x00, 0xa4, 0x65, 0x6f, 0xc3, 0x0c, 0x00, 0x00, 0x00};
/* `printf abc | gzip -n; printf def | gzip -n`: two members. */
static const uint8_t gz_two[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
                                 0x4b, 0x4c, 0x4a, 0x06, 0x00, 0xc2, 0x41, 0x24, 0x35, 0x03,
                                 0x00, 0x00, 0x00, 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x03, 0x4b, 0x49, 0x4d, 0x03, 0x00, 0x61, 0xe1,
                                 0xc4, 0x0c, 0x03, 0x00, 0x00, 0x00};

/* Independent check that the module writes a standard gzip stream. */
static int zlib_gunzip(const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)outcap;
    int rc = inflate(&z, Z_FINISH);
    *outlen = outcap - z.avail_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static char gzip_dir[512], tmod_dir[512];

/* ---- gzip ------------------------------------------------------------- */

static void round_trip(struct module_registry *reg, const char *what, const uint8_t *in, size_t n)
{
    uint8_t *c = NULL, *d = NULL;
    size_t clen = 0, dlen = 0;
    is_int(module_registry_compress(reg, 1, SLUICE_CODEC_LEVEL_DEFAULT, in, n, &c, &clen), 0,
           "gzip compress %s (%zu bytes)", what, n);
    ok(clen >= 18 && c[0] == 0x1f && c[1] == 0x8b && c[2] == 8, "%s: gzip header 1f 8b 08", what);
    uint8_t *z = malloc(n + 1);
    size_t zlen = 0;
    ok(zlib_gunzip(c, clen, z, n + 1, &zlen) == 0 && zlen == n && (n == 0 || !memcmp(z, in, n)),
       "%s: plain zlib inflates the module's output back", what);
    free(z);
    is_int(module_registry_decompress(reg, 1, c, clen, &d, &dlen), 0, "%s: decompress", what);
    is_int(dlen, n, "%s: decompressed length", what);
    ok(d != NULL && (n == 0 || memcmp(d, in, n) == 0), "%s: decompressed bytes equal", what);
    free(c);
    free(d);
}

static void test_gzip(void)
{
    struct module_registry reg;
    struct fixture f;
    char err[512];
    mf_setup(&reg, &f);

    is_int(module_load(&reg, "codec_gzip", gzip_dir, err, sizeof err), 0, "load codec_gzip by name");
    if (module_registry_count(&reg) != 1)
        diag("load error: %s", err);
    const struct sluice_module *m = module_registry_find(&reg, "codec_gzip");
    ok(m && strcmp(m->version, "1.0.0") == 0 && m->kinds == SLUICE_KIND_CODEC,
       "descriptor: version 1.0.0, kinds codec");
    const struct module_codec *c = module_registry_codec(&reg, 1);
    ok(c && strcmp(c->ops.name, "gzip") == 0 && c->ops.codec_id == 1, "codec id 1 is gzip");
    ok(module_registry_codec(&reg, 2) == NULL && module_registry_codec(&reg, 0) == NULL &&
           module_registry_codec(&reg, 99) == NULL,
       "no snappy, no codec for 0 or out of range");

    is_int(module_load(&reg, "codec_gzip", gzip_dir, err, sizeof err), -1, "duplicate load refused");
    char want[1200];
    snprintf(want, sizeof want,
             "module 'codec_gzip' (%s/codec_gzip.so): already loaded from %s/codec_gzip.so",
             gzip_dir, gzip_dir);
    is_str(err, want, "duplicate message names both files");

    /* Round trips. */
    round_trip(&reg, "empty", (const uint8_t *)"", 0);
    round_trip(&reg, "one byte", (const uint8_t *)"k", 1);
    uint8_t *text = make_text((1 << 20) + 1); /* +1: the over-the-limit case */
    round_trip(&reg, "1 MiB text", text, 1 << 20);
    uint8_t *rnd = make_random(1 << 20);
    round_trip(&reg, "1 MiB random", rnd, 1 << 20);
    round_trip(&reg, "300 KiB text", text, 300 << 10);

    /* Levels: 1 and 9 both valid, 9 no larger than 1 on text. */
    uint8_t *o1, *o9;
    size_t l1, l9;
    is_int(module_registry_compress(&reg, 1, 1, text, 1 << 20, &o1, &l1), 0, "level 1");
    is_int(module_registry_compress(&reg, 1, 9, text, 1 << 20, &o9, &l9), 0, "level 9");
    ok(l9 <= l1 && l1 < (1 << 20) / 2, "level 9 (%zu) <= level 1 (%zu) and both compress", l9, l1);
    free(o1);
    free(o9);
    uint8_t *bad;
    size_t badlen;
    is_int(module_registry_compress(&reg, 1, 42, text, 100, &bad, &badlen), 2,
           "compress with level 42 fails");
    ok(has_log_prefix(&f, "[codec_gzip] gzip compress of 100 bytes failed (-3): gzip level 42"),
       "... and logs why with the module prefix");

    /* Interop with the gzip tool, and concatenated members. */
    uint8_t *d;
    size_t dlen;
    is_int(module_registry_decompress(&reg, 1, gz_hello, sizeof gz_hello, &d, &dlen), 0,
           "decompress `gzip -n` output");
    ok(dlen == 12 && memcmp(d, "hello kafka\n", 12) == 0, "... is 'hello kafka\\n'");
    free(d);
    is_int(module_registry_decompress(&reg, 1, gz_two, sizeof gz_two, &d, &dlen), 0,
           "two concatenated gzip members");
    ok(dlen == 6 && memcmp(d, "abcdef", 6) == 0, "... decompress to 'abcdef'");
    free(d);

    /* Corrupt inputs: Kafka CORRUPT_MESSAGE (2), nothing returned. */
    uint8_t flip[sizeof gz_hello];
    memcpy(flip, gz_hello, sizeof flip);
    flip[12] ^= 0x55;
    d = (uint8_t *)"sentinel";
    is_int(module_registry_decompress(&reg, 1, flip, sizeof flip, &d, &dlen), 2,
           "flipped deflate bits -> CORRUPT_MESSAGE");
    ok(d == NULL && dlen == 0, "... no output on failure");
    memcpy(flip, gz_hello, sizeof flip);
    flip[sizeof flip - 5] ^= 0xff; /* CRC32 */
    is_int(module_registry_decompress(&reg, 1, flip, sizeof flip, &d, &dlen), 2, "bad CRC -> 2");
    is_int(module_registry_decompress(&reg, 1, gz_hello, sizeof gz_hello - 6, &d, &dlen), 2,
           "truncated stream -> 2");
    uint8_t trail[sizeof gz_hello + 3];
    memcpy(trail, gz_hello, sizeof gz_hello);
    memcpy(trail + sizeof gz_hello, "xyz", 3);
    is_int(module_registry_decompress(&reg, 1, trail, sizeof trail, &d, &dlen), 2,
           "trailing garbage -> 2");
    is_int(module_registry_decompress(&reg, 1, (const uint8_t *)"", 0, &d, &dlen), 2,
           "empty payload -> 2");
    is_int(module_registry_decompress(&reg, 1, rnd, 4096, &d, &dlen), 2, "random bytes -> 2");
    ok(has_log_prefix(&f, "[codec_gzip] gzip decompress of 32 bytes failed (-4): invalid gzip data"),
       "corrupt payload logged (debug) with the zlib reason");

    /* Unsupported codec and codec 0. */
    is_int(module_registry_decompress(&reg, 2, gz_hello, sizeof gz_hello, &d, &dlen), 76,
           "snappy not loaded -> UNSUPPORTED_COMPRESSION_TYPE");
    is_int(module_registry_decompress(&reg, 7, gz_hello, sizeof gz_hello, &d, &dlen), 76,
           "codec 7 -> 76");
    is_int(module_registry_decompress(&reg, 0, (const uint8_t *)"raw", 3, &d, &dlen), 0,
           "codec 0 is a copy");
    ok(dlen == 3 && memcmp(d, "raw", 3) == 0, "... same bytes");
    free(d);

    /* Decompression bombs: output limit enforced exactly. */
    size_t mib = 1 << 20;
    uint8_t *zeros = calloc(8, mib);
    uint8_t *bomb;
    size_t bomblen;
    module_registry_compress(&reg, 1, 9, zeros, 8 * mib, &bomb, &bomblen);
    ok(bomblen < 64 * 1024, "8 MiB of zeros gzip to %zu bytes", bomblen);
    reg.max_decompressed = mib;
    is_int(module_registry_decompress(&reg, 1, bomb, bomblen, &d, &dlen), 2,
           "8 MiB bomb over a 1 MiB limit -> 2");
    snprintf(want, sizeof want,
             "[codec_gzip] gzip decompress of %zu bytes failed (-5): gzip payload decompresses to "
             "more than 1048576 bytes",
             bomblen);
    ok(has_log(&f, want), "bomb refusal logged with the limit");
    uint8_t *exact;
    size_t exactlen;
    module_registry_compress(&reg, 1, 1, text, mib, &exact, &exactlen);
    is_int(module_registry_decompress(&reg, 1, exact, exactlen, &d, &dlen), 0,
           "exactly 1 MiB under a 1 MiB limit is fine");
    is_int(dlen, mib, "... full length");
    free(d);
    free(exact);
    module_registry_compress(&reg, 1, 1, text, mib + 1, &exact, &exactlen);
    is_int(module_registry_decompress(&reg, 1, exact, exactlen, &d, &dlen), 2,
           "1 MiB + 1 byte under a 1 MiB limit -> 2");
    free(exact);

    /* Straight through the vtable: TOO_LARGE, and the buffer never grew past the limit. */
    struct sluice_buf b = {0};
    char cerr[256];
    int rc = c->ops.decompress(c->state, bomb, bomblen, mib, &b, cerr, sizeof cerr);
    is_int(rc, SLUICE_ERR_TOO_LARGE, "vtable decompress returns SLUICE_ERR_TOO_LARGE");
    ok(b.len <= mib + 1 && b.cap <= 2 * (mib + 1),
       "wrote at most max_out + 1 bytes (%zu), buffer under 2x the limit (cap %zu)", b.len, b.cap);
    is_str(cerr, "gzip payload decompresses to more than 1048576 bytes", "bomb error text");
    free(b.data);
    free(bomb);

    /* Default limit is 64 MiB. */
    reg.max_decompressed = 0;
    free(zeros);
    zeros = calloc(65, mib);
    module_registry_compress(&reg, 1, 1, zeros, 65 * mib, &bomb, &bomblen);
    is_int(module_registry_decompress(&reg, 1, bomb, bomblen, &d, &dlen), 2,
           "65 MiB payload over the default 64 MiB limit -> 2");
    free(bomb);
    free(zeros);

    module_registry_free(&reg);
    ok(module_registry_codec(&reg, 1) == NULL && module_registry_count(&reg) == 0,
       "after free: no codec, no module");
    ok(!has_log_prefix(&f, "[codec_gzip] unloaded with"), "codec_gzip freed all it allocated");
    free(text);
    free(rnd);
}

static void test_gzip_config(void)
{
    struct module_registry reg;
    struct fixture f;
    char err[512], want[1200], path[1100];
    mf_setup(&reg, &f);

    cfg_set(&f, "compression.gzip.level", "42");
    is_int(module_load(&reg, "codec_gzip", gzip_dir, err, sizeof err), -1, "level 42 refused");
    snprintf(want, sizeof want,
             "module 'codec_gzip' (%s/codec_gzip.so): init failed (-3): compression.gzip.level "
             "must be -1 (zlib default) or 1..9, got '42'",
             gzip_dir);
    is_str(err, want, "init failure message has module, file, code and reason");
    is_int(module_registry_count(&reg), 0, "nothing left loaded");

    cfg_set(&f, "module.codec_gzip.compression.gzip.level", "1");
    snprintf(path, sizeof path, "%s/codec_gzip.so", gzip_dir);
    is_int(module_load(&reg, path, NULL, err, sizeof err), 0,
           "module.codec_gzip.* beats the plain key; absolute path load");
    ok(has_log(&f, "[codec_gzip] gzip codec ready (zlib " ZLIB_VERSION ", level 1)"),
       "module read level 1 and logged with its prefix");
    module_registry_free(&reg);
}

/* ---- refusals from tests/modules ---------------------------------------- */

static void test_refusals(void)
{
    struct module_registry reg;
    struct fixture f;
    char err[512], want[1200];
    mf_setup(&reg, &f);

    is_int(module_load(&reg, "codec_nope", tmod_dir, err, sizeof err), -1, "missing file");
    snprintf(want, sizeof want,
             "module 'codec_nope': cannot load %s/codec_nope.so: No such file or directory",
             tmod_dir);
    is_str(err, want, "missing file message");

    is_int(module_load(&reg, "../evil", tmod_dir, err, sizeof err), -1, "path in name refused");
    is_str(err, "invalid module name '../evil' (use [a-z0-9_]+ or an absolute path to a .so)",
           "invalid name message");
    is_int(module_load(&reg, "/tmp/x.txt", NULL, err, sizeof err), -1, "non-.so path refused");
    is_str(err, "module path '/tmp/x.txt' does not name a .so file", "non-.so message");

    is_int(module_load(&reg, "mod_bad_major", tmod_dir, err, sizeof err), -1, "ABI major 2 refused");
    snprintf(want, sizeof want,
             "module 'mod_bad_major' (%s/mod_bad_major.so): plugin ABI major mismatch: got 2.0, "
             "expected 1.x (rebuild the module against this broker's <sluice/plugin.h>)",
             tmod_dir);
    is_str(err, want, "major mismatch names file, got and expected");

    is_int(module_load(&reg, "mod_new_minor", tmod_dir, err, sizeof err), -1,
           "ABI 1.%d refused", SLUICE_ABI_MINOR + 1);
    snprintf(want, sizeof want,
             "module 'mod_new_minor' (%s/mod_new_minor.so): plugin ABI 1.%d is newer than this "
             "broker: got minor %d, expected <= %d (upgrade the broker or rebuild the module)",
             tmod_dir, SLUICE_ABI_MINOR + 1, SLUICE_ABI_MINOR + 1, SLUICE_ABI_MINOR);
    is_str(err, want, "minor too new names file, got and expected");

    is_int(module_load(&reg, "mod_no_symbol", tmod_dir, err, sizeof err), -1, "no descriptor");
    snprintf(want, sizeof want,
             "module 'mod_no_symbol': %s/mod_no_symbol.so does not export the 'sluice_module' "
             "symbol (not a Sluice module?)",
             tmod_dir);
    is_str(err, want, "missing symbol message");

    is_int(module_load(&reg, "mod_init_fail", tmod_dir, err, sizeof err), -1, "init fails");
    snprintf(want, sizeof want,
             "module 'mod_init_fail' (%s/mod_init_fail.so): init failed (-3): "
             "module.mod_init_fail.secret is required",
             tmod_dir);
    is_str(err, want, "init failure carries the module's message");
    ok(!has_log(&f, "[mod_init_fail] fini called"), "fini not called after a failed init");
    is_int(module_registry_count(&reg), 0, "no module loaded after the refusals");

    cfg_set(&f, "module.mod_init_fail.secret", "abc");
    is_int(module_load(&reg, "mod_init_fail", tmod_dir, err, sizeof err), 0,
           "init succeeds once module.mod_init_fail.secret is set");
    ok(has_log(&f, "[mod_init_fail] secret has 3 chars"), "module log line is prefixed");

    /* Two modules on the same codec id. */
    is_int(module_load_list(&reg, "mod_codec_a, mod_codec_b", tmod_dir, err, sizeof err), -1,
           "load list stops at the codec clash");
    snprintf(want, sizeof want,
             "module 'mod_codec_b' (%s/mod_codec_b.so): init failed: codec id 6 (ident-b) is "
             "already provided by module 'mod_codec_a'",
             tmod_dir);
    is_str(err, want, "clash names both modules and the id, although b's init returned 0");
    ok(has_log(&f, "[mod_codec_b] fini called"), "b's fini ran since its init had returned 0");
    ok(module_registry_find(&reg, "mod_codec_a") && !module_registry_find(&reg, "mod_codec_b"),
       "a stays loaded, b is gone");
    const struct module_codec *c6 = module_registry_codec(&reg, 6);
    ok(c6 && strcmp(c6->ops.name, "ident") == 0, "codec 6 still belongs to mod_codec_a");

    uint8_t *d;
    size_t dlen;
    is_int(module_registry_decompress(&reg, 6, (const uint8_t *)"payload", 7, &d, &dlen), 0,
           "identity codec through the glue");
    ok(dlen == 7 && !memcmp(d, "payload", 7), "... same bytes");
    free(d);
    is_int(module_registry_decompress(&reg, 6, (const uint8_t *)"BAD!", 4, &d, &dlen), 2,
           "module SLUICE_ERR_CORRUPT -> Kafka 2");
    reg.max_decompressed = 4;
    is_int(module_registry_decompress(&reg, 6, (const uint8_t *)"12345", 5, &d, &dlen), 2,
           "module SLUICE_ERR_TOO_LARGE -> Kafka 2");
    is_int(module_registry_decompress(&reg, 6, (const uint8_t *)"1234", 4, &d, &dlen), 0,
           "at the limit is fine");
    free(d);

    /* Old/short layouts: descriptor read only up to its struct_size. */
    is_int(module_load(&reg, "mod_small", tmod_dir, err, sizeof err), -1, "short codec ops refused");
    snprintf(want, sizeof want,
             "module 'mod_small' (%s/mod_small.so): init failed (-3): codec ops struct_size %zu is "
             "smaller than the ABI 1.0 minimum %zu",
             tmod_dir, offsetof(struct sluice_codec_ops, decompress),
             (size_t)SLUICE_CODEC_OPS_MIN_SIZE_V1_0);
    is_str(err, want, "... with both sizes");
    ok(module_registry_codec(&reg, 5) == NULL, "nothing registered on codec 5");

    module_registry_free(&reg);
    ok(has_log(&f, "[mod_init_fail] fini called"), "fini called at registry free");
}

/* ---- loop API ------------------------------------------------------------ */

static void test_loop(void)
{
    struct module_registry reg;
    struct fixture f;
    char err[512], want[1200];
    mf_setup(&reg, &f);

    is_int(module_load(&reg, "mod_loop", tmod_dir, err, sizeof err), -1,
           "without a loop timer_start returns NULL");
    snprintf(want, sizeof want,
             "module 'mod_loop' (%s/mod_loop.so): init failed (-8): needs an event loop",
             tmod_dir);
    is_str(err, want, "... and the module says so");

    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    is_int(module_registry_set_loop(&reg, loop, err, sizeof err), 0, "set loop");
    cfg_set(&f, "module.mod_loop.greeting", "hi");
    cfg_set(&f, "greeting", "plain");
    cfg_set(&f, "count", "oops");
    is_int(module_load(&reg, "mod_loop", tmod_dir, err, sizeof err), -1, "bad int refused");
    ok(strstr(err, "init failed (-3): count is not an integer") != NULL, "config_get_int rejects 'oops'");
    cfg_set(&f, "count", " 12");
    cfg_set(&f, "module.mod_loop.flag", "Yes");
    is_int(module_load(&reg, "mod_loop", tmod_dir, err, sizeof err), 0, "mod_loop loads");
    ok(has_log(&f, "[mod_loop] greeting=hi flag=1 count=12"),
       "module prefix wins, plain key fallback, bool parsing");

    for (int i = 0; i < 2000; i++) {
        if (has_log(&f, "[mod_loop] timer ticks=3") && has_log(&f, "[mod_loop] post on loop thread=1") &&
            has_log(&f, "[mod_loop] io revents=1 byte=x"))
            break;
        ev_run(loop, EVRUN_ONCE);
    }
    ok(has_log(&f, "[mod_loop] timer ticks=3"), "repeating timer stopped itself after 3 ticks");
    ok(has_log(&f, "[mod_loop] post on loop thread=1"), "post from a module thread ran on the loop");
    ok(has_log(&f, "[mod_loop] io revents=1 byte=x"), "io watcher saw the pipe readable");
    module_registry_free(&reg);
    ok(has_log(&f, "[mod_loop] fini ticks=3"), "fini ran");
    ok(!has_log_prefix(&f, "[mod_loop] unloaded with"), "module freed all it allocated");
    ev_loop_destroy(loop);
}

/* ---- --list-modules -------------------------------------------------------- */

/* The ABI the test modules were just built against, as --list-modules
 * prints it (they follow the header, so a minor bump must not break this). */
#define ABI_STR2(x) #x
#define ABI_STR(x) ABI_STR2(x)
#define ABI_NOW ABI_STR(SLUICE_ABI_MAJOR) "." ABI_STR(SLUICE_ABI_MINOR)

static void test_list(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int n = module_list_dir(tmod_dir, out);
    fclose(out);
    is_int(n, 5, "five loadable test modules (codec_a, codec_b, init_fail, loop, small)");
    char line[256];
    snprintf(line, sizeof line,
             "mod_codec_a          0.0.1      abi 1.%d  kinds codec        identity codec on id 6\n",
             SLUICE_ABI_MINOR);
    ok(strstr(buf, line) != NULL, "loadable module line: name, version, abi, kinds, description");
    snprintf(line, sizeof line, "mod_loop             0.0.1      abi 1.%d  kinds service",
             SLUICE_ABI_MINOR);
    ok(strstr(buf, line) != NULL, "service kind shown");
    char want[1200];
    snprintf(want, sizeof want,
             "mod_bad_major.so: not loadable: module 'mod_bad_major' (%s/mod_bad_major.so): plugin "
             "ABI major mismatch: got 2.0, expected 1.x",
             tmod_dir);
    ok(strstr(buf, want) != NULL, "bad major listed with the reason");
    ok(strstr(buf, "mod_no_symbol.so: not loadable: ") != NULL, "missing symbol listed");
    ok(strstr(buf, "mod_codec_a") < strstr(buf, "mod_loop"), "sorted by file name");
    ok(strstr(buf, "mod_small            0.0.1      abi 1.0  kinds codec        \n") != NULL,
       "description beyond the declared struct_size is ignored");
    if (n != 5)
        diag("%s", buf);
    free(buf);

    out = open_memstream(&buf, &len);
    is_int(module_list_dir(gzip_dir, out), 1, "codec_gzip dir lists one module");
    fclose(out);
    snprintf(line, sizeof line,
             "codec_gzip           1.0.0      abi 1.%d  kinds codec        gzip compression codec (zlib)",
             SLUICE_ABI_MINOR);
    ok(strstr(buf, line) != NULL, "codec_gzip line");
    free(buf);

    out = open_memstream(&buf, &len);
    is_int(module_list_dir("/nonexistent/dir", out), -1, "missing dir -> -1");
    fclose(out);
    is_str(buf, "cannot read module directory /nonexistent/dir: No such file or directory\n",
           "missing dir message");
    free(buf);
}

static void test_host_table(void)
{
    struct sluice_host_api small;
    memset(&small, 0, sizeof small);
    small.size = offsetof(struct sluice_host_api, register_codec);
    small.log = (void (*)(struct sluice_module_ctx *, int, const char *, ...))1;
    small.register_codec = (int (*)(struct sluice_module_ctx *, const struct sluice_codec_ops *,
                                    void *))1;
    ok(SLUICE_HOST_HAS(&small, log), "SLUICE_HOST_HAS: member inside size");
    ok(!SLUICE_HOST_HAS(&small, register_codec), "SLUICE_HOST_HAS: member beyond size");
}

int main(void)
{
    const char *top = getenv("SLUICE_TOP_BUILDDIR");
    if (!top)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");
    snprintf(gzip_dir, sizeof gzip_dir, "%s/modules/codec_gzip/.libs", top);
    snprintf(tmod_dir, sizeof tmod_dir, "%s/tests/modules/.libs", top);
    test_host_table();
    test_gzip();
    test_gzip_config();
    test_refusals();
    test_loop();
    test_list();
    return done_testing();
}
