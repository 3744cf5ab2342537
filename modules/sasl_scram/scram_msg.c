/* SCRAM messages, keys and stored credentials (see scram_msg.h). */
#include "scram_msg.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t scram_b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad)
                    return -1; /* data after '=' */
                v[k] = b64val(in[i + k]);
                if (v[k] < 0)
                    return -1;
            }
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t take = 3 - (size_t)pad;
        if (o + take > cap)
            return -1;
        out[o++] = (uint8_t)(x >> 16);
        if (take > 1)
            out[o++] = (uint8_t)(x >> 8);
        if (take > 2)
            out[o++] = (uint8_t)x;
    }
    return (long)o;
}

/* saslname unescaping: "=2C" -> ',', "=3D" -> '='; any other '=' is an error. */
static int unescape_name(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)p[i];
        if (c == '=') {
            if (i + 2 >= n)
                return -1;
            if (p[i + 1] == '2' && p[i + 2] == 'C')
                c = ',';
            else if (p[i + 1] == '3' && p[i + 2] == 'D')
                c = '=';
            else
                return -1;
            i += 2;
        } else if (c == ',' || c == '\0') {
            return -1;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return o ? 0 : -1;
}

/* Printable ASCII except ',' (RFC 5802 "printable"). */
static int copy_nonce(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
            return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static const uint8_t *find_comma(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *c = memchr(p, ',', (size_t)(end - p));
    return c ? c : end;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

int scram_parse_client_first(const uint8_t *in, size_t len, struct scram_client_first *out,
                             char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p = in, *end = in + len;
    /* gs2-cbind-flag: Kafka supports no channel binding: "n" (or "y"). */
    if (len < 3 || (p[0] != 'n' && p[0] != 'y') || p[1] != ',')
        FAIL("Invalid SCRAM client first message: channel binding not supported");
    p += 2;
    const uint8_t *c = find_comma(p, end);
    if (c == end)
        FAIL("Invalid SCRAM client first message");
    if (c > p) {
        if (c - p < 3 || p[0] != 'a' || p[1] != '=' ||
            unescape_name(p + 2, (size_t)(c - p - 2), out->authzid, sizeof out->authzid) < 0)
            FAIL("Invalid SCRAM client first message: bad authorization id");
    }
    p = c + 1;
    out->gs2_len = (size_t)(p - in);
    out->bare_off = out->gs2_len;
    /* n=user */
    c = find_comma(p, end);
    if (c - p < 3 || p[0] != 'n' || p[1] != '=' ||
        unescape_name(p + 2, (size_t)(c - p - 2), out->user, sizeof out->user) < 0)
        FAIL("Invalid SCRAM client first message: bad user name");
    if (c == end)
        FAIL("Invalid SCRAM client first message: no nonce");
    p = c + 1;
    c = find_comma(p, end);
    if (c - p < 3 || p[0] != 'r' || p[1] != '=' ||
        copy_nonce(p + 2, (size_t)(c - p - 2), out->nonce, sizeof out->nonce) < 0)
        FAIL("Invalid SCRAM client first message: bad nonce");
    /* Extensions (Kafka's tokenauth=true, ...) follow as key=value. */
    while (c < end) {
        p = c + 1;
        c = find_comma(p, end);
        if (c - p < 2 || memchr(p, '=', (size_t)(c - p)) == NULL || memchr(p, '\0', (size_t)(c - p)))
            FAIL("Invalid SCRAM client first message: bad extension");
    }
    if (out->authzid[0] && strcmp(out->authzid, out->user) != 0)
        FAIL("Authentication failed: Client requested an authorization id that is different from "
             "username");
    return 0;
}

int scram_parse_client_final(const uint8_t *in, size_t len, struct scram_client_final *out,
                             char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p = in, *end = in + len;
    const uint8_t *c = find_comma(p, end);
    if (c - p < 2 || p[0] != 'c' || p[1] != '=')
        FAIL("Invalid SCRAM client final message: no channel binding");
    long n = scram_b64_decode((const char *)p + 2, (size_t)(c - p - 2), out->cbind,
                              sizeof out->cbind);
    if (n < 0 || c == end)
        FAIL("Invalid SCRAM client final message: bad channel binding");
    out->cbind_len = (size_t)n;
    p = c + 1;
    c = find_comma(p, end);
    if (c - p < 3 || p[0] != 'r' || p[1] != '=' ||
        copy_nonce(p + 2, (size_t)(c - p - 2), out->nonce, sizeof out->nonce) < 0 || c == end)
        FAIL("Invalid SCRAM client final message: bad nonce");
    /* Extensions, then p= last. */
    for (;;) {
        p = c + 1;
        c = find_comma(p, end);
        if (c - p >= 2 && p[0] == 'p' && p[1] == '=') {
            if (c != end)
                FAIL("Invalid SCRAM client final message: data after the proof");
            out->without_proof_len = (size_t)(p - 1 - in);
            n = scram_b64_decode((const char *)p + 2, (size_t)(c - p - 2), out->proof,
                                 sizeof out->proof);
            if (n <= 0)
                FAIL("Invalid SCRAM client final message: bad proof");
            out->proof_len = (size_t)n;
            return 0;
        }
        if (c == end || c - p < 2 || memchr(p, '=', (size_t)(c - p)) == NULL)
            FAIL("Invalid SCRAM client final message: no proof");
    }
}

/* ---- credentials -------------------------------------------------------- */

size_t scram_cred_encode(const struct scram_credential *c, char *out, size_t cap)
{
    char s[SCRAM_MAX_SALT * 2], st[SCRAM_MAX_HASH * 2], sv[SCRAM_MAX_HASH * 2];
    scram_b64_encode(c->salt, c->salt_len, s);
    scram_b64_encode(c->stored_key, c->key_len, st);
    scram_b64_encode(c->server_key, c->key_len, sv);
    int n = snprintf(out, cap, "salt=%s,stored_key=%s,server_key=%s,iterations=%d", s, st, sv,
                     (int)c->iterations);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int scram_cred_decode(const char *in, size_t len, size_t hash_len, struct scram_credential *c)
{
    memset(c, 0, sizeof *c);
    const char *p = in, *end = in + len;
    int seen = 0;
    while (p < end) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        if (!e)
            e = end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (!eq)
            return -1;
        size_t kl = (size_t)(eq - p), vl = (size_t)(e - eq - 1);
        const char *v = eq + 1;
        long n;
        if (kl == 4 && memcmp(p, "salt", 4) == 0) {
            n = scram_b64_decode(v, vl, c->salt, sizeof c->salt);
            if (n <= 0)
                return -1;
            c->salt_len = (size_t)n;
            seen |= 1;
        } else if (kl == 10 && memcmp(p, "stored_key", 10) == 0) {
            n = scram_b64_decode(v, vl, c->stored_key, sizeof c->stored_key);
            if (n < 0 || (size_t)n != hash_len)
                return -1;
            seen |= 2;
        } else if (kl == 10 && memcmp(p, "server_key", 10) == 0) {
            n = scram_b64_decode(v, vl, c->server_key, sizeof c->server_key);
            if (n < 0 || (size_t)n != hash_len)
                return -1;
            seen |= 4;
        } else if (kl == 10 && memcmp(p, "iterations", 10) == 0) {
            if (vl == 0 || vl > 9)
                return -1;
            int32_t it = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                it = it * 10 + (v[i] - '0');
            }
            c->iterations = it;
            seen |= 8;
        } else {
            return -1;
        }
        p = e + 1;
    }
    if (seen != 15 || c->iterations < SCRAM_MIN_ITERATIONS)
        return -1;
    c->key_len = hash_len;
    return 0;
}

/* ---- crypto -------------------------------------------------------------- */

size_t scram_hash_len(const char *md_name)
{
    return strcmp(md_name, "SHA256") == 0 ? 32 : strcmp(md_name, "SHA512") == 0 ? 64 : 0;
}

static const EVP_MD *md_of(const char *md_name)
{
    return strcmp(md_name, "SHA256") == 0 ? EVP_sha256() : strcmp(md_name, "SHA512") == 0 ? EVP_sha512() : NULL;
}

static int hmac(const EVP_MD *md, const uint8_t *key, size_t klen, const uint8_t *d, size_t dlen,
                uint8_t *out)
{
    unsigned int n = 0;
    return HMAC(md, key, (int)klen, d, dlen, out, &n) ? 0 : -1;
}

int scram_keys_from_salted(const char *md_name, const uint8_t *salted, size_t len,
                           uint8_t *stored_key, uint8_t *server_key)
{
    const EVP_MD *md = md_of(md_name);
    uint8_t client_key[SCRAM_MAX_HASH];
    unsigned int n = 0;
    if (!md || hmac(md, salted, len, (const uint8_t *)"Client Key", 10, client_key) < 0 ||
        hmac(md, salted, len, (const uint8_t *)"Server Key", 10, server_key) < 0 ||
        !EVP_Digest(client_key, scram_hash_len(md_name), stored_key, &n, md, NULL))
        return -1;
    OPENSSL_cleanse(client_key, sizeof client_key);
    return 0;
}

int scram_salted_password(const char *md_name, const char *password, size_t pwlen,
                          const uint8_t *salt, size_t salt_len, int32_t iterations, uint8_t *out)
{
    const EVP_MD *md = md_of(md_name);
    return md && PKCS5_PBKDF2_HMAC(password, (int)pwlen, salt, (int)salt_len, iterations, md,
                                   (int)scram_hash_len(md_name), out)
               ? 0
               : -1;
}

int scram_verify_proof(const char *md_name, const struct scram_credential *c,
                       const uint8_t *auth_msg, size_t auth_len, const uint8_t *proof,
                       size_t proof_len, uint8_t *server_sig)
{
    const EVP_MD *md = md_of(md_name);
    size_t hl = scram_hash_len(md_name);
    uint8_t client_sig[SCRAM_MAX_HASH], client_key[SCRAM_MAX_HASH], stored[SCRAM_MAX_HASH];
    unsigned int n = 0;
    if (!md || proof_len != hl || c->key_len != hl)
        return 0;
    if (hmac(md, c->stored_key, hl, auth_msg, auth_len, client_sig) < 0)
        return 0;
    for (size_t i = 0; i < hl; i++)
        client_key[i] = proof[i] ^ client_sig[i];
    if (!EVP_Digest(client_key, hl, stored, &n, md, NULL))
        return 0;
    int ok = CRYPTO_memcmp(stored, c->stored_key, hl) == 0;
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (ok && hmac(md, c->server_key, hl, auth_msg, auth_len, server_sig) < 0)
        return 0;
    return ok;
}
