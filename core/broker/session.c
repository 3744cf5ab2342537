/* Per-connection broker state (see session.h). */
#include "broker/session.h"
#include "broker/broker.h"
#include "broker/sasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void broker_on_accept(void *ud, struct net_conn *c)
{
    struct broker *b = ud;
    struct broker_conn *bc = calloc(1, sizeof *bc);
    if (!bc) {
        net_conn_close(c);
        return;
    }
    bc->b = b;
    bc->conn = c;
    snprintf(bc->principal, sizeof bc->principal, "%s", BROKER_ANONYMOUS);
    /* "1.2.3.4:5" -> "1.2.3.4"; "[::1]:5" -> "::1". */
    const char *peer = net_conn_peer(c);
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']')
        snprintf(bc->host, sizeof bc->host, "%.*s", (int)(n - 2), peer + 1);
    else
        snprintf(bc->host, sizeof bc->host, "%.*s", (int)n, peer);
    const struct listener_spec *ls = net_conn_listener(c);
    if (ls && (ls->protocol == LISTENER_SASL_PLAINTEXT || ls->protocol == LISTENER_SASL_SSL))
        bc->sasl = SASL_STATE_HANDSHAKE;
    net_conn_set_ud(c, bc);
}

void broker_on_close(void *ud, struct net_conn *c)
{
    (void)ud;
    struct broker_conn *bc = net_conn_get_ud(c);
    if (!bc)
        return;
    net_conn_set_ud(c, NULL);
    sasl_conn_release(bc);
    free(bc);
}

struct broker_conn *broker_conn_of(const struct net_conn *c)
{
    return c ? net_conn_get_ud(c) : NULL;
}

const char *broker_conn_principal(const struct net_conn *c)
{
    struct broker_conn *bc = broker_conn_of(c);
    return bc ? bc->principal : BROKER_ANONYMOUS;
}

void broker_conn_set_principal(struct net_conn *c, const char *principal)
{
    struct broker_conn *bc = broker_conn_of(c);
    if (bc && principal)
        snprintf(bc->principal, sizeof bc->principal, "%s", principal);
}

const char *broker_conn_host(const struct net_conn *c)
{
    struct broker_conn *bc = broker_conn_of(c);
    return bc ? bc->host : "";
}
