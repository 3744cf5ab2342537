/* Per-connection broker state; see session.h. */
#include "broker/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/sasl.h"

void broker_session_open(void *ud, struct net_conn *c)
{
    struct broker *b = ud;
    struct broker_session *s = calloc(1, sizeof *s);
    if (!s) {
        slog(b->log, SLOG_ERROR, "broker", "closing connection %s: out of memory",
             net_conn_peer(c));
        net_conn_close(c);
        return;
    }
    s->b = b;
    s->conn = c;
    snprintf(s->principal, sizeof s->principal, "%s", BROKER_PRINCIPAL_ANONYMOUS);
    /* "1.2.3.4:5" -> "1.2.3.4"; "[::1]:5" -> "::1". */
    const char *peer = net_conn_peer(c);
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']')
        snprintf(s->host, sizeof s->host, "%.*s", (int)(n - 2), peer + 1);
    else
        snprintf(s->host, sizeof s->host, "%.*s", (int)n, peer);
    const struct listener_spec *ls = net_conn_listener(c);
    if (ls && (ls->protocol == LISTENER_SASL_PLAINTEXT || ls->protocol == LISTENER_SASL_SSL))
        s->sasl = SASL_STATE_HANDSHAKE;
    net_conn_set_ud(c, s);
}

void broker_session_ready(void *ud, struct net_conn *c)
{
    struct broker *b = ud;
    char p[BROKER_PRINCIPAL_MAX];
    int n = net_conn_principal(c, p, sizeof p);
    if (n < 0) {
        slog(b->log, SLOG_INFO, "broker", "closing connection %s: cannot build its principal",
             net_conn_peer(c));
        net_conn_close(c);
        return;
    }
    if (n > 0)
        broker_conn_set_principal(c, p);
    slog(b->log, SLOG_DEBUG, "broker", "connection %s on %s: principal %s", net_conn_peer(c),
         net_conn_listener(c)->name, broker_conn_principal(c));
}

void broker_session_close(void *ud, struct net_conn *c)
{
    (void)ud;
    struct broker_session *s = net_conn_get_ud(c);
    if (!s)
        return;
    net_conn_set_ud(c, NULL);
    sasl_session_release(s);
    free(s);
}

struct broker_session *broker_session_of(const struct net_conn *c)
{
    return c ? net_conn_get_ud(c) : NULL;
}

const char *broker_conn_principal(const struct net_conn *c)
{
    const struct broker_session *s = broker_session_of(c);
    return s ? s->principal : BROKER_PRINCIPAL_ANONYMOUS;
}

void broker_conn_set_principal(struct net_conn *c, const char *principal)
{
    struct broker_session *s = broker_session_of(c);
    if (s && principal)
        snprintf(s->principal, sizeof s->principal, "%s", principal);
}

const char *broker_conn_host(const struct net_conn *c)
{
    const struct broker_session *s = broker_session_of(c);
    return s ? s->host : "";
}
