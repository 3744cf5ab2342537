/* SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka runs them:
 * no channel binding, credentials kept as salt + StoredKey + ServerKey +
 * iterations only (never the password) in the module's durable records
 * (key "<mechanism>/<user>"), so they survive restarts; proofs compared
 * in constant time (CRYPTO_memcmp).
 *
 * Options (module.sasl_scram.*):
 *   add.scram  bootstrap users, Kafka's `kafka-storage format --add-scram`
 *              syntax, several separated by ';':
 *              SCRAM-SHA-256=[name=admin,password=admin-secret,iterations=8192]
 *              A user that already has a credential for that mechanism is
 *              left alone, so the line can stay in the config. */
#include <sluice/plugin.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scram_msg.h"

struct mech {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    const char *name;    /* "SCRAM-SHA-256" */
    const char *md;      /* "SHA256" */
    int8_t id;           /* Kafka's mechanism id */
};

struct scram_state {
    struct mech mechs[2];
};

struct session {
    struct mech *m;
    int stage;
    char user[SCRAM_MAX_NAME];
    struct scram_credential cred;
    uint8_t gs2[SCRAM_MAX_NAME + 8];
    size_t gs2_len;
    char nonce[SCRAM_MAX_NONCE * 2];
    char *auth; /* client-first-bare "," server-first */
    size_t auth_len;
};

static int cred_key(const struct mech *m, const char *user, char *key, size_t cap)
{
    int n = snprintf(key, cap, "%s/%s", m->name, user);
    return n > 0 && (size_t)n < cap && (size_t)n <= SLUICE_RECORD_MAX_KEY ? 0 : -1;
}

static int load_cred(struct mech *m, const char *user, struct scram_credential *c)
{
    char key[SLUICE_RECORD_MAX_KEY + 1];
    char val[1024];
    size_t len = 0;
    if (cred_key(m, user, key, sizeof key) < 0 ||
        m->host->record_get(m->ctx, key, val, sizeof val - 1, &len) != 0 || len >= sizeof val)
        return -1;
    if (scram_cred_decode(val, len, scram_hash_len(m->md), c) < 0) {
        m->host->log(m->ctx, SLUICE_LOG_WARN, "stored %s credential of '%s' is malformed", m->name,
                     user);
        return -1;
    }
    return 0;
}

static int store_cred(struct mech *m, const char *user, const struct scram_credential *c)
{
    char key[SLUICE_RECORD_MAX_KEY + 1], val[1024];
    if (cred_key(m, user, key, sizeof key) < 0)
        return SLUICE_ERR_INVALID;
    size_t n = scram_cred_encode(c, val, sizeof val);
    if (!n)
        return SLUICE_ERR_INVALID;
    return m->host->record_put(m->ctx, key, val, n, NULL, NULL);
}

/* ---- the exchange ------------------------------------------------------- */

static int s_new(void *state, const struct sluice_sasl_conn_info *info, void **session, char *err,
                 size_t errlen)
{
    (void)info;
    (void)err;
    (void)errlen;
    struct mech *m = state;
    struct session *s = m->host->alloc(m->ctx, sizeof *s);
    if (!s)
        return SLUICE_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->m = m;
    *session = s;
    return 0;
}

static void s_free(void *state, void *session)
{
    struct mech *m = state;
    struct session *s = session;
    if (!s)
        return;
    m->host->free(m->ctx, s->auth);
    OPENSSL_cleanse(s, sizeof *s);
    m->host->free(m->ctx, s);
}

static int append(const struct sluice_host_api *h, struct sluice_buf *out, const char *p, size_t n)
{
    if (h->buf_reserve(out, n) != 0)
        return -1;
    memcpy(out->data + out->len, p, n);
    out->len += n;
    return 0;
}

static int first_step(struct session *s, const uint8_t *in, size_t len, struct sluice_buf *out,
                      char *err, size_t errlen)
{
    struct mech *m = s->m;
    struct scram_client_first cf;
    if (scram_parse_client_first(in, len, &cf, err, errlen) < 0)
        return SLUICE_SASL_FAIL;
    if (load_cred(m, cf.user, &s->cred) < 0) {
        /* Kafka fails here too ("Invalid user credentials"); the broker
         * sends its generic SASL_AUTHENTICATION_FAILED message. */
        err[0] = '\0';
        return SLUICE_SASL_FAIL;
    }
    snprintf(s->user, sizeof s->user, "%s", cf.user);
    memcpy(s->gs2, in, cf.gs2_len);
    s->gs2_len = cf.gs2_len;
    uint8_t rnd[24];
    char snonce[64];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return SLUICE_SASL_FAIL;
    scram_b64_encode(rnd, sizeof rnd, snonce); /* 32 chars, no '=' nor ',' */
    for (char *c = snonce; *c; c++)
        if (*c == '/' || *c == '+')
            *c = 'x';
    snprintf(s->nonce, sizeof s->nonce, "%s%s", cf.nonce, snonce);
    char salt[SCRAM_MAX_SALT * 2];
    scram_b64_encode(s->cred.salt, s->cred.salt_len, salt);
    char sf[SCRAM_MAX_NONCE * 2 + SCRAM_MAX_SALT * 2 + 64];
    int sfl = snprintf(sf, sizeof sf, "r=%s,s=%s,i=%d", s->nonce, salt, (int)s->cred.iterations);
    size_t bare = len - cf.bare_off;
    s->auth_len = bare + 1 + (size_t)sfl;
    s->auth = m->host->alloc(m->ctx, s->auth_len);
    if (!s->auth)
        return SLUICE_SASL_FAIL;
    memcpy(s->auth, in + cf.bare_off, bare);
    s->auth[bare] = ',';
    memcpy(s->auth + bare + 1, sf, (size_t)sfl);
    if (append(m->host, out, sf, (size_t)sfl) < 0)
        return SLUICE_SASL_FAIL;
    s->stage = 1;
    return SLUICE_SASL_CONTINUE;
}

static int final_step(struct session *s, const uint8_t *in, size_t len, struct sluice_buf *out,
                      char *err, size_t errlen)
{
    struct mech *m = s->m;
    struct scram_client_final cf;
    if (scram_parse_client_final(in, len, &cf, err, errlen) < 0)
        return SLUICE_SASL_FAIL;
    if (cf.cbind_len != s->gs2_len || memcmp(cf.cbind, s->gs2, s->gs2_len) != 0) {
        snprintf(err, errlen, "Invalid SCRAM client final message: channel binding mismatch");
        return SLUICE_SASL_FAIL;
    }
    /* Kafka's ScramSaslServer checks that the final nonce ENDS with the
     * server-first nonce (librdkafka sends client nonce + full nonce). */
    size_t fl = strlen(cf.nonce), nl = strlen(s->nonce);
    if (fl < nl || memcmp(cf.nonce + fl - nl, s->nonce, nl) != 0) {
        snprintf(err, errlen, "Invalid SCRAM client final message: nonce mismatch");
        return SLUICE_SASL_FAIL;
    }
    size_t alen = s->auth_len + 1 + cf.without_proof_len;
    uint8_t *auth = m->host->alloc(m->ctx, alen);
    if (!auth)
        return SLUICE_SASL_FAIL;
    memcpy(auth, s->auth, s->auth_len);
    auth[s->auth_len] = ',';
    memcpy(auth + s->auth_len + 1, in, cf.without_proof_len);
    uint8_t sig[SCRAM_MAX_HASH];
    int ok = scram_verify_proof(m->md, &s->cred, auth, alen, cf.proof, cf.proof_len, sig);
    m->host->free(m->ctx, auth);
    if (!ok) {
        err[0] = '\0';
        return SLUICE_SASL_FAIL;
    }
    char v[SCRAM_MAX_HASH * 2 + 4] = "v=";
    size_t n = scram_b64_encode(sig, s->cred.key_len, v + 2);
    if (append(m->host, out, v, n + 2) < 0)
        return SLUICE_SASL_FAIL;
    s->stage = 2;
    return SLUICE_SASL_DONE;
}

static int s_step(void *state, void *session, const uint8_t *in, size_t len,
                  struct sluice_buf *out, char *err, size_t errlen)
{
    (void)state;
    struct session *s = session;
    if (s->stage == 0)
        return first_step(s, in, len, out, err, errlen);
    if (s->stage == 1)
        return final_step(s, in, len, out, err, errlen);
    snprintf(err, errlen, "Unexpected SCRAM message after authentication completed");
    return SLUICE_SASL_FAIL;
}

static const char *s_principal(void *state, void *session)
{
    (void)state;
    return ((struct session *)session)->user;
}

/* ---- credential administration ------------------------------------------ */

static int c_upsert(void *state, const char *user, int32_t iterations, const uint8_t *salt,
                    size_t salt_len, const uint8_t *salted, size_t salted_len, char *err,
                    size_t errlen)
{
    struct mech *m = state;
    if (iterations < SCRAM_MIN_ITERATIONS) {
        snprintf(err, errlen, "Too few iterations");
        return SLUICE_ERR_INVALID;
    }
    if (iterations > SCRAM_MAX_ITERATIONS) {
        snprintf(err, errlen, "Too many iterations");
        return SLUICE_ERR_INVALID;
    }
    if (salt_len == 0 || salt_len > SCRAM_MAX_SALT || salted_len != scram_hash_len(m->md)) {
        snprintf(err, errlen, "Invalid salt or salted password");
        return SLUICE_ERR_INVALID;
    }
    char key[SLUICE_RECORD_MAX_KEY + 1];
    if (!user[0] || cred_key(m, user, key, sizeof key) < 0) {
        snprintf(err, errlen, "Invalid user name");
        return SLUICE_ERR_INVALID;
    }
    struct scram_credential c = { .salt_len = salt_len, .key_len = salted_len,
                                  .iterations = iterations };
    memcpy(c.salt, salt, salt_len);
    if (scram_keys_from_salted(m->md, salted, salted_len, c.stored_key, c.server_key) < 0)
        return SLUICE_ERR_GENERIC;
    int rc = store_cred(m, user, &c);
    if (rc != 0)
        snprintf(err, errlen, "cannot store the credential (%d)", rc);
    return rc;
}

static int c_delete(void *state, const char *user)
{
    struct mech *m = state;
    char key[SLUICE_RECORD_MAX_KEY + 1];
    if (cred_key(m, user, key, sizeof key) < 0)
        return SLUICE_ERR_NOT_FOUND;
    return m->host->record_delete(m->ctx, key, NULL, NULL);
}

static int c_get(void *state, const char *user, int32_t *iterations)
{
    struct scram_credential c;
    if (load_cred(state, user, &c) < 0)
        return SLUICE_ERR_NOT_FOUND;
    *iterations = c.iterations;
    return 0;
}

struct list_ud {
    struct mech *m;
    sluice_sasl_credential_fn cb;
    void *ud;
};

static int list_one(void *ud, const char *key, const void *value, size_t len)
{
    struct list_ud *l = ud;
    struct scram_credential c;
    const char *user = key + strlen(l->m->name) + 1;
    if (scram_cred_decode(value, len, scram_hash_len(l->m->md), &c) < 0)
        return 0;
    return l->cb(l->ud, user, c.iterations);
}

static int c_list(void *state, sluice_sasl_credential_fn cb, void *ud)
{
    struct mech *m = state;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s/", m->name);
    struct list_ud l = { m, cb, ud };
    return m->host->record_iterate(m->ctx, prefix, list_one, &l);
}

/* ---- bootstrap users (add.scram) ---------------------------------------- */

/* One "SCRAM-SHA-256=[name=alice,password=secret,iterations=8192]" entry.
 * The password is wiped after use and never logged. */
static int add_one(struct scram_state *st, const char *e, size_t n, char *err, size_t errlen)
{
    const char *eq = memchr(e, '=', n);
    if (!eq || n < 4 || e[n - 1] != ']' || eq[1] != '[') {
        snprintf(err, errlen, "add.scram: expected MECHANISM=[name=...,password=...]");
        return SLUICE_ERR_INVALID;
    }
    struct mech *m = NULL;
    for (int i = 0; i < 2; i++)
        if (strlen(st->mechs[i].name) == (size_t)(eq - e) &&
            memcmp(st->mechs[i].name, e, (size_t)(eq - e)) == 0)
            m = &st->mechs[i];
    if (!m) {
        snprintf(err, errlen, "add.scram: unknown mechanism '%.*s'", (int)(eq - e), e);
        return SLUICE_ERR_INVALID;
    }
    char name[SCRAM_MAX_NAME] = "", pw[512] = "";
    int64_t iterations = SCRAM_MIN_ITERATIONS;
    const char *p = eq + 2, *end = e + n - 1;
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        if (!c)
            c = end;
        if (c - p > 5 && memcmp(p, "name=", 5) == 0)
            snprintf(name, sizeof name, "%.*s", (int)(c - p - 5), p + 5);
        else if (c - p > 9 && memcmp(p, "password=", 9) == 0)
            snprintf(pw, sizeof pw, "%.*s", (int)(c - p - 9), p + 9);
        else if (c - p > 11 && memcmp(p, "iterations=", 11) == 0)
            iterations = strtoll(p + 11, NULL, 10);
        else {
            snprintf(err, errlen, "add.scram: unknown field in the %s entry", m->name);
            return SLUICE_ERR_INVALID;
        }
        p = c + 1;
    }
    if (!name[0] || !pw[0]) {
        snprintf(err, errlen, "add.scram: the %s entry needs name and password", m->name);
        return SLUICE_ERR_INVALID;
    }
    int32_t have;
    if (c_get(m, name, &have) == 0)
        return 0;
    uint8_t salt[32], salted[SCRAM_MAX_HASH];
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS ||
        scram_salted_password(m->md, pw, strlen(pw), salt, sizeof salt, (int32_t)iterations,
                              salted) < 0) {
        OPENSSL_cleanse(pw, sizeof pw);
        snprintf(err, errlen, "add.scram: cannot derive the %s credential of '%s' (iterations "
                 "must be %d..%d)", m->name, name, SCRAM_MIN_ITERATIONS, SCRAM_MAX_ITERATIONS);
        return SLUICE_ERR_INVALID;
    }
    OPENSSL_cleanse(pw, sizeof pw);
    int rc = c_upsert(m, name, (int32_t)iterations, salt, sizeof salt, salted,
                      scram_hash_len(m->md), err, errlen);
    OPENSSL_cleanse(salted, sizeof salted);
    if (rc == 0)
        m->host->log(m->ctx, SLUICE_LOG_INFO, "added the %s credential of '%s' (add.scram)",
                     m->name, name);
    return rc;
}

static int add_users(struct scram_state *st, const char *spec, char *err, size_t errlen)
{
    const char *p = spec;
    while (*p) {
        while (*p == ';' || *p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ';')
            e++;
        size_t n = (size_t)(e - p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            int rc = add_one(st, p, n, err, errlen);
            if (rc != 0)
                return rc;
        }
        p = e;
    }
    return 0;
}

/* ---- module --------------------------------------------------------------- */

static const struct sluice_sasl_mech_ops ops_template = {
    .struct_size = sizeof(struct sluice_sasl_mech_ops),
    .session_new = s_new,
    .step = s_step,
    .principal = s_principal,
    .session_free = s_free,
    .credential_upsert = c_upsert,
    .credential_delete = c_delete,
    .credential_get = c_get,
    .credential_list = c_list,
};

static int scram_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                      size_t errlen)
{
    struct scram_state *st = host->alloc(ctx, sizeof *st);
    if (!st)
        return SLUICE_ERR_NOMEM;
    st->mechs[0] = (struct mech){ host, ctx, "SCRAM-SHA-256", "SHA256", SLUICE_SCRAM_SHA_256 };
    st->mechs[1] = (struct mech){ host, ctx, "SCRAM-SHA-512", "SHA512", SLUICE_SCRAM_SHA_512 };
    host->set_data(ctx, st);
    for (int i = 0; i < 2; i++) {
        struct sluice_sasl_mech_ops ops = ops_template;
        ops.mechanism = st->mechs[i].name;
        ops.scram_mechanism = st->mechs[i].id;
        int rc = host->register_sasl_mechanism(ctx, &ops, &st->mechs[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot register %s (%d)", st->mechs[i].name, rc);
            host->free(ctx, st);
            return rc;
        }
    }
    const char *add = host->config_get_string(ctx, "add.scram", NULL);
    if (add) {
        int rc = add_users(st, add, err, errlen);
        if (rc != 0)
            return rc; /* registered: the load fails and fini frees st */
    }
    return 0;
}

static void scram_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->free(ctx, host->get_data(ctx));
}

SLUICE_MODULE_DECLARE("sasl_scram", "1.0.0", SLUICE_KIND_SASL, scram_init, scram_fini,
                      "SASL SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802/7677), durable credentials");
