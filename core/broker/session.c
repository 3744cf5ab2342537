/* Per-connection broker state; see session.h. */
#include "broker/session.h"

#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"

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
    snprintf(s->principal, sizeof s->principal, "%s", BROKER_PRINCIPAL_ANONYMOUS);
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
    free(net_conn_get_ud(c));
    net_conn_set_ud(c, NULL);
}

const char *broker_conn_principal(const struct net_conn *c)
{
    const struct broker_session *s = c ? net_conn_get_ud(c) : NULL;
    return s ? s->principal : BROKER_PRINCIPAL_ANONYMOUS;
}

void broker_conn_set_principal(struct net_conn *c, const char *principal)
{
    struct broker_session *s = net_conn_get_ud(c);
    if (s)
        snprintf(s->principal, sizeof s->principal, "%s", principal);
}
