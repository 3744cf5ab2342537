/* Sluice plugin ABI: SASL mechanisms (SLUICE_KIND_SASL, ABI 1.2).
 * Included by <sluice/plugin.h>; see the changelog there.
 *
 * The broker runs Kafka's SASL framework (SaslHandshake, SaslAuthenticate,
 * the legacy unwrapped tokens after SaslHandshake v0, KIP-368
 * re-authentication); a module supplies one or more mechanisms, each a
 * per-connection session driven by step().  The broker never sees secrets:
 * it hands client bytes to step() and sends back what step() wrote, and it
 * never logs either.
 *
 * Threads: every callback runs on the broker's loop thread and must not
 * block (no disk, no network).  Credentials the module keeps durably go
 * through host->record_* (ABI 1.1). */
#ifndef SLUICE_SASL_H
#define SLUICE_SASL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sluice_buf; /* <sluice/plugin.h> */

/* step() results. */
#define SLUICE_SASL_DONE 0     /* authenticated; out may hold a final server message */
#define SLUICE_SASL_CONTINUE 1 /* send out to the client and wait for its next message */
#define SLUICE_SASL_FAIL (-1)  /* authentication failed; err is sent to the client */

/* What the broker knows about the connection, borrowed for the call. */
struct sluice_sasl_conn_info {
    size_t struct_size;
    const char *listener;  /* listener name, e.g. "SASL_PLAINTEXT" */
    const char *peer;      /* "127.0.0.1:54321" */
    const char *mechanism; /* the mechanism the client chose */
};

/* Kafka's SCRAM mechanism ids (AlterUserScramCredentials). */
#define SLUICE_SCRAM_SHA_256 1
#define SLUICE_SCRAM_SHA_512 2

/* One SCRAM credential as DescribeUserScramCredentials reports it. */
typedef int (*sluice_sasl_credential_fn)(void *ud, const char *user, int32_t iterations);

/* Registered from init() with host->register_sasl_mechanism (ABI 1.2).
 * The host copies the first struct_size bytes; `mechanism` must stay
 * valid until fini.  One registration per mechanism name. */
struct sluice_sasl_mech_ops {
    size_t struct_size;    /* sizeof(struct sluice_sasl_mech_ops) at build time */
    const char *mechanism; /* IANA name, e.g. "SCRAM-SHA-512"; [A-Z0-9_-]{1,20} */

    /* --- ABI 1.2 --- */

    /* A client picked this mechanism (SaslHandshake): create its session.
     * Return 0 with *session set, or a negative SLUICE_ERR_* (the
     * connection is refused with err).  Required. */
    int (*session_new)(void *state, const struct sluice_sasl_conn_info *info, void **session,
                       char *err, size_t errlen);

    /* One client message in (`in`, `in_len`, borrowed), the server's answer
     * appended to `out` (host->buf_reserve).  Returns SLUICE_SASL_DONE,
     * SLUICE_SASL_CONTINUE or SLUICE_SASL_FAIL with a client-facing reason
     * in err that reveals nothing secret (Kafka sends it as the
     * SaslAuthenticate ErrorMessage).  Required. */
    int (*step)(void *state, void *session, const uint8_t *in, size_t in_len,
                struct sluice_buf *out, char *err, size_t errlen);

    /* After DONE: the authenticated user name (the host makes it the
     * principal "User:<name>").  Borrowed until session_free.  Required. */
    const char *(*principal)(void *state, void *session);

    /* After DONE: the credential's own lifetime in ms (e.g. a token's
     * expiry), 0 for none.  The broker sends min(this,
     * connections.max.reauth.ms) as SessionLifetimeMs (KIP-368).  May be
     * NULL. */
    int64_t (*session_lifetime_ms)(void *state, void *session);

    /* Frees a session (connection closed, or replaced by a
     * re-authentication).  May be NULL when sessions own nothing. */
    void (*session_free)(void *state, void *session);

    /* Credential administration for mechanisms that keep credentials
     * (SCRAM): AlterUserScramCredentials and DescribeUserScramCredentials.
     * All four may be NULL (the APIs then answer UNSUPPORTED_SASL_MECHANISM
     * for this mechanism).  Writes go through host->record_put, so the
     * broker acknowledges the request once the metadata log is fsynced.
     *
     * credential_upsert: the client's salt and SaltedPassword (Hi(password,
     * salt, iterations)); the module stores derived keys only.  Returns 0
     * or SLUICE_ERR_INVALID (bad iterations/salt, message in err).
     * credential_delete: 0 or SLUICE_ERR_NOT_FOUND.
     * credential_get: 0 with *iterations, or SLUICE_ERR_NOT_FOUND.
     * credential_list: cb for every user with a credential, in name order. */
    int (*credential_upsert)(void *state, const char *user, int32_t iterations,
                             const uint8_t *salt, size_t salt_len, const uint8_t *salted_password,
                             size_t salted_len, char *err, size_t errlen);
    int (*credential_delete)(void *state, const char *user);
    int (*credential_get)(void *state, const char *user, int32_t *iterations);
    int (*credential_list)(void *state, sluice_sasl_credential_fn cb, void *ud);

    /* Kafka's SCRAM mechanism id (SLUICE_SCRAM_SHA_*), 0 for others. */
    int8_t scram_mechanism;
};

/* Smallest struct_size a 1.2 host accepts (through session_free). */
#define SLUICE_SASL_MECH_OPS_MIN_SIZE_V1_2                                                         \
    (offsetof(struct sluice_sasl_mech_ops, session_free) +                                         \
     sizeof(((struct sluice_sasl_mech_ops *)0)->session_free))

#ifdef __cplusplus
}
#endif

#endif
