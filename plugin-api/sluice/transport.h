/* Sluice plugin ABI 1.2: byte transports under listeners (TLS).  Included
 * by <sluice/plugin.h>; see the changelog there.
 *
 * A transport module (kinds includes SLUICE_KIND_TRANSPORT) registers one
 * struct sluice_transport_ops with host->register_transport() from init.
 * The shape follows Redis' ConnectionType: the host keeps the socket, the
 * event loop and Kafka's framing; the transport only moves bytes and says
 * which readiness it waits for, so a non-blocking TLS handshake and TLS
 * reads that need a write (or the reverse) run on the broker's loop.
 *
 * Life cycle (every call on the loop thread):
 *   listener_open   once per listener whose security protocol the
 *                   transport serves, before the broker listens.  The
 *                   per-listener configuration (Kafka's
 *                   listener.name.<name>.<key> overrides, then <key>) is
 *                   read here; a failure stops the broker's start-up with
 *                   the message, so name the config key in it.
 *   accept          per accepted socket (non-blocking, TCP_NODELAY).
 *   handshake       until it returns SLUICE_TRANSPORT_DONE; the host calls
 *                   it first right after accept, then whenever the socket
 *                   becomes ready as the last result asked.
 *   read / writev / sendfile
 *                   once the handshake is done, as with recv/sendmsg/
 *                   sendfile on a non-blocking socket.
 *   close           exactly once per accepted connection (also when the
 *                   handshake failed); closes the fd and frees the state.
 *   listener_reload on SIGHUP (and whenever the module likes): re-read
 *                   certificates for new connections.
 *   listener_close  at shutdown, after every connection closed.
 *
 * Non-blocking I/O: read, writev and sendfile return the bytes moved, 0 for
 * EOF (read only), or -1 with errno: EAGAIN when the call could not make
 * progress now (then want() says whether the transport waits for the
 * socket to become readable, writable or both), anything else ends the
 * connection.  After a -1/EAGAIN from writev or sendfile the host retries
 * with the same bytes at the same stream position (possibly followed by
 * more), as OpenSSL's SSL_write needs.  pending() reports bytes the
 * transport already decrypted and buffered, which a poll on the socket
 * cannot see; the host keeps reading while it is non-zero. */
#ifndef SLUICE_TRANSPORT_H
#define SLUICE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kafka security protocols, as bits of sluice_transport_ops.protocols and
 * the single bit of sluice_transport_listener.protocol. */
#define SLUICE_SECURITY_PLAINTEXT (1u << 0)
#define SLUICE_SECURITY_SSL (1u << 1)
#define SLUICE_SECURITY_SASL_PLAINTEXT (1u << 2)
#define SLUICE_SECURITY_SASL_SSL (1u << 3)

/* handshake() results and want() bits (the same values as SLUICE_IO_*). */
#define SLUICE_TRANSPORT_DONE 0
#define SLUICE_TRANSPORT_WANT_READ 0x1
#define SLUICE_TRANSPORT_WANT_WRITE 0x2

/* What listener_open learns about one listener.  Read only during the
 * call, up to struct_size. */
struct sluice_transport_listener {
    size_t struct_size;
    /* Kafka listener name, normalised to upper case ("SSL", "INTERNAL"). */
    const char *name;
    /* "listener.name.<lower-case name>.": prepend it to a key to read the
     * listener's override first, as Kafka does for ssl.* keys. */
    const char *config_prefix;
    uint32_t protocol; /* one SLUICE_SECURITY_* bit */
};

struct sluice_transport_ops {
    size_t struct_size; /* sizeof(struct sluice_transport_ops) at build time */
    const char *name;   /* e.g. "tls"; [a-z0-9_]+, for logs */

    /* --- ABI 1.2 --- */

    /* SLUICE_SECURITY_* bits of the listeners this transport serves (a TLS
     * transport: SSL | SASL_SSL).  PLAINTEXT and SASL_PLAINTEXT have the
     * host's built-in TCP transport; one registered transport per bit. */
    uint32_t protocols;

    /* Sets *listener to the transport's per-listener state (e.g. an
     * SSL_CTX built from the listener's key and trust stores).  Returns 0
     * or a negative SLUICE_ERR_* with err naming the config key at fault.
     * `state` is the pointer given to register_transport.  Required. */
    int (*listener_open)(void *state, const struct sluice_transport_listener *info,
                         void **listener, char *err, size_t errlen);
    /* Frees the per-listener state.  May be NULL. */
    void (*listener_close)(void *listener);
    /* Re-reads the listener's certificates for connections accepted from
     * now on; established connections keep theirs.  On failure returns a
     * negative SLUICE_ERR_* with err and keeps the old ones.  May be NULL. */
    int (*listener_reload)(void *listener, char *err, size_t errlen);

    /* Takes ownership of fd (also on failure) and sets *conn.  peer is
     * "host:port" for logs.  Returns 0 or a negative SLUICE_ERR_*.
     * Required. */
    int (*accept)(void *listener, int fd, const char *peer, void **conn, char *err,
                  size_t errlen);
    /* Advances the handshake: SLUICE_TRANSPORT_DONE, a non-zero mix of
     * SLUICE_TRANSPORT_WANT_* (call again when ready), or a negative
     * SLUICE_ERR_* with err (the host logs it with the peer and closes).
     * NULL: no handshake. */
    int (*handshake)(void *conn, char *err, size_t errlen);
    /* recv() semantics, see above.  Required. */
    ssize_t (*read)(void *conn, void *buf, size_t len);
    /* sendmsg() semantics, see above; may write less than asked.
     * Required. */
    ssize_t (*writev)(void *conn, const struct iovec *iov, int iovcnt);
    /* Writes len bytes of in_fd from *offset, advancing *offset, without
     * copying them through user space (kernel TLS: SSL_sendfile).  Returns
     * as writev; -1 with errno EOPNOTSUPP means this connection cannot
     * (e.g. the kernel has no TLS offload): the host then preads file
     * ranges and hands them to writev for the rest of the connection.
     * NULL: never. */
    ssize_t (*sendfile)(void *conn, int in_fd, int64_t *offset, size_t len);
    /* Bytes buffered inside the transport and readable without the socket
     * being readable.  NULL: none ever. */
    size_t (*pending)(void *conn);
    /* After -1/EAGAIN: the SLUICE_TRANSPORT_WANT_* bits the transport waits
     * for.  NULL: read waits for readable, writes for writable. */
    int (*want)(void *conn);
    /* The authenticated principal of the peer ("User:CN=client,O=Acme"
     * after the listener's ssl.principal.mapping.rules), copied into buf
     * NUL-terminated; valid once the handshake is done.  Returns its
     * length, 0 when the peer is anonymous (no client certificate), or a
     * negative SLUICE_ERR_*.  NULL: always anonymous. */
    int (*peer_principal)(void *conn, char *buf, size_t len);
    /* Closes the fd and frees the connection state.  Required. */
    void (*close)(void *conn);
};

/* Smallest struct_size register_transport accepts (everything up to close). */
#define SLUICE_TRANSPORT_OPS_MIN_SIZE_V1_2                                                         \
    (offsetof(struct sluice_transport_ops, close) +                                                \
     sizeof(((struct sluice_transport_ops *)0)->close))

#ifdef __cplusplus
}
#endif

#endif
