/* Per-connection broker state: the authenticated principal and the SASL
 * exchange of a SASL listener (sasl.c).  Created in on_accept, freed in
 * on_close; a request reaches it through net_request_conn(). */
#ifndef SLUICE_BROKER_SESSION_H
#define SLUICE_BROKER_SESSION_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct broker;
struct net_conn;
struct request;
struct module_sasl_mech;

#define BROKER_PRINCIPAL_MAX 320
#define BROKER_ANONYMOUS "User:ANONYMOUS"

/* Kafka's SaslServerAuthenticator states, as far as the broker sees them. */
enum sasl_state {
    SASL_STATE_NONE = 0,    /* not a SASL listener: nothing to authenticate */
    SASL_STATE_HANDSHAKE,   /* ApiVersions or SaslHandshake expected */
    SASL_STATE_AUTHENTICATE,/* SaslAuthenticate expected (handshake v1+) */
    SASL_STATE_RAW_TOKEN,   /* raw length-prefixed tokens (handshake v0) */
    SASL_STATE_DONE,        /* authenticated; a new SaslHandshake re-authenticates */
    SASL_STATE_FAILED,      /* closing after a failure */
};

struct broker_conn {
    struct broker *b;
    struct net_conn *conn;
    char principal[BROKER_PRINCIPAL_MAX];
    char host[72]; /* peer address without the port (ACL host) */

    enum sasl_state sasl;
    const struct module_sasl_mech *mech; /* chosen in SaslHandshake */
    void *mech_session;
    bool reauth;              /* this exchange re-authenticates (KIP-368) */
    int64_t session_expiry_ms;/* CLOCK_MONOTONIC ms; 0: never expires */
    /* A failed authentication waits connection.failed.authentication.delay.ms
     * before it is answered and the connection closed. */
    ev_timer fail_delay;
    struct request *fail_rq;  /* SaslAuthenticate answered when the delay ends */
    void *fail_resp;          /* its response, in fail_rq's arena */
};

/* net callbacks (broker_listen installs them). */
void broker_on_accept(void *ud, struct net_conn *c);
void broker_on_close(void *ud, struct net_conn *c);

/* The state of c (NULL for a connection accepted without on_accept). */
struct broker_conn *broker_conn_of(const struct net_conn *c);

/* "User:ANONYMOUS" until authentication sets it (c may be NULL: anonymous). */
const char *broker_conn_principal(const struct net_conn *c);
void broker_conn_set_principal(struct net_conn *c, const char *principal);
/* The client address without the port, as ACL host entries name it. */
const char *broker_conn_host(const struct net_conn *c);

#endif
