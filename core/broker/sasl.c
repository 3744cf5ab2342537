/* SASL framework (see sasl.h).  The broker drives the exchange and keeps
 * the principal; the mechanism module sees the tokens.  Tokens are never
 * logged. */
#include "broker/sasl.h"
#include "broker/broker.h"
#include "broker/session.h"
#include "plugin/module_loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- enabled mechanisms ------------------------------------------------ */

/* Calls fn for each mechanism enabled on `listener`, in configured order;
 * stops when fn returns non-zero and returns that. */
typedef int (*mech_fn)(void *ud, const char *name, size_t len);

static int each_enabled(struct broker *b, const char *listener, mech_fn fn, void *ud)
{
    const char *ov = sluice_config_listener_option(b->cfg, listener, "sasl.enabled.mechanisms");
    if (ov) {
        const char *p = ov;
        while (*p) {
            while (*p == ',' || *p == ' ')
                p++;
            const char *e = p;
            while (*e && *e != ',' && *e != ' ')
                e++;
            if (e > p) {
                int rc = fn(ud, p, (size_t)(e - p));
                if (rc)
                    return rc;
            }
            p = e;
        }
        return 0;
    }
    if (b->cfg->sasl_enabled_mechanisms.n) {
        for (size_t i = 0; i < b->cfg->sasl_enabled_mechanisms.n; i++) {
            const char *m = b->cfg->sasl_enabled_mechanisms.items[i];
            int rc = fn(ud, m, strlen(m));
            if (rc)
                return rc;
        }
        return 0;
    }
    size_t n;
    const struct module_sasl_mech *all = module_registry_sasl_mechs(b->modules, &n);
    for (size_t i = 0; i < n; i++) {
        int rc = fn(ud, all[i].ops.mechanism, strlen(all[i].ops.mechanism));
        if (rc)
            return rc;
    }
    return 0;
}

struct match_ud {
    const char *want;
    size_t len;
};

static int match_cb(void *ud, const char *name, size_t len)
{
    struct match_ud *m = ud;
    return len == m->len && memcmp(name, m->want, len) == 0;
}

static bool mech_enabled(struct broker *b, const char *listener, const char *mech, size_t len)
{
    struct match_ud m = { mech, len };
    return each_enabled(b, listener, match_cb, &m) == 1;
}

struct check_ud {
    struct broker *b;
    char *err;
    size_t errlen;
    int n;
};

static int check_cb(void *ud, const char *name, size_t len)
{
    struct check_ud *c = ud;
    char m[64];
    snprintf(m, sizeof m, "%.*s", (int)len, name);
    c->n++;
    if (!module_registry_sasl_mech(c->b->modules, m)) {
        snprintf(c->err, c->errlen,
                 "sasl.enabled.mechanisms: %s is not provided by any loaded module (load "
                 "sasl_plain or sasl_scram with module.load)",
                 m);
        return -1;
    }
    return 0;
}

int sasl_check_listener(struct broker *b, const char *listener, const char *protocol, char *err,
                        size_t errlen)
{
    struct check_ud c = { b, err, errlen, 0 };
    if (each_enabled(b, listener, check_cb, &c) != 0)
        return -1;
    if (c.n == 0) {
        snprintf(err, errlen,
                 "listener %s uses %s, which needs SASL authentication: no SASL mechanism is "
                 "enabled (load sasl_plain or sasl_scram with module.load)",
                 listener, protocol);
        return -1;
    }
    return 0;
}

struct list_ud {
    struct request *rq;
    struct kp_SaslHandshakeResponse *resp;
    int32_t cap;
};

static int list_cb(void *ud, const char *name, size_t len)
{
    struct list_ud *l = ud;
    if (l->resp->Mechanisms.count < l->cap) {
        struct kp_str *s = &l->resp->Mechanisms.items[l->resp->Mechanisms.count++];
        s->s = kp_arena_strndup(&l->rq->arena, name, len);
        s->len = s->s ? (int32_t)len : 0;
    }
    return 0;
}

/* ---- session ----------------------------------------------------------- */

static void free_session(struct broker_session *bc)
{
    if (bc->mech_session && bc->mech && bc->mech->ops.session_free)
        bc->mech->ops.session_free(bc->mech->state, bc->mech_session);
    bc->mech_session = NULL;
}

void sasl_session_release(struct broker_session *bc)
{
    if (ev_is_active(&bc->fail_delay))
        ev_timer_stop(bc->b->loop, &bc->fail_delay);
    if (bc->fail_rq) {
        rq_respond(bc->fail_rq, bc->fail_resp); /* orphaned: just freed */
        bc->fail_rq = NULL;
    }
    free_session(bc);
}

static void fail_delay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct broker_session *bc = w->data;
    if (bc->fail_rq) {
        rq_respond(bc->fail_rq, bc->fail_resp);
        bc->fail_rq = NULL;
    }
    net_conn_close_after_flush(bc->conn);
}

/* Kafka's rule: a failed authentication is answered only after
 * connection.failed.authentication.delay.ms, then the connection closes, so
 * a client cannot try passwords at network speed.  rq may be NULL (raw
 * tokens have no error response). */
static void fail_later(struct broker_session *bc, struct request *rq, void *resp, const char *why)
{
    struct broker *b = bc->b;
    slog(b->log, SLOG_INFO, "sasl", "%s: failed authentication with %s on listener %s (%s)%s",
         net_conn_peer(bc->conn), bc->mech ? bc->mech->ops.mechanism : "-",
         net_conn_listener(bc->conn)->name, why, bc->reauth ? " during re-authentication" : "");
    bc->sasl = SASL_STATE_FAILED;
    free_session(bc);
    bc->fail_rq = rq;
    bc->fail_resp = resp;
    double delay = b->cfg->connection_failed_authentication_delay_ms / 1000.0;
    ev_timer_init(&bc->fail_delay, fail_delay_cb, delay, 0);
    bc->fail_delay.data = bc;
    ev_timer_start(b->loop, &bc->fail_delay);
}

/* Runs one step of the mechanism.  Returns the step result; on DONE the
 * principal and the session expiry are set (or the step is turned into a
 * failure when re-authentication changes the principal). */
static int run_step(struct broker_session *bc, const uint8_t *in, size_t len, struct sluice_buf *out,
                    char *err, size_t errlen)
{
    const struct module_sasl_mech *m = bc->mech;
    int rc = m->ops.step(m->state, bc->mech_session, in, len, out, err, errlen);
    if (rc < 0) {
        if (!err[0])
            snprintf(err, errlen, "Authentication failed during authentication due to invalid "
                                  "credentials with SASL mechanism %s", m->ops.mechanism);
        return SLUICE_SASL_FAIL;
    }
    if (rc != SLUICE_SASL_DONE)
        return SLUICE_SASL_CONTINUE;
    const char *user = m->ops.principal(m->state, bc->mech_session);
    char principal[BROKER_PRINCIPAL_MAX];
    snprintf(principal, sizeof principal, "User:%s", user ? user : "");
    if (bc->reauth && strcmp(principal, bc->principal) != 0) {
        snprintf(err, errlen, "Cannot change principals during re-authentication from %.80s: %.80s",
                 bc->principal, principal);
        return SLUICE_SASL_FAIL;
    }
    snprintf(bc->principal, sizeof bc->principal, "%s", principal);
    return SLUICE_SASL_DONE;
}

/* KIP-368: SessionLifetimeMs is min(credential lifetime, connections.max.reauth.ms). */
static int64_t start_session(struct broker_session *bc)
{
    struct broker *b = bc->b;
    int64_t life = b->cfg->connections_max_reauth_ms;
    const struct module_sasl_mech *m = bc->mech;
    if (m->ops.session_lifetime_ms) {
        int64_t cred = m->ops.session_lifetime_ms(m->state, bc->mech_session);
        if (cred > 0 && (life == 0 || cred < life))
            life = cred;
    }
    bc->session_expiry_ms = life > 0 ? mono_ms() + life : 0;
    bc->sasl = SASL_STATE_DONE;
    slog(b->log, SLOG_DEBUG, "sasl", "%s: %s as %s with %s (session lifetime %lld ms)",
         net_conn_peer(bc->conn), bc->reauth ? "re-authenticated" : "authenticated", bc->principal,
         m->ops.mechanism, (long long)life);
    bc->reauth = false;
    free_session(bc);
    return life;
}

/* ---- gate -------------------------------------------------------------- */

bool sasl_request_allowed(struct broker *b, struct broker_session *bc, const struct request *rq)
{
    if (!bc || bc->sasl == SASL_STATE_NONE)
        return true;
    int16_t key = rq->hdr.ApiKey;
    const char *why = NULL;
    switch (bc->sasl) {
    case SASL_STATE_HANDSHAKE:
        if (key == KP_API_API_VERSIONS || key == KP_API_SASL_HANDSHAKE)
            return true;
        why = "during SASL handshake";
        break;
    case SASL_STATE_AUTHENTICATE:
        if (key == KP_API_SASL_AUTHENTICATE)
            return true;
        why = "during SASL authentication";
        break;
    case SASL_STATE_DONE:
        if (key == KP_API_SASL_HANDSHAKE || key == KP_API_SASL_AUTHENTICATE)
            return true; /* re-authentication (or a stray one: the handler refuses it) */
        if (bc->session_expiry_ms && mono_ms() >= bc->session_expiry_ms) {
            slog(b->log, SLOG_INFO, "sasl",
                 "%s: session of %s expired without re-authentication "
                 "(connections.max.reauth.ms): closing",
                 net_conn_peer(bc->conn), bc->principal);
            return false;
        }
        return true;
    default:
        why = "after a failed authentication";
        break;
    }
    slog(b->log, SLOG_INFO, "sasl", "%s: unexpected request of api key %d %s: closing",
         net_conn_peer(bc->conn), key, why);
    return false;
}

/* ---- SaslHandshake ----------------------------------------------------- */

void handle_sasl_handshake(struct broker *b, struct request *rq)
{
    const struct kp_SaslHandshakeRequest *req = rq->body;
    struct net_conn *c = net_request_conn(rq->nreq);
    struct broker_session *bc = broker_session_of(c);
    struct kp_SaslHandshakeResponse resp;
    memset(&resp, 0, sizeof resp);
    if (!bc || bc->sasl == SASL_STATE_NONE) {
        /* Kafka on a non-SASL listener: ILLEGAL_SASL_STATE. */
        resp.ErrorCode = KP_ERR_ILLEGAL_SASL_STATE;
        rq_respond(rq, &resp);
        return;
    }
    const char *listener = net_conn_listener(c)->name;
    struct list_ud l = { rq, &resp, 32 };
    resp.Mechanisms.items = rq_alloc(rq, sizeof *resp.Mechanisms.items, l.cap);
    each_enabled(b, listener, list_cb, &l);
    bool reauth = bc->sasl == SASL_STATE_DONE;
    const char *mname = req->Mechanism.s ? req->Mechanism.s : "";
    size_t mlen = req->Mechanism.len > 0 ? (size_t)req->Mechanism.len : 0;
    const struct module_sasl_mech *m = NULL;
    if (mech_enabled(b, listener, mname, mlen)) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)mlen, mname);
        m = module_registry_sasl_mech(b->modules, name);
    }
    if (reauth && (rq->hdr.ApiVersion < 1 || !m || m != bc->mech)) {
        /* KIP-368: the same mechanism, over SaslAuthenticate. */
        slog(b->log, SLOG_INFO, "sasl", "%s: re-authentication must use %s with SaslHandshake v1+",
             net_conn_peer(c), bc->mech ? bc->mech->ops.mechanism : "-");
        resp.ErrorCode = KP_ERR_ILLEGAL_SASL_STATE;
        rq_respond(rq, &resp);
        net_conn_close_after_flush(c);
        return;
    }
    if (!m) {
        slog(b->log, SLOG_INFO, "sasl", "%s: unsupported SASL mechanism '%.*s' on listener %s",
             net_conn_peer(c), (int)(mlen > 40 ? 40 : mlen), mname, listener);
        resp.ErrorCode = KP_ERR_UNSUPPORTED_SASL_MECHANISM;
        rq_respond(rq, &resp);
        net_conn_close_after_flush(c);
        return;
    }
    if (bc->sasl != SASL_STATE_HANDSHAKE && !reauth) {
        resp.ErrorCode = KP_ERR_ILLEGAL_SASL_STATE;
        rq_respond(rq, &resp);
        net_conn_close_after_flush(c);
        return;
    }
    free_session(bc);
    struct sluice_sasl_conn_info info = { sizeof info, listener, net_conn_peer(c),
                                          m->ops.mechanism };
    char err[256] = "";
    if (m->ops.session_new(m->state, &info, &bc->mech_session, err, sizeof err) != 0) {
        slog(b->log, SLOG_WARN, "sasl", "%s: %s: cannot start a session: %s", net_conn_peer(c),
             m->ops.mechanism, err);
        bc->mech_session = NULL;
        resp.ErrorCode = KP_ERR_UNSUPPORTED_SASL_MECHANISM;
        rq_respond(rq, &resp);
        net_conn_close_after_flush(c);
        return;
    }
    bc->mech = m;
    bc->reauth = reauth;
    bc->sasl = rq->hdr.ApiVersion == 0 ? SASL_STATE_RAW_TOKEN : SASL_STATE_AUTHENTICATE;
    rq_respond(rq, &resp);
}

/* ---- SaslAuthenticate -------------------------------------------------- */

void handle_sasl_authenticate(struct broker *b, struct request *rq)
{
    const struct kp_SaslAuthenticateRequest *req = rq->body;
    struct net_conn *c = net_request_conn(rq->nreq);
    struct broker_session *bc = broker_session_of(c);
    struct kp_SaslAuthenticateResponse *resp = rq_alloc(rq, sizeof *resp, 1);
    if (!resp) {
        rq_respond_none(rq);
        if (c)
            net_conn_close(c);
        return;
    }
    if (!bc || bc->sasl != SASL_STATE_AUTHENTICATE) {
        /* On a PLAINTEXT/SSL listener or an authenticated connection Kafka's
         * KafkaApis answers this without closing (only the authenticator,
         * which is not involved any more, closes on a bad state). */
        resp->ErrorCode = KP_ERR_ILLEGAL_SASL_STATE;
        resp->ErrorMessage =
            rq_str(rq, "SaslAuthenticate request received after successful authentication");
        rq_respond(rq, resp);
        return;
    }
    struct sluice_buf out = { 0 };
    char err[256] = "";
    int rc = run_step(bc, req->AuthBytes.p, req->AuthBytes.len > 0 ? (size_t)req->AuthBytes.len : 0,
                      &out, err, sizeof err);
    if (rc == SLUICE_SASL_FAIL) {
        free(out.data);
        resp->ErrorCode = KP_ERR_SASL_AUTHENTICATION_FAILED;
        resp->ErrorMessage = rq_str(rq, err);
        fail_later(bc, rq, resp, err);
        return;
    }
    if (out.len) {
        uint8_t *p = rq_alloc(rq, 1, (int32_t)out.len);
        if (p)
            memcpy(p, out.data, out.len);
        resp->AuthBytes.p = p;
        resp->AuthBytes.len = p ? (int32_t)out.len : 0;
    }
    free(out.data);
    if (rc == SLUICE_SASL_DONE)
        resp->SessionLifetimeMs = start_session(bc);
    (void)b;
    rq_respond(rq, resp);
}

/* ---- raw tokens (SaslHandshake v0) --------------------------------------- */

bool sasl_on_frame(struct broker *b, struct net_conn *c, struct net_request *nreq)
{
    struct broker_session *bc = broker_session_of(c);
    if (!bc || bc->sasl != SASL_STATE_RAW_TOKEN)
        return false;
    struct sluice_buf out = { 0 };
    char err[256] = "";
    int rc = run_step(bc, nreq->data, nreq->len, &out, err, sizeof err);
    if (rc == SLUICE_SASL_FAIL) {
        /* No error response exists in this flow: Kafka just closes. */
        free(out.data);
        net_respond_none(nreq);
        fail_later(bc, NULL, NULL, err);
        return true;
    }
    if (rc == SLUICE_SASL_DONE)
        start_session(bc);
    /* The answer is a bare length-prefixed token (empty when the mechanism
     * has nothing to say, as Kafka sends for PLAIN). */
    struct wire_writer w;
    wire_writer_init(&w);
    if (out.len)
        wire_write_raw(&w, out.data, out.len);
    free(out.data);
    net_respond(nreq, &w);
    wire_writer_free(&w);
    (void)b;
    return true;
}
