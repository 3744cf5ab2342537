/* Builds the OpenSSL server context of one listener from Kafka's ssl.*
 * keys: key store (PKCS12 or PEM file, or inline PEM), trust store,
 * ssl.client.auth, ssl.enabled.protocols / ssl.protocol, ssl.cipher.suites.
 * Every error names the config key it came from, as read (the
 * listener.name.<name>. override when that was the one set). */
#ifndef SLUICE_TLS_CONTEXT_H
#define SLUICE_TLS_CONTEXT_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

/* Looks up one key for the listener: returns its value or NULL, and the
 * full key name used (for messages) in *used. */
typedef const char *(*tls_config_get_fn)(void *ud, const char *key, const char **used);

enum tls_client_auth { TLS_AUTH_NONE, TLS_AUTH_REQUESTED, TLS_AUTH_REQUIRED };

struct tls_context_opts {
    int ktls; /* SSL_OP_ENABLE_KTLS */
};

/* A built context plus what reload needs to notice changes. */
struct tls_built {
    SSL_CTX *ctx;
    enum tls_client_auth auth;
    /* Key and trust store files (NULL when inline), for mtime checks. */
    char *keystore_path, *truststore_path;
    struct timespec keystore_mtime, truststore_mtime;
};

/* Returns 0 with *out filled, or -1 with err. */
int tls_context_build(tls_config_get_fn get, void *ud, const struct tls_context_opts *opts,
                      struct tls_built *out, char *err, size_t errlen);
void tls_built_free(struct tls_built *b);

/* Nonzero when a store file's mtime differs from the one built. */
int tls_built_changed(const struct tls_built *b);

/* Takes the store files' current mtimes as seen (after a failed reload). */
void tls_built_touch(struct tls_built *b);

#endif
