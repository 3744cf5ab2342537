/* The network core: a libev server that accepts Kafka client connections,
 * frames requests and writes responses back in request order.
 *
 * Everything lives in a struct net_server (loop, listeners, connections,
 * limits, callbacks); there is no global state, so one server per event loop
 * (per core) works.  All functions must be called on the loop's thread.
 *
 * Request life cycle
 * ------------------
 * The wire format is Kafka's: a 4-byte big-endian size, then that many bytes.
 * A size below 0 or above limits.request_max_bytes (socket.request.max.bytes)
 * is logged with the peer, size and limit and the connection is closed, as
 * Kafka's NetworkReceive does.
 *
 * Each complete request is handed to cb.on_request(ud, conn, req).  req->data
 * and req->len are the payload (without the size prefix); the request owns
 * that buffer until it is completed.  The handler completes each request
 * exactly once, now or later (long-polling Fetch, produce waiting on fsync),
 * with net_respond() or net_respond_none().  Requests on a connection may be
 * completed in any order; responses are written strictly in request order.
 *
 * Connection close
 * ----------------
 * A connection is closed on EOF, I/O error, framing error, idle timeout,
 * net_conn_close() or net_server_free().  Requests still in the handler become
 * orphaned: net_request_conn() returns NULL from then on, and the handler must
 * still complete them (net_respond() then just frees everything).  cb.on_close
 * is called once per accepted connection, from the event loop shortly after
 * the close (never from inside net_respond()/net_conn_close() themselves);
 * after it returns the struct net_conn pointer is invalid.
 *
 * Back-pressure
 * -------------
 * A connection stops reading (its EV_READ watcher is stopped) while it has
 * limits.max_inflight requests not yet fully written, or while its queued
 * response bytes exceed limits.max_queued_bytes; it resumes once the count is
 * below the limit and the queued bytes are at most half the limit.  So a client
 * that pipelines without reading costs at most about max_queued_bytes plus one
 * maximum-size response plus max_inflight requests of memory.
 *
 * Transports
 * ----------
 * Bytes go through struct net_transport_ops so a TLS module can replace
 * plain TCP.  PLAINTEXT and SASL_PLAINTEXT use plain TCP; listeners whose
 * security protocol has no transport registered (SSL, SASL_SSL by default)
 * are refused by net_server_listen(). */
#ifndef SLUICE_NET_CONNECTION_H
#define SLUICE_NET_CONNECTION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "net/listener.h"
#include "util/logger.h"
#include "util/wire.h"

struct ev_loop;
struct net_server;
struct net_conn;

struct net_limits {
    /* socket.request.max.bytes; Kafka default 104857600. */
    size_t request_max_bytes;
    /* Stop reading a connection while this many response bytes are queued
     * unsent on it (default 4 MiB). */
    size_t max_queued_bytes;
    /* Stop reading a connection while this many of its requests are in the
     * handler or queued for writing (default 64; queued.max.requests is the
     * broker-wide analogue in Kafka). */
    unsigned max_inflight;
    /* connections.max.idle.ms: close connections with no read or write
     * progress for this long; 0 disables (default 600000). */
    uint64_t idle_ms;
    /* listen(2) backlog (default 1024). */
    int backlog;
};

/* Fill with the defaults listed above. */
void net_limits_default(struct net_limits *l);

/* A request handed to on_request.  Only data/len are for the handler; the
 * rest is the server's bookkeeping. */
struct net_request {
    uint8_t *data;  /* payload, malloc'd, owned by the request */
    size_t len;

    /* --- private --- */
    struct net_conn *conn; /* NULL once orphaned */
    struct net_request *next;
    uint64_t seq;
    int state;
    uint8_t prefix[4];
    struct net_part *parts; /* response: memory and file parts */
    size_t nparts, part, part_off;
    uint8_t *resp_buf;      /* wire_writer buffer taken over by net_respond */
    size_t resp_total;      /* bytes including the size prefix */
};

/* Pluggable byte transport.  ctx is the transport's per-connection state.
 * read/writev/sendfile return bytes transferred, 0 for EOF (read only), or -1
 * with errno (EAGAIN/EWOULDBLOCK when the socket is not ready; anything else
 * closes the connection).  sendfile may be NULL, or fail with EOPNOTSUPP for
 * a connection that cannot: the server then preads the file and writes it
 * with writev.  After EAGAIN the server retries with the same bytes at the
 * same position (TLS needs that).  close releases ctx and the fd.
 * The rest is for transports with their own protocol (TLS), all optional:
 * handshake runs until it returns 0 (>0: NET_WANT_* bits, <0: failed, err
 * set); pending is how many bytes the transport buffered that the socket no
 * longer shows; want says which readiness an EAGAIN waits for; principal
 * copies the authenticated peer into buf (returns its length, 0 when
 * anonymous, <0 on error). */
#define NET_WANT_READ 0x1
#define NET_WANT_WRITE 0x2
struct net_transport_ops {
    ssize_t (*read)(void *ctx, void *buf, size_t len);
    ssize_t (*writev)(void *ctx, const struct iovec *iov, int iovcnt);
    ssize_t (*sendfile)(void *ctx, int in_fd, off_t *off, size_t len);
    void (*close)(void *ctx);
    int (*handshake)(void *ctx, char *err, size_t errlen);
    size_t (*pending)(void *ctx);
    int (*want)(void *ctx);
    int (*principal)(void *ctx, char *buf, size_t len);
};

/* Creates the transport for a freshly accepted socket on listener ls: sets
 * *ops and *ctx.  Takes ownership of fd (also on failure).  Returns 0 or -1
 * with err. */
typedef int (*net_transport_factory_fn)(void *fud, int fd, const struct listener_spec *ls,
                                        const char *peer, const struct net_transport_ops **ops,
                                        void **ctx, char *err, size_t errlen);

struct net_callbacks {
    /* Required.  Complete req with net_respond()/net_respond_none(). */
    void (*on_request)(void *ud, struct net_conn *c, struct net_request *req);
    /* Optional: a connection was accepted (set per-connection state here). */
    void (*on_accept)(void *ud, struct net_conn *c);
    /* Optional: the transport's handshake finished (right after on_accept
     * for transports without one); net_conn_principal() now answers. */
    void (*on_ready)(void *ud, struct net_conn *c);
    /* Optional: the connection is gone; drop per-connection state. */
    void (*on_close)(void *ud, struct net_conn *c);
};

/* Counters for tests and metrics. */
struct net_stats {
    uint64_t accepted;       /* connections accepted */
    uint64_t closed;         /* connections closed (on_close calls) */
    uint64_t requests;       /* requests handed to on_request */
    uint64_t responses;      /* responses fully written */
    uint64_t bytes_in, bytes_out;
    uint64_t read_pauses;    /* times back-pressure stopped reading */
    uint64_t idle_closes;    /* connections closed by the idle timeout */
    uint64_t frame_errors;   /* connections closed for a bad size prefix */
    unsigned open;           /* currently open connections */
};

/* Create a server on loop.  limits NULL = defaults; cb and limits are copied.
 * ud is passed to every callback.  log (may be NULL: no logging) is borrowed
 * and must outlive the server; lines use the component "net": listening
 * addresses at INFO, framing errors and accept failures at WARN, idle closes
 * at INFO, per-connection accept/close/I/O errors at DEBUG.  Returns NULL on
 * allocation failure. */
struct net_server *net_server_new(struct ev_loop *loop, const struct net_limits *limits,
                                  const struct net_callbacks *cb, void *ud,
                                  struct sluice_logger *log);

/* Serve security protocol `proto` with a transport factory (the broker
 * wires a TLS module's transport for LISTENER_SSL and LISTENER_SASL_SSL).
 * PLAINTEXT and SASL_PLAINTEXT have a built-in plain TCP transport;
 * registering one for them replaces it. */
void net_server_set_transport(struct net_server *s, enum listener_security proto,
                              net_transport_factory_fn factory, void *fud);

/* Open and start accepting on all specs; logs "listening on
 * PLAINTEXT://127.0.0.1:43121" for each at INFO.  All or nothing: on error
 * the listeners opened by this call are closed and -1 is returned with err,
 * e.g. a listener whose protocol has no transport: "listener SSL://:9093
 * uses security protocol SSL, which needs a TLS transport module (none is
 * loaded)".  May be called more than once to add listeners. */
int net_server_listen(struct net_server *s, const struct listener_spec *specs, size_t n,
                      char *err, size_t errlen);

size_t net_server_listener_count(const struct net_server *s);
const struct listener *net_server_listener(const struct net_server *s, size_t i);

/* Write the bound ports, one decimal port per line in listener order, to
 * path; written to a temporary file then renamed so a test polling for the
 * file never sees a partial one.  Returns 0 or -1 with err. */
int net_server_write_port_file(const struct net_server *s, const char *path, char *err,
                               size_t errlen);

/* Stop accepting new connections (controlled shutdown); existing
 * connections keep being served.  Listening sockets are closed. */
void net_server_stop_accepting(struct net_server *s);

/* Close every connection (calling on_close for each), the listeners, and free
 * the server.  Requests still in handlers become orphaned and stay valid
 * until completed. */
void net_server_free(struct net_server *s);

void net_server_stats(const struct net_server *s, struct net_stats *out);

/* ---- requests --------------------------------------------------------- */

/* Complete req with the response in w: the bytes are w->buf[0..w->len) with
 * each of w->spans' file ranges inserted at its `at` position; the size prefix
 * (wire_writer_total(w)) is added here.  Takes ownership of w's buffers and
 * leaves w empty (re-initialised); span fds are dup()ed, so the caller may
 * close its fds (or the segment may be deleted) right away.  If w->err is set
 * the response cannot be trusted: the connection is closed (Kafka clients
 * cannot resynchronise after a missing response).  Safe on orphaned
 * requests (everything is just freed).  req is freed eventually; do not use
 * it after this call. */
void net_respond(struct net_request *req, struct wire_writer *w);

/* Complete req without a response (produce with acks=0).  Responses of later
 * requests still wait for earlier ones.  req must not be used afterwards. */
void net_respond_none(struct net_request *req);

/* The connection of req, or NULL once the connection closed (orphaned). */
struct net_conn *net_request_conn(const struct net_request *req);

/* Take the payload buffer out of req (zero-copy handoff, e.g. produce record
 * batches appended as-is); the caller frees it.  req->data becomes NULL. */
uint8_t *net_request_steal_data(struct net_request *req);

/* ---- connections ------------------------------------------------------ */

void net_conn_set_ud(struct net_conn *c, void *ud);
void *net_conn_get_ud(const struct net_conn *c);
/* Per-server unique id, counting from 1. */
uint64_t net_conn_id(const struct net_conn *c);
/* "127.0.0.1:54321" / "[::1]:54321". */
const char *net_conn_peer(const struct net_conn *c);
/* The listener the connection came in on (Metadata answers with the
 * advertised addresses of that listener name). */
const struct listener_spec *net_conn_listener(const struct net_conn *c);
struct net_server *net_conn_server(const struct net_conn *c);
/* The authenticated peer principal from the transport (e.g. from a TLS
 * client certificate) into buf; returns its length, 0 when the transport
 * has none (anonymous), <0 on error.  Meaningful from on_ready on. */
int net_conn_principal(const struct net_conn *c, char *buf, size_t len);
/* Nonzero while the transport's handshake is still running. */
int net_conn_handshaking(const struct net_conn *c);
/* Number of requests not yet fully written (in handler or queued). */
unsigned net_conn_inflight(const struct net_conn *c);
/* Response bytes queued and not yet written. */
size_t net_conn_queued_bytes(const struct net_conn *c);
/* Nonzero while back-pressure has reading stopped. */
int net_conn_read_paused(const struct net_conn *c);

/* Stop reading, write what is queued (requests still in the handler are
 * completed and written first), then close: a response that ends the
 * connection, such as a failed authentication.  Idempotent. */
void net_conn_close_after_flush(struct net_conn *c);

/* Close now: stops I/O, orphans requests in handlers, drops queued
 * responses; on_close follows from the loop.  Idempotent. */
void net_conn_close(struct net_conn *c);

#endif
