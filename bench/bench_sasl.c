/* Connection set-up rate: how many connections per second a client can
 * open and get ready to serve, one after the other, on one sluiced:
 *
 *   plaintext      connect + ApiVersions v3 (what every client sends first)
 *   plain          connect + ApiVersions + SaslHandshake v1 + SaslAuthenticate v2 (PLAIN)
 *   scram-sha-256  connect + ApiVersions + SaslHandshake + 2 x SaslAuthenticate (SCRAM)
 *   scram-sha-512  the same with SHA-512
 *
 * The client caches SaltedPassword per salt (as the Java client's
 * ScramCredentialUtils would for repeated logins), so the SCRAM numbers
 * are the broker's cost (nonce, HMACs, record lookup) plus the exchange's
 * round trips, not the client's PBKDF2.  Each connection ends with close().
 *
 * usage: bench_sasl --sluiced PATH --plugins DIR [--seconds S] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_sluiced.h"
#include "scram_msg.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            die("write");
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            die("read");
        p += r;
        n -= (size_t)r;
    }
}

/* Sends one request (header v1, or v2 when flexible) and returns the
 * response payload after the correlation id (and the v1 header's tags). */
static size_t call(int fd, int16_t key, int16_t ver, int flexible, const uint8_t *body, size_t blen,
                   uint8_t *resp, size_t cap)
{
    static int32_t corr;
    uint8_t buf[2048];
    size_t n = 4;
    buf[n++] = (uint8_t)(key >> 8), buf[n++] = (uint8_t)key;
    buf[n++] = (uint8_t)(ver >> 8), buf[n++] = (uint8_t)ver;
    int32_t c = ++corr;
    for (int i = 3; i >= 0; i--)
        buf[n++] = (uint8_t)(c >> (8 * i));
    buf[n++] = 0, buf[n++] = 5;
    memcpy(buf + n, "bench", 5), n += 5;
    if (flexible)
        buf[n++] = 0;
    memcpy(buf + n, body, blen), n += blen;
    uint32_t sz = (uint32_t)(n - 4);
    buf[0] = (uint8_t)(sz >> 24), buf[1] = (uint8_t)(sz >> 16), buf[2] = (uint8_t)(sz >> 8),
    buf[3] = (uint8_t)sz;
    write_all(fd, buf, n);
    uint8_t hdr[4];
    read_all(fd, hdr, 4);
    size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len > cap)
        die("response too large");
    read_all(fd, resp, len);
    size_t skip = 4 + (flexible && key != 18 ? 1 : 0);
    memmove(resp, resp + skip, len - skip);
    return len - skip;
}

static void api_versions(int fd)
{
    uint8_t body[] = { 6, 'b', 'e', 'n', 'c', 'h', 2, '1', 0 }, resp[4096];
    call(fd, 18, 3, 1, body, sizeof body, resp, sizeof resp);
    if (resp[0] || resp[1])
        die("ApiVersions error");
}

static void handshake(int fd, const char *mech)
{
    uint8_t body[64], resp[256];
    size_t n = strlen(mech);
    body[0] = 0, body[1] = (uint8_t)n;
    memcpy(body + 2, mech, n);
    call(fd, 17, 1, 0, body, n + 2, resp, sizeof resp);
    if (resp[0] || resp[1])
        die("SaslHandshake error");
}

/* SaslAuthenticate v2: compact bytes in, server bytes out (NUL-terminated). */
static size_t authenticate(int fd, const char *tok, size_t tlen, char *out, size_t cap)
{
    uint8_t body[1024], resp[1024];
    size_t n = 0;
    for (size_t v = tlen + 1; ; v >>= 7) { /* uvarint length */
        body[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    memcpy(body + n, tok, tlen), n += tlen;
    body[n++] = 0;
    size_t rl = call(fd, 36, 2, 1, body, n, resp, sizeof resp);
    if (rl < 4 || resp[0] || resp[1]) {
        fprintf(stderr, "SaslAuthenticate error %d\n", rl >= 2 ? resp[0] << 8 | resp[1] : -1);
        exit(1);
    }
    size_t p = 2;
    p += resp[p] ? resp[p] : 1; /* ErrorMessage: compact nullable string, short */
    size_t bl = resp[p++] - 1;
    if (bl >= cap)
        die("token");
    memcpy(out, resp + p, bl);
    out[bl] = '\0';
    return bl;
}

struct scram_cache {
    char salt_b64[128];
    uint8_t salted[SCRAM_MAX_HASH];
};

static void scram_login(int fd, const char *mech, const char *md, const char *pw,
                        struct scram_cache *cache)
{
    handshake(fd, mech);
    const EVP_MD *evp = strcmp(md, "SHA256") == 0 ? EVP_sha256() : EVP_sha512();
    size_t hl = scram_hash_len(md);
    uint8_t rnd[12];
    char cnonce[32], first[128], sf[512], final[512], sfin[256];
    RAND_bytes(rnd, sizeof rnd);
    scram_b64_encode(rnd, sizeof rnd, cnonce);
    int fl = snprintf(first, sizeof first, "n,,n=bench,r=%s", cnonce);
    authenticate(fd, first, (size_t)fl, sf, sizeof sf);
    char *r = strstr(sf, "r="), *s = strstr(sf, ",s="), *i = strstr(sf, ",i=");
    if (!r || !s || !i)
        die("server-first");
    char salt_b64[128];
    snprintf(salt_b64, sizeof salt_b64, "%.*s", (int)(i - s - 3), s + 3);
    if (strcmp(salt_b64, cache->salt_b64) != 0) {
        uint8_t salt[128];
        long sl = scram_b64_decode(salt_b64, strlen(salt_b64), salt, sizeof salt);
        scram_salted_password(md, pw, strlen(pw), salt, (size_t)sl, atoi(i + 3), cache->salted);
        snprintf(cache->salt_b64, sizeof cache->salt_b64, "%s", salt_b64);
    }
    uint8_t ck[64], stored[64], sig[64], proof[64];
    unsigned int n;
    HMAC(evp, cache->salted, (int)hl, (const uint8_t *)"Client Key", 10, ck, &n);
    EVP_Digest(ck, hl, stored, &n, evp, NULL);
    char wo[300], auth[1024];
    int wl = snprintf(wo, sizeof wo, "c=biws,r=%.*s", (int)(s - r - 2), r + 2);
    int al = snprintf(auth, sizeof auth, "%s,%s,%s", first + 3, sf, wo);
    HMAC(evp, stored, (int)hl, (const uint8_t *)auth, (size_t)al, sig, &n);
    for (size_t k = 0; k < hl; k++)
        proof[k] = ck[k] ^ sig[k];
    char pb[100];
    scram_b64_encode(proof, hl, pb);
    int finl = snprintf(final, sizeof final, "%.*s,p=%s", wl, wo, pb);
    authenticate(fd, final, (size_t)finl, sfin, sizeof sfin);
    if (strncmp(sfin, "v=", 2) != 0)
        die("server-final");
}

static pid_t start_sluiced(const char *path, const char *plugins, const char *dir, int *plain,
                           int *sasl)
{
    char config[2048];
    snprintf(config, sizeof config,
             "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0\nlog.dirs=%s/data\n"
             "log.level=warn\nplugin.dir=%s\nmodule.load=assignor_range\n"
             "module.load=assignor_sticky\nmodule.load=sasl_plain\nmodule.load=sasl_scram\n"
             "module.sasl_plain.sasl.jaas.config=user_bench=\"bench-pw\";\n"
             "module.sasl_scram.add.scram=SCRAM-SHA-256=[name=bench,password=bench-pw];"
             "SCRAM-SHA-512=[name=bench,password=bench-pw]\n"
             "connection.failed.authentication.delay.ms=0\n",
             dir, plugins);
    int ports[2];
    pid_t pid = bench_start_sluiced(path, dir, config, ports, 2);
    *plain = ports[0];
    *sasl = ports[1];
    return pid;
}

int main(int argc, char **argv)
{
    const char *sluiced = "./sluiced", *plugins = NULL;
    double seconds = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sluiced") && i + 1 < argc)
            sluiced = argv[++i];
        else if (!strcmp(argv[i], "--plugins") && i + 1 < argc)
            plugins = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_sasl --sluiced PATH --plugins DIR [--seconds S]\n");
            return 2;
        }
    }
    if (!plugins) {
        fprintf(stderr, "bench_sasl: --plugins DIR (with the sasl and assignor modules) needed\n");
        return 2;
    }
    char dir[] = "/tmp/bench-sasl-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    int pport, sport;
    pid_t pid = start_sluiced(sluiced, plugins, dir, &pport, &sport);
    const char *names[] = { "plaintext", "plain", "scram-sha-256", "scram-sha-512" };
    double rate[4];
    struct scram_cache c256 = { "", { 0 } }, c512 = { "", { 0 } };
    for (int k = 0; k < 4; k++) {
        int n = 0;
        double t0 = now_s(), t;
        do {
            int fd = connect_to(k == 0 ? pport : sport);
            api_versions(fd);
            if (k == 1) {
                handshake(fd, "PLAIN");
                char out[16];
                authenticate(fd, "\0bench\0bench-pw", 15, out, sizeof out);
            } else if (k == 2) {
                scram_login(fd, "SCRAM-SHA-256", "SHA256", "bench-pw", &c256);
            } else if (k == 3) {
                scram_login(fd, "SCRAM-SHA-512", "SHA512", "bench-pw", &c512);
            }
            close(fd);
            n++;
            t = now_s();
        } while (t - t0 < seconds);
        rate[k] = n / (t - t0);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    printf("connection set-up, one client, sequential (%.0f s each)\n", seconds);
    printf("%-15s %12s %10s\n", "mode", "conn/s", "vs PLAINTEXT");
    for (int k = 0; k < 4; k++)
        printf("%-15s %12.0f %9.2fx\n", names[k], rate[k], rate[k] / rate[0]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_sasl: could not remove %s\n", dir);
    return 0;
}
