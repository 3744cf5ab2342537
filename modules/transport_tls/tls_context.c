/* OpenSSL server contexts from Kafka's ssl.* keys; see tls_context.h. */
#include "tls_context.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

/* Appends OpenSSL's first queued error reason (if any) to err. */
static void ossl_reason(char *err, size_t errlen)
{
    unsigned long e = ERR_peek_last_error();
    size_t l = strlen(err);
    if (e && l + 3 < errlen) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err + l, errlen - l, " (%s)", buf);
    }
    ERR_clear_error();
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    ossl_reason(err, errlen);
    return -1;
}

static int mtime_of(const char *path, struct timespec *ts)
{
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return -1;
    *ts = st.st_mtim;
    return 0;
}

/* Store type: "PKCS12" or "PEM" (case-insensitive, as Java's KeyStore). */
enum store_type { STORE_PKCS12, STORE_PEM };

static int store_type(const char *v, const char *key, enum store_type *t, char *err, size_t errlen)
{
    if (!v || !strcasecmp(v, "PKCS12")) {
        *t = STORE_PKCS12;
        return 0;
    }
    if (!strcasecmp(v, "PEM")) {
        *t = STORE_PEM;
        return 0;
    }
    if (!strcasecmp(v, "JKS"))
        snprintf(err, errlen, "%s: JKS key stores are not supported; convert with keytool "
                              "-importkeystore -deststoretype PKCS12, or use PEM", key);
    else
        snprintf(err, errlen, "%s: unknown store type '%s' (PKCS12 or PEM)", key, v);
    return -1;
}

static BIO *open_bio(const char *path, const char *inline_pem, const char *key, char *err,
                     size_t errlen)
{
    BIO *b = inline_pem ? BIO_new_mem_buf(inline_pem, -1) : BIO_new_file(path, "rb");
    if (!b) {
        if (inline_pem)
            fail(err, errlen, "%s: out of memory", key);
        else
            snprintf(err, errlen, "%s: cannot open '%s': %s", key, path, strerror(errno));
        ERR_clear_error();
    }
    return b;
}

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *p = u;
    if (!p)
        return 0;
    int n = (int)strlen(p);
    if (n > size)
        n = size;
    memcpy(buf, p, (size_t)n);
    return n;
}

/* Reads every certificate of a PEM source (other blocks are skipped). */
static STACK_OF(X509) *read_pem_certs(BIO *b)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    while (sk && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        sk_X509_push(sk, x);
    ERR_clear_error(); /* the end of the input reads as "no start line" */
    return sk;
}

static int load_pkcs12(const char *path, const char *pass, const char *key, EVP_PKEY **pkey,
                       X509 **cert, STACK_OF(X509) **ca, char *err, size_t errlen)
{
    BIO *b = open_bio(path, NULL, key, err, errlen);
    if (!b)
        return -1;
    PKCS12 *p12 = d2i_PKCS12_bio(b, NULL);
    BIO_free(b);
    if (!p12)
        return fail(err, errlen, "%s: '%s' is not a PKCS12 file", key, path);
    int ok = PKCS12_parse(p12, pass ? pass : "", pkey, cert, ca);
    PKCS12_free(p12);
    if (!ok)
        return fail(err, errlen, "%s: cannot read '%s' (wrong password?)", key, path);
    return 0;
}

/* Key store: the server certificate, its chain and private key. */
static int load_keystore(SSL_CTX *ctx, tls_config_get_fn get, void *ud, struct tls_built *out,
                         char *err, size_t errlen)
{
    const char *k_type, *k_loc, *k_pass, *k_keypass, *k_chain, *k_key;
    const char *type = get(ud, "ssl.keystore.type", &k_type);
    const char *loc = get(ud, "ssl.keystore.location", &k_loc);
    const char *pass = get(ud, "ssl.keystore.password", &k_pass);
    const char *keypass = get(ud, "ssl.key.password", &k_keypass);
    const char *chain = get(ud, "ssl.keystore.certificate.chain", &k_chain);
    const char *inkey = get(ud, "ssl.keystore.key", &k_key);
    enum store_type t;
    if (store_type(type, k_type, &t, err, errlen) < 0)
        return -1;
    if (loc && !*loc)
        loc = NULL;
    if ((chain && *chain) || (inkey && *inkey)) {
        if (t != STORE_PEM)
            return fail(err, errlen, "%s and %s need %s=PEM", k_chain, k_key, k_type);
        if (loc)
            return fail(err, errlen, "%s and %s cannot both be set", k_loc, k_chain);
        if (!chain || !*chain || !inkey || !*inkey)
            return fail(err, errlen, "%s and %s must be set together", k_chain, k_key);
    } else if (!loc) {
        return fail(err, errlen, "%s is not set: an SSL listener needs a key store with the "
                                 "server certificate and key", k_loc);
    }
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    const char *what = loc ? k_loc : k_chain;
    if (t == STORE_PKCS12) {
        if (load_pkcs12(loc, pass ? pass : keypass, k_loc, &pkey, &cert, &ca, err, errlen) < 0)
            return -1;
    } else {
        BIO *b = open_bio(loc, chain, what, err, errlen);
        if (!b)
            return -1;
        ca = read_pem_certs(b);
        BIO_free(b);
        if (ca && sk_X509_num(ca) > 0)
            cert = sk_X509_shift(ca);
        b = open_bio(loc, inkey, loc ? k_loc : k_key, err, errlen);
        if (!b) {
            X509_free(cert);
            sk_X509_pop_free(ca, X509_free);
            return -1;
        }
        /* Kafka: ssl.key.password protects a PEM key. */
        pkey = PEM_read_bio_PrivateKey(b, NULL, pem_pass_cb,
                                       (void *)(keypass ? keypass : pass));
        BIO_free(b);
        if (!pkey) {
            X509_free(cert);
            sk_X509_pop_free(ca, X509_free);
            return fail(err, errlen, "%s: no readable private key (wrong %s?)",
                        loc ? k_loc : k_key, k_keypass);
        }
    }
    int rc = -1;
    if (!cert)
        fail(err, errlen, "%s: no certificate in the key store", what);
    else if (!pkey)
        fail(err, errlen, "%s: no private key in the key store", what);
    else if (SSL_CTX_use_certificate(ctx, cert) != 1)
        fail(err, errlen, "%s: certificate refused", what);
    else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        fail(err, errlen, "%s: the private key does not match the certificate", what);
    else
        rc = 0;
    for (int i = 0; rc == 0 && ca && i < sk_X509_num(ca); i++)
        if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(ca, i)) != 1)
            rc = fail(err, errlen, "%s: chain certificate %d refused", what, i + 1);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    sk_X509_pop_free(ca, X509_free);
    if (rc == 0 && loc) {
        out->keystore_path = strdup(loc);
        mtime_of(loc, &out->keystore_mtime);
    }
    return rc;
}

/* Trust store: the CAs client certificates must chain to. */
static int load_truststore(SSL_CTX *ctx, tls_config_get_fn get, void *ud, struct tls_built *out,
                           int needed, const char *k_auth, char *err, size_t errlen)
{
    const char *k_type, *k_loc, *k_pass, *k_certs;
    const char *type = get(ud, "ssl.truststore.type", &k_type);
    const char *loc = get(ud, "ssl.truststore.location", &k_loc);
    const char *pass = get(ud, "ssl.truststore.password", &k_pass);
    const char *certs = get(ud, "ssl.truststore.certificates", &k_certs);
    if (loc && !*loc)
        loc = NULL;
    if (certs && !*certs)
        certs = NULL;
    if (!loc && !certs) {
        if (needed)
            return fail(err, errlen, "%s is not set, but %s asks for client certificates", k_loc,
                        k_auth);
        return 0;
    }
    enum store_type t;
    if (store_type(type, k_type, &t, err, errlen) < 0)
        return -1;
    if (certs && t != STORE_PEM)
        return fail(err, errlen, "%s needs %s=PEM", k_certs, k_type);
    if (certs && loc)
        return fail(err, errlen, "%s and %s cannot both be set", k_loc, k_certs);
    const char *what = loc ? k_loc : k_certs;
    STACK_OF(X509) *sk = NULL;
    if (t == STORE_PKCS12) {
        EVP_PKEY *pkey = NULL;
        X509 *cert = NULL;
        if (load_pkcs12(loc, pass, k_loc, &pkey, &cert, &sk, err, errlen) < 0)
            return -1;
        EVP_PKEY_free(pkey);
        if (cert) {
            if (!sk)
                sk = sk_X509_new_null();
            if (sk)
                sk_X509_push(sk, cert);
            else
                X509_free(cert);
        }
    } else {
        BIO *b = open_bio(loc, certs, what, err, errlen);
        if (!b)
            return -1;
        sk = read_pem_certs(b);
        BIO_free(b);
    }
    if (!sk || sk_X509_num(sk) == 0) {
        sk_X509_pop_free(sk, X509_free);
        return fail(err, errlen, "%s: no certificates in the trust store", what);
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    int rc = 0;
    for (int i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        if (X509_STORE_add_cert(store, x) != 1) {
            rc = fail(err, errlen, "%s: certificate %d refused", what, i + 1);
            break;
        }
        /* Sent in the CertificateRequest so clients pick a matching cert. */
        X509_NAME *n = X509_NAME_dup(X509_get_subject_name(x));
        if (names && n)
            sk_X509_NAME_push(names, n);
        else
            X509_NAME_free(n);
    }
    sk_X509_pop_free(sk, X509_free);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names);
    if (rc == 0 && loc) {
        out->truststore_path = strdup(loc);
        mtime_of(loc, &out->truststore_mtime);
    }
    return rc;
}

static int proto_version(const char *name)
{
    static const struct {
        const char *n;
        int v;
    } tab[] = {{"TLSv1", TLS1_VERSION}, {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION},
               {"TLSv1.3", TLS1_3_VERSION}, {"TLS", TLS1_3_VERSION}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].n, name))
            return tab[i].v;
    return 0;
}

/* Calls fn for each trimmed, non-empty item of a comma list. */
static int each_item(const char *list, int (*fn)(void *ud, const char *item), void *ud)
{
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);
        while (n && isspace((unsigned char)*list)) {
            list++;
            n--;
        }
        while (n && isspace((unsigned char)list[n - 1]))
            n--;
        char item[256];
        if (n >= sizeof item)
            n = sizeof item - 1;
        memcpy(item, list, n);
        item[n] = '\0';
        if (n) {
            int rc = fn(ud, item);
            if (rc)
                return rc;
        }
        list = comma ? comma + 1 : "";
    }
    return 0;
}

struct proto_acc {
    unsigned mask; /* bit v - TLS1_VERSION */
    char bad[64];
};

static int proto_item(void *ud, const char *item)
{
    struct proto_acc *a = ud;
    int v = proto_version(item);
    if (!v || !strcmp(item, "TLS")) {
        snprintf(a->bad, sizeof a->bad, "%s", item);
        return 1;
    }
    a->mask |= 1u << (v - TLS1_VERSION);
    return 0;
}

static int set_protocols(SSL_CTX *ctx, tls_config_get_fn get, void *ud, char *err, size_t errlen)
{
    const char *k_en, *k_proto;
    const char *en = get(ud, "ssl.enabled.protocols", &k_en);
    const char *proto = get(ud, "ssl.protocol", &k_proto);
    struct proto_acc a = {0};
    if (each_item(en ? en : "TLSv1.2,TLSv1.3", proto_item, &a))
        return fail(err, errlen, "%s: unknown or unsupported protocol '%s' (TLSv1, TLSv1.1, "
                                 "TLSv1.2, TLSv1.3)", k_en, a.bad);
    int maxv = proto ? proto_version(proto) : TLS1_3_VERSION;
    if (!maxv)
        return fail(err, errlen, "%s: unknown protocol '%s' (TLSv1.2, TLSv1.3 or TLS)", k_proto,
                    proto);
    for (int v = maxv + 1; v <= TLS1_3_VERSION; v++)
        a.mask &= ~(1u << (v - TLS1_VERSION));
    if (!a.mask)
        return fail(err, errlen, "%s and %s leave no TLS version enabled", k_en, k_proto);
    int lo = TLS1_VERSION, hi = TLS1_3_VERSION;
    while (!(a.mask & (1u << (lo - TLS1_VERSION))))
        lo++;
    while (!(a.mask & (1u << (hi - TLS1_VERSION))))
        hi--;
    static const long no_op[] = {SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2,
                                 SSL_OP_NO_TLSv1_3};
    for (int v = lo; v <= hi; v++)
        if (!(a.mask & (1u << (v - TLS1_VERSION))))
            SSL_CTX_set_options(ctx, (uint64_t)no_op[v - TLS1_VERSION]);
    if (SSL_CTX_set_min_proto_version(ctx, lo) != 1 || SSL_CTX_set_max_proto_version(ctx, hi) != 1)
        return fail(err, errlen, "%s: cannot set the TLS version range", k_en);
    /* Explicitly enabled old versions must work despite the system's
     * default security level (Debian: TLS 1.2 minimum at level 2). */
    if (lo < TLS1_2_VERSION)
        SSL_CTX_set_security_level(ctx, 0);
    return 0;
}

struct cipher_acc {
    char tls13[1024], tls12[4096];
    char bad[128];
};

static void append(char *dst, size_t cap, const char *s)
{
    size_t l = strlen(dst);
    snprintf(dst + l, cap - l, "%s%s", l ? ":" : "", s);
}

static int cipher_item(void *ud, const char *item)
{
    struct cipher_acc *a = ud;
    /* TLS 1.3 suites are only configurable with their IANA names. */
    if (!strncmp(item, "TLS_AES_", 8) || !strncmp(item, "TLS_CHACHA20_", 13)) {
        append(a->tls13, sizeof a->tls13, item);
        return 0;
    }
    /* Java/IANA names for TLS 1.2 suites map to OpenSSL's. */
    if (!strncmp(item, "TLS_", 4) || !strncmp(item, "SSL_", 4)) {
        const char *o = OPENSSL_cipher_name(item);
        if (!o || !strcmp(o, "(NONE)")) {
            snprintf(a->bad, sizeof a->bad, "%s", item);
            return 1;
        }
        append(a->tls12, sizeof a->tls12, o);
        return 0;
    }
    append(a->tls12, sizeof a->tls12, item);
    return 0;
}

static int set_ciphers(SSL_CTX *ctx, tls_config_get_fn get, void *ud, char *err, size_t errlen)
{
    const char *key;
    const char *list = get(ud, "ssl.cipher.suites", &key);
    if (!list || !*list)
        return 0;
    struct cipher_acc a = {{0}, {0}, {0}};
    if (each_item(list, cipher_item, &a))
        return fail(err, errlen, "%s: unknown cipher suite '%s'", key, a.bad);
    if (SSL_CTX_set_ciphersuites(ctx, a.tls13) != 1)
        return fail(err, errlen, "%s: no usable TLS 1.3 suite in '%s'", key, a.tls13);
    if (a.tls12[0]) {
        if (SSL_CTX_set_cipher_list(ctx, a.tls12) != 1)
            return fail(err, errlen, "%s: no usable cipher in '%s'", key, list);
    } else if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
        return fail(err, errlen, "%s lists only TLS 1.3 suites, but TLS 1.3 is unavailable", key);
    }
    return 0;
}

int tls_context_build(tls_config_get_fn get, void *ud, const struct tls_context_opts *opts,
                      struct tls_built *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return fail(err, errlen, "cannot create a TLS context");
    out->ctx = ctx;
    const char *k_auth;
    const char *auth = get(ud, "ssl.client.auth", &k_auth);
    if (!auth || !strcasecmp(auth, "none"))
        out->auth = TLS_AUTH_NONE;
    else if (!strcasecmp(auth, "requested"))
        out->auth = TLS_AUTH_REQUESTED;
    else if (!strcasecmp(auth, "required"))
        out->auth = TLS_AUTH_REQUIRED;
    else {
        fail(err, errlen, "%s: '%s' is not none, requested or required", k_auth, auth);
        goto bad;
    }
    uint64_t op = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                  SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION;
    if (opts->ktls)
        op |= SSL_OP_ENABLE_KTLS;
    SSL_CTX_set_options(ctx, op);
    /* Writes are retried by the broker from the same stream position,
     * possibly with more bytes and from another buffer. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    static const unsigned char sid_ctx[] = "sluice";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    if (set_protocols(ctx, get, ud, err, errlen) < 0 || set_ciphers(ctx, get, ud, err, errlen) < 0 ||
        load_keystore(ctx, get, ud, out, err, errlen) < 0 ||
        load_truststore(ctx, get, ud, out, out->auth != TLS_AUTH_NONE, k_auth, err, errlen) < 0)
        goto bad;
    int mode = SSL_VERIFY_NONE;
    if (out->auth == TLS_AUTH_REQUESTED)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    else if (out->auth == TLS_AUTH_REQUIRED)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE;
    SSL_CTX_set_verify(ctx, mode, NULL);
    return 0;
bad:
    tls_built_free(out);
    return -1;
}

void tls_built_free(struct tls_built *b)
{
    SSL_CTX_free(b->ctx);
    free(b->keystore_path);
    free(b->truststore_path);
    memset(b, 0, sizeof *b);
}

static int differs(const char *path, const struct timespec *then)
{
    struct timespec now;
    if (!path || mtime_of(path, &now) < 0)
        return 0;
    return now.tv_sec != then->tv_sec || now.tv_nsec != then->tv_nsec;
}

int tls_built_changed(const struct tls_built *b)
{
    return differs(b->keystore_path, &b->keystore_mtime) ||
           differs(b->truststore_path, &b->truststore_mtime);
}

void tls_built_touch(struct tls_built *b)
{
    mtime_of(b->keystore_path, &b->keystore_mtime);
    mtime_of(b->truststore_path, &b->truststore_mtime);
}
