/* Kafka `listeners` parsing and listening sockets.
 *
 * A listeners string is a comma-separated list of NAME://HOST:PORT entries
 * (Kafka's `listeners` / `advertised.listeners` syntax):
 *
 *     PLAINTEXT://:9092,PLAINTEXT2://127.0.0.1:0,INTERNAL://[::1]:9093
 *
 * - NAME is a listener name, compared case-insensitively and normalised to
 *   upper case like Kafka's ListenerName.normalised().
 * - An empty HOST means all interfaces (bound as the IPv6 wildcard with
 *   IPV6_V6ONLY off so IPv4 clients are accepted too, falling back to
 *   0.0.0.0 on hosts without IPv6).  IPv6 literals are written in brackets.
 * - PORT 0 asks the kernel for an ephemeral port; listener_bound_port()
 *   reports the real one after listener_open().
 *
 * Each NAME maps to a security protocol through `listener.security.protocol.map`
 * ("NAME:PROTOCOL,NAME2:PROTOCOL").  As in Kafka, when the map is empty or NULL
 * the default map is used, which maps each security protocol name to itself
 * (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL); an explicit map replaces the
 * default entirely, so every listener name must appear in it.
 *
 * Parsing only validates; serving a non-PLAINTEXT protocol needs a transport
 * module, which net_server_listen() checks (see connection.h). */
#ifndef SLUICE_NET_LISTENER_H
#define SLUICE_NET_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

enum listener_security {
    LISTENER_PLAINTEXT = 0,
    LISTENER_SSL = 1,
    LISTENER_SASL_PLAINTEXT = 2,
    LISTENER_SASL_SSL = 3,
};
#define LISTENER_NSECURITY 4

#define LISTENER_NAME_MAX 64
#define LISTENER_HOST_MAX 256

struct listener_spec {
    char name[LISTENER_NAME_MAX];  /* normalised (upper-case) listener name */
    enum listener_security protocol;
    char host[LISTENER_HOST_MAX];  /* "" = all interfaces; IPv6 without brackets */
    int port;                      /* 0 = ephemeral */
};

/* Parse `spec` (Kafka listeners syntax) with `protocol_map` (NULL or "" =
 * Kafka's default map).  On success *out is a malloc'd array of *n entries
 * (free with free()) and 0 is returned.  On error returns -1 with a message in
 * err; *out is NULL.  Rejected: empty list, missing "://", bad or out-of-range
 * port (0..65535), unbalanced brackets, duplicate listener names, a name not
 * in the protocol map, an unknown security protocol in the map, and two
 * listeners on the same non-zero port (Kafka requires distinct ports). */
int listener_parse(const char *spec, const char *protocol_map,
                   struct listener_spec **out, size_t *n, char *err, size_t errlen);

/* "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL". */
const char *listener_security_name(enum listener_security p);
/* Case-insensitive lookup; returns -1 when unknown. */
int listener_security_from_name(const char *name);

/* A bound, listening, non-blocking socket. */
struct listener {
    struct listener_spec spec;
    int fd;                        /* -1 when closed */
    struct sockaddr_storage addr;  /* actual bound address (getsockname) */
    socklen_t addrlen;
};

/* Resolve spec->host (numeric or name, first result), create a non-blocking
 * close-on-exec socket with SO_REUSEADDR, bind, listen(backlog).  Returns 0,
 * or -1 with err set ("cannot bind PLAINTEXT://127.0.0.1:9092: Address
 * already in use"). */
int listener_open(struct listener *l, const struct listener_spec *spec, int backlog,
                  char *err, size_t errlen);
void listener_close(struct listener *l);

/* The port actually bound (the kernel's choice when spec.port was 0), or -1
 * when the listener is not open. */
int listener_bound_port(const struct listener *l);

/* "NAME://HOST:PORT" with the bound address, e.g.
 * "PLAINTEXT://127.0.0.1:43121" or "INTERNAL://[::1]:9093"; the wildcard is
 * printed as the bound wildcard ("[::]" or "0.0.0.0").  Returns buf. */
char *listener_bound_address(const struct listener *l, char *buf, size_t len);

/* "127.0.0.1:43121" / "[::1]:9093" for any socket address (logs, peers).
 * Returns buf. */
char *net_sockaddr_str(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len);

/* Accept one connection as non-blocking, close-on-exec, TCP_NODELAY.
 * Returns the fd, or -1 with errno (EAGAIN when nothing is pending). */
int listener_accept(const struct listener *l, struct sockaddr_storage *peer, socklen_t *peerlen);

#endif
