/* transport_tls: Kafka's SSL (and SASL_SSL) listeners on OpenSSL 3.
 *
 * One SSL_CTX per listener, built from the listener's ssl.* keys
 * (listener.name.<name>.ssl.* first).  Handshakes, reads and writes are
 * non-blocking and driven by the broker's event loop through the ABI 1.2
 * transport vtable.  The client certificate's subject becomes the
 * principal "User:<name>" through ssl.principal.mapping.rules, as Kafka's
 * DefaultKafkaPrincipalBuilder does; no certificate means User:ANONYMOUS.
 *
 * Certificate reload: on SIGHUP (the broker calls listener_reload) and
 * whenever the key or trust store file's mtime changes, checked every
 * module.transport_tls.reload.check.interval.ms (default 10000; 0 turns the
 * check off).  New connections get the new certificates; established ones
 * keep theirs.  A store that fails to load keeps the old context.
 *
 * Fetch stays zero-copy where the kernel has TLS offload: with
 * SSL_OP_ENABLE_KTLS OpenSSL hands the record layer to the kernel after the
 * handshake, and sendfile() then goes through SSL_sendfile.  Without it
 * (no "tls" ULP, a cipher the kernel lacks, module.transport_tls.ktls=false)
 * sendfile answers EOPNOTSUPP and the broker falls back to pread + SSL_write
 * for that connection. */
#include <sluice/plugin.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "principal_mapper.h"
#include "tls_context.h"

#define TLS_COALESCE_MAX (64 * 1024) /* small iovecs gathered per SSL_write */
#define TLS_DIRECT_MIN (16 * 1024)   /* an iovec this large is written as is */

struct tls_module {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    int ktls;
    int64_t reload_check_ms;
    struct tls_listener *listeners;
};

/* One listener's configuration snapshot and current context. */
struct tls_listener {
    struct tls_listener *next;
    struct tls_module *m;
    char name[128];
    char prefix[160];
    /* key=value snapshot of every ssl.* key read at open, so reloads see
     * the same configuration (config_get_* is only promised during init). */
    char **keys, **vals, **used;
    size_t nkeys;
    struct tls_built built;
    struct principal_mapper *mapper;
    struct sluice_timer *timer;
};

struct tls_conn {
    struct tls_listener *L;
    SSL *ssl;
    int fd;
    int want;
    char peer[80];
    char principal[512]; /* "" = anonymous */
    uint8_t *wbuf;       /* coalescing buffer, TLS_COALESCE_MAX */
};

/* ---- configuration --------------------------------------------------- */

static const char *const ssl_keys[] = {
    "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
    "ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.truststore.type",
    "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
    "ssl.client.auth", "ssl.enabled.protocols", "ssl.protocol", "ssl.cipher.suites",
    "ssl.principal.mapping.rules",
};
#define NKEYS (sizeof ssl_keys / sizeof ssl_keys[0])

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int snapshot(struct tls_listener *L)
{
    struct tls_module *m = L->m;
    L->keys = calloc(NKEYS, sizeof *L->keys);
    L->vals = calloc(NKEYS, sizeof *L->vals);
    L->used = calloc(NKEYS, sizeof *L->used);
    if (!L->keys || !L->vals || !L->used)
        return -1;
    L->nkeys = NKEYS;
    for (size_t i = 0; i < NKEYS; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s%s", L->prefix, ssl_keys[i]);
        /* Kafka: the listener's override wins over the plain key. */
        const char *v = m->host->config_get_string(m->ctx, full, NULL);
        const char *used = full;
        if (!v) {
            v = m->host->config_get_string(m->ctx, ssl_keys[i], NULL);
            used = ssl_keys[i];
        }
        L->keys[i] = strdup(ssl_keys[i]);
        L->used[i] = strdup(used);
        L->vals[i] = dup_or_null(v);
        if (!L->keys[i] || !L->used[i] || (v && !L->vals[i]))
            return -1;
    }
    return 0;
}

static const char *snap_get(void *ud, const char *key, const char **used)
{
    struct tls_listener *L = ud;
    for (size_t i = 0; i < L->nkeys; i++) {
        if (strcmp(L->keys[i], key) == 0) {
            *used = L->used[i];
            return L->vals[i];
        }
    }
    *used = key;
    return NULL;
}

/* ---- listeners -------------------------------------------------------- */

static int build(struct tls_listener *L, struct tls_built *out, struct principal_mapper **pm,
                 char *err, size_t errlen)
{
    struct tls_context_opts o = {.ktls = L->m->ktls};
    const char *k_rules;
    const char *rules = snap_get(L, "ssl.principal.mapping.rules", &k_rules);
    char e[256] = "";
    if (principal_mapper_new(rules, pm, e, sizeof e) < 0) {
        snprintf(err, errlen, "%s: %s", k_rules, e);
        return -1;
    }
    if (tls_context_build(snap_get, L, &o, out, err, errlen) < 0) {
        principal_mapper_free(*pm);
        *pm = NULL;
        return -1;
    }
    return 0;
}

static int tls_listener_reload(void *lp, char *err, size_t errlen)
{
    struct tls_listener *L = lp;
    struct tls_built nb;
    struct principal_mapper *pm = NULL;
    if (build(L, &nb, &pm, err, errlen) < 0)
        return SLUICE_ERR_INVALID;
    /* Connections hold their own reference to the old SSL_CTX. */
    tls_built_free(&L->built);
    principal_mapper_free(L->mapper);
    L->built = nb;
    L->mapper = pm;
    return 0;
}

static void reload_check(void *ud)
{
    struct tls_listener *L = ud;
    if (!tls_built_changed(&L->built))
        return;
    char err[512] = "";
    struct tls_module *m = L->m;
    if (tls_listener_reload(L, err, sizeof err) < 0) {
        m->host->log(m->ctx, SLUICE_LOG_ERROR,
                     "listener %s: key or trust store changed but cannot be loaded, keeping the "
                     "old certificates: %s",
                     L->name, err);
        /* Don't retry every tick on the same broken file. */
        tls_built_touch(&L->built);
    } else {
        m->host->log(m->ctx, SLUICE_LOG_INFO,
                     "listener %s: key or trust store changed, certificates reloaded", L->name);
    }
}

static void listener_free(struct tls_listener *L)
{
    struct tls_module *m = L->m;
    if (L->timer)
        m->host->timer_stop(m->ctx, L->timer);
    for (size_t i = 0; i < L->nkeys; i++) {
        free(L->keys[i]);
        free(L->used[i]);
        if (L->vals[i])
            OPENSSL_cleanse(L->vals[i], strlen(L->vals[i])); /* passwords */
        free(L->vals[i]);
    }
    free(L->keys);
    free(L->vals);
    free(L->used);
    tls_built_free(&L->built);
    principal_mapper_free(L->mapper);
    free(L);
}

static int tls_listener_open(void *state, const struct sluice_transport_listener *info,
                             void **out, char *err, size_t errlen)
{
    struct tls_module *m = state;
    struct tls_listener *L = calloc(1, sizeof *L);
    if (!L) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    L->m = m;
    snprintf(L->name, sizeof L->name, "%s", info->name);
    snprintf(L->prefix, sizeof L->prefix, "%s", info->config_prefix ? info->config_prefix : "");
    if (snapshot(L) < 0) {
        listener_free(L);
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    if (build(L, &L->built, &L->mapper, err, errlen) < 0) {
        listener_free(L);
        return SLUICE_ERR_INVALID;
    }
    if (m->reload_check_ms > 0)
        L->timer = m->host->timer_start(m->ctx, (uint64_t)m->reload_check_ms,
                                        (uint64_t)m->reload_check_ms, reload_check, L);
    L->next = m->listeners;
    m->listeners = L;
    m->host->log(m->ctx, SLUICE_LOG_INFO, "listener %s: TLS ready (client auth %s, kTLS %s)",
                 L->name,
                 L->built.auth == TLS_AUTH_REQUIRED    ? "required"
                 : L->built.auth == TLS_AUTH_REQUESTED ? "requested"
                                                       : "none",
                 m->ktls ? "allowed" : "off");
    *out = L;
    return 0;
}

static void tls_listener_close(void *lp)
{
    struct tls_listener *L = lp;
    struct tls_module *m = L->m;
    for (struct tls_listener **pp = &m->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == L) {
            *pp = L->next;
            break;
        }
    }
    listener_free(L);
}

/* ---- connections ------------------------------------------------------ */

static int tls_accept(void *lp, int fd, const char *peer, void **out, char *err, size_t errlen)
{
    struct tls_listener *L = lp;
    struct tls_conn *c = calloc(1, sizeof *c);
    ERR_clear_error();
    SSL *ssl = c ? SSL_new(L->built.ctx) : NULL;
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        snprintf(err, errlen, "cannot create a TLS session");
        SSL_free(ssl);
        free(c);
        close(fd);
        ERR_clear_error();
        return SLUICE_ERR_NOMEM;
    }
    SSL_set_accept_state(ssl);
    c->L = L;
    c->ssl = ssl;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer ? peer : "?");
    *out = c;
    return 0;
}

/* Sets errno/want from an SSL_get_error code; returns -1, or 0 for EOF. */
static ssize_t io_result(struct tls_conn *c, int rc)
{
    int e = SSL_get_error(c->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->want = SLUICE_TRANSPORT_WANT_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        c->want = SLUICE_TRANSPORT_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0)
            return 0;
        if (errno == EAGAIN || errno == EINTR)
            errno = ECONNRESET; /* not retryable through OpenSSL's state */
        ERR_clear_error();
        return -1;
    default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

/* RFC 2253 subject, most specific first, as Java's X500Principal.getName();
 * UTF-8 is kept as is. */
static int subject_dn(X509 *x, char *buf, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return -1;
    X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(b, buf, (int)len - 1);
    BIO_free(b);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    return n;
}

static int make_principal(struct tls_conn *c, char *err, size_t errlen)
{
    X509 *peer = SSL_get1_peer_certificate(c->ssl);
    if (!peer)
        return 0; /* anonymous */
    char dn[1024];
    int n = subject_dn(peer, dn, sizeof dn);
    X509_free(peer);
    if (n < 0) {
        snprintf(err, errlen, "cannot read the client certificate's subject");
        return -1;
    }
    char *name = NULL, e[256] = "";
    int r = principal_mapper_map(c->L->mapper, dn, &name, e, sizeof e);
    if (r <= 0) {
        if (r == 0)
            snprintf(err, errlen, "no ssl.principal.mapping.rules rule applies to %s", dn);
        else
            snprintf(err, errlen, "ssl.principal.mapping.rules on %s: %s", dn, e);
        return -1;
    }
    snprintf(c->principal, sizeof c->principal, "User:%s", name);
    free(name);
    return 0;
}

static int tls_handshake(void *cp, char *err, size_t errlen)
{
    struct tls_conn *c = cp;
    ERR_clear_error();
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1)
        return make_principal(c, err, errlen) < 0 ? SLUICE_ERR_INVALID : SLUICE_TRANSPORT_DONE;
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return SLUICE_TRANSPORT_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return SLUICE_TRANSPORT_WANT_WRITE;
    unsigned long oe = ERR_peek_last_error();
    char reason[256] = "";
    if (oe)
        ERR_error_string_n(oe, reason, sizeof reason);
    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK)
        snprintf(err, errlen, "SSL handshake failed: client certificate: %s",
                 X509_verify_cert_error_string(vr));
    else if (reason[0])
        snprintf(err, errlen, "SSL handshake failed: %s", reason);
    else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
        snprintf(err, errlen, "SSL handshake failed: peer closed the connection");
    else
        snprintf(err, errlen, "SSL handshake failed (error %d)", e);
    ERR_clear_error();
    return SLUICE_ERR_GENERIC;
}

static ssize_t tls_read(void *cp, void *buf, size_t len)
{
    struct tls_conn *c = cp;
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    return io_result(c, n);
}

/* Writes p[0..len) record by record until done or the socket is full.
 * Returns bytes written, or -1 (errno EAGAIN with want set) when none. */
static ssize_t write_buf(struct tls_conn *c, const uint8_t *p, size_t len)
{
    size_t total = 0;
    while (total < len) {
        size_t chunk = len - total;
        ERR_clear_error();
        int n = SSL_write(c->ssl, p + total, chunk > INT_MAX ? INT_MAX : (int)chunk);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        ssize_t r = io_result(c, n);
        if (total)
            return (ssize_t)total; /* the rest is retried from here */
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        return r;
    }
    return (ssize_t)total;
}

static ssize_t tls_writev(void *cp, const struct iovec *iov, int iovcnt)
{
    struct tls_conn *c = cp;
    if (iovcnt <= 0)
        return 0;
    if (iovcnt == 1 || iov[0].iov_len >= TLS_DIRECT_MIN)
        return write_buf(c, iov[0].iov_base, iov[0].iov_len);
    /* Many small parts (a response header, then a record set...): one
     * record instead of one per part. */
    if (!c->wbuf && !(c->wbuf = malloc(TLS_COALESCE_MAX))) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = 0;
    for (int i = 0; i < iovcnt && n < TLS_COALESCE_MAX; i++) {
        size_t take = iov[i].iov_len;
        if (take > TLS_COALESCE_MAX - n)
            take = TLS_COALESCE_MAX - n;
        memcpy(c->wbuf + n, iov[i].iov_base, take);
        n += take;
    }
    return write_buf(c, c->wbuf, n);
}

static ssize_t tls_sendfile(void *cp, int in_fd, int64_t *offset, size_t len)
{
    struct tls_conn *c = cp;
    if (!BIO_get_ktls_send(SSL_get_wbio(c->ssl))) {
        errno = EOPNOTSUPP;
        return -1;
    }
    ERR_clear_error();
    ossl_ssize_t n = SSL_sendfile(c->ssl, in_fd, (off_t)*offset, len, 0);
    if (n > 0) {
        *offset += n;
        return (ssize_t)n;
    }
    ssize_t r = io_result(c, (int)n);
    if (r == 0) {
        errno = EPIPE;
        return -1;
    }
    return r;
}

static size_t tls_pending(void *cp)
{
    struct tls_conn *c = cp;
    int n = SSL_pending(c->ssl);
    return n > 0 ? (size_t)n : 0;
}

static int tls_want(void *cp)
{
    struct tls_conn *c = cp;
    return c->want;
}

static int tls_peer_principal(void *cp, char *buf, size_t len)
{
    struct tls_conn *c = cp;
    if (!c->principal[0])
        return 0;
    snprintf(buf, len, "%s", c->principal);
    return (int)strlen(buf);
}

static void tls_close(void *cp)
{
    struct tls_conn *c = cp;
    if (SSL_is_init_finished(c->ssl)) {
        ERR_clear_error();
        SSL_shutdown(c->ssl); /* one close_notify attempt; never waits */
    }
    ERR_clear_error();
    SSL_free(c->ssl);
    close(c->fd);
    free(c->wbuf);
    free(c);
}

static const struct sluice_transport_ops tls_ops = {
    .struct_size = sizeof(struct sluice_transport_ops),
    .name = "tls",
    .protocols = SLUICE_SECURITY_SSL | SLUICE_SECURITY_SASL_SSL,
    .listener_open = tls_listener_open,
    .listener_close = tls_listener_close,
    .listener_reload = tls_listener_reload,
    .accept = tls_accept,
    .handshake = tls_handshake,
    .read = tls_read,
    .writev = tls_writev,
    .sendfile = tls_sendfile,
    .pending = tls_pending,
    .want = tls_want,
    .peer_principal = tls_peer_principal,
    .close = tls_close,
};

/* ---- module ----------------------------------------------------------- */

static int tls_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                    size_t errlen)
{
    struct tls_module *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    m->host = host;
    m->ctx = ctx;
    if (host->config_get_bool(ctx, "ktls", 1, &m->ktls) < 0 ||
        host->config_get_int(ctx, "reload.check.interval.ms", 10000, &m->reload_check_ms) < 0 ||
        m->reload_check_ms < 0) {
        snprintf(err, errlen, "module.transport_tls.ktls must be true/false and "
                              "module.transport_tls.reload.check.interval.ms a number >= 0");
        free(m);
        return SLUICE_ERR_INVALID;
    }
    host->set_data(ctx, m);
    return host->register_transport(ctx, &tls_ops, m);
}

static void tls_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    struct tls_module *m = host->get_data(ctx);
    while (m && m->listeners)
        tls_listener_close(m->listeners);
    free(m);
}

SLUICE_MODULE_DECLARE("transport_tls", "1.0.0", SLUICE_KIND_TRANSPORT, tls_init, tls_fini,
                      "TLS for SSL and SASL_SSL listeners (OpenSSL, kernel TLS when available)");
