/* The SASL framework of SASL listeners (Kafka's SaslServerAuthenticator):
 * SaslHandshake v0-1, SaslAuthenticate v0-2, the legacy raw tokens after
 * SaslHandshake v0, KIP-368 re-authentication and session expiry.  The
 * mechanisms are modules (<sluice/sasl.h>). */
#ifndef SLUICE_BROKER_SASL_H
#define SLUICE_BROKER_SASL_H

#include <stdbool.h>
#include <stddef.h>

struct broker;
struct broker_session;
struct net_conn;
struct net_request;
struct request;

/* Before the request header is decoded: consumes nreq when the connection
 * is in the raw-token phase (SaslHandshake v0) and returns true. */
bool sasl_on_frame(struct broker *b, struct net_conn *c, struct net_request *nreq);

/* After the header is decoded: false when the request may not be served on
 * this connection now (before authentication only ApiVersions and
 * SaslHandshake; an expired KIP-368 session): the caller closes the
 * connection, as Kafka does.  Logs why. */
bool sasl_request_allowed(struct broker *b, struct broker_session *bc, const struct request *rq);

/* The connection is going away: free the mechanism session, answer a
 * delayed failure. */
void sasl_session_release(struct broker_session *bc);

/* Start-up check of sasl.enabled.mechanisms (and its listener.name.*
 * overrides) against the mechanisms the loaded modules provide, for each
 * SASL listener.  0, or -1 with err. */
int sasl_check_listener(struct broker *b, const char *listener, const char *protocol, char *err,
                        size_t errlen);

#endif
