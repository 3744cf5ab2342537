/* Per-connection broker state: the authenticated principal ("User:
 * ANONYMOUS" until a transport or SASL says otherwise), kept as the
 * connection's net user data from accept to close. */
#ifndef SLUICE_BROKER_SESSION_H
#define SLUICE_BROKER_SESSION_H

#include "net/connection.h"

/* Kafka's KafkaPrincipal.ANONYMOUS. */
#define BROKER_PRINCIPAL_ANONYMOUS "User:ANONYMOUS"
#define BROKER_PRINCIPAL_MAX 512

struct broker_session {
    char principal[BROKER_PRINCIPAL_MAX];
};

/* net callbacks (ud is the struct broker). */
void broker_session_open(void *ud, struct net_conn *c);
/* The transport's handshake is done: take its principal (TLS client
 * certificate through ssl.principal.mapping.rules). */
void broker_session_ready(void *ud, struct net_conn *c);
void broker_session_close(void *ud, struct net_conn *c);

/* The connection's principal; BROKER_PRINCIPAL_ANONYMOUS when c is NULL or
 * nothing authenticated it. */
const char *broker_conn_principal(const struct net_conn *c);
/* Sets it (truncated to BROKER_PRINCIPAL_MAX - 1 bytes). */
void broker_conn_set_principal(struct net_conn *c, const char *principal);

#endif
