/* Per-connection broker state, kept as the connection's net user data from
 * accept to close: the authenticated principal ("User:ANONYMOUS" until a
 * transport or SASL says otherwise), the client address as ACLs name it,
 * and the SASL exchange of a SASL listener (sasl.c). */
#ifndef SLUICE_BROKER_SESSION_H
#define SLUICE_BROKER_SESSION_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/connection.h"

struct broker;
struct request;
struct module_sasl_mech;

/* Kafka's KafkaPrincipal.ANONYMOUS. */
#define BROKER_PRINCIPAL_ANONYMOUS "User:ANONYMOUS"
#define BROKER_PRINCIPAL_MAX 512

/* Kafka's SaslServerAuthenticator states, as far as the broker sees them. */
enum sasl_state {
    SASL_STATE_NONE = 0,     /* not a SASL listener: nothing to authenticate */
    SASL_STATE_HANDSHAKE,    /* ApiVersions or SaslHandshake expected */
    SASL_STATE_AUTHENTICATE, /* SaslAuthenticate expected (handshake v1+) */
    SASL_STATE_RAW_TOKEN,    /* raw length-prefixed tokens (handshake v0) */
    SASL_STATE_DONE,         /* authenticated; a new SaslHandshake re-authenticates */
    SASL_STATE_FAILED,       /* closing after a failure */
};

struct broker_session {
    struct broker *b;
    struct net_conn *conn;
    char principal[BROKER_PRINCIPAL_MAX];
    char host[72]; /* peer address without the port (ACL host) */

    enum sasl_state sasl;
    const struct module_sasl_mech *mech; /* chosen in SaslHandshake */
    void *mech_session;
    bool reauth;               /* this exchange re-authenticates (KIP-368) */
    int64_t session_expiry_ms; /* CLOCK_MONOTONIC ms; 0: never expires */
    /* A failed authentication waits connection.failed.authentication.delay.ms
     * before it is answered and the connection closed. */
    ev_timer fail_delay;
    struct request *fail_rq; /* SaslAuthenticate answered when the delay ends */
    void *fail_resp;         /* its response, in fail_rq's arena */
};

/* net callbacks (ud is the struct broker). */
void broker_session_open(void *ud, struct net_conn *c);
/* The transport's handshake is done: take its principal (TLS client
 * certificate through ssl.principal.mapping.rules); SASL replaces it on a
 * SASL_SSL listener. */
void broker_session_ready(void *ud, struct net_conn *c);
void broker_session_close(void *ud, struct net_conn *c);

/* The state of c (NULL when c is NULL or has none). */
struct broker_session *broker_session_of(const struct net_conn *c);

/* The connection's principal; BROKER_PRINCIPAL_ANONYMOUS when c is NULL or
 * nothing authenticated it. */
const char *broker_conn_principal(const struct net_conn *c);
/* Sets it (truncated to BROKER_PRINCIPAL_MAX - 1 bytes). */
void broker_conn_set_principal(struct net_conn *c, const char *principal);
/* The client address without the port, as ACL host entries name it. */
const char *broker_conn_host(const struct net_conn *c);

#endif
