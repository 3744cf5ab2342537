/* Kafka listeners parsing and listening sockets; see listener.h. */
#include "config.h"

#include "net/listener.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const security_names[LISTENER_NSECURITY] = {
    "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL",
};

const char *listener_security_name(enum listener_security p)
{
    if ((unsigned)p >= LISTENER_NSECURITY)
        return "UNKNOWN";
    return security_names[p];
}

int listener_security_from_name(const char *name)
{
    for (int i = 0; i < LISTENER_NSECURITY; i++)
        if (strcasecmp(name, security_names[i]) == 0)
            return i;
    return -1;
}

static void trim(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

static void upcopy(char *dst, size_t dstlen, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    if (n >= dstlen)
        n = dstlen - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)toupper((unsigned char)b[i]);
    dst[n] = 0;
}

struct map_entry {
    char name[LISTENER_NAME_MAX];
    int protocol;
};

/* Parse "NAME:PROTO,..." into a malloc'd array; NULL/"" gives the default
 * identity map (Kafka's default listener.security.protocol.map). */
static int parse_map(const char *map, struct map_entry **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    size_t cap = LISTENER_NSECURITY;
    if (map)
        for (const char *p = map; *p; p++)
            cap += *p == ',';
    struct map_entry *m = calloc(cap, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int explicit_map = 0;
    if (map) {
        const char *p = map;
        while (*p) {
            const char *e = strchr(p, ',');
            if (!e)
                e = p + strlen(p);
            const char *b = p, *end = e;
            trim(&b, &end);
            p = *e ? e + 1 : e;
            if (b == end)
                continue;
            explicit_map = 1;
            const char *colon = memchr(b, ':', (size_t)(end - b));
            if (!colon || colon == b || colon + 1 == end) {
                snprintf(err, errlen,
                         "invalid listener.security.protocol.map entry '%.*s' (want NAME:PROTOCOL)",
                         (int)(end - b), b);
                free(m);
                return -1;
            }
            const char *nb = b, *ne = colon, *pb = colon + 1, *pe = end;
            trim(&nb, &ne);
            trim(&pb, &pe);
            char proto[32];
            upcopy(proto, sizeof proto, pb, pe);
            int pr = listener_security_from_name(proto);
            if (pr < 0 || (size_t)(pe - pb) >= sizeof proto) {
                snprintf(err, errlen,
                         "unknown security protocol '%.*s' in listener.security.protocol.map "
                         "(known: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)",
                         (int)(pe - pb), pb);
                free(m);
                return -1;
            }
            char name[LISTENER_NAME_MAX];
            upcopy(name, sizeof name, nb, ne);
            for (size_t i = 0; i < *n; i++)
                if (strcmp(m[i].name, name) == 0) {
                    snprintf(err, errlen,
                             "listener name %s appears twice in listener.security.protocol.map",
                             name);
                    free(m);
                    return -1;
                }
            snprintf(m[*n].name, sizeof m[*n].name, "%s", name);
            m[*n].protocol = pr;
            (*n)++;
        }
    }
    if (!explicit_map) {
        for (int i = 0; i < LISTENER_NSECURITY; i++) {
            snprintf(m[i].name, sizeof m[i].name, "%s", security_names[i]);
            m[i].protocol = i;
        }
        *n = LISTENER_NSECURITY;
    }
    *out = m;
    return 0;
}

static int host_family(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, buf) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, host, buf) == 1)
        return AF_INET6;
    return AF_UNSPEC;
}

/* One "NAME://HOST:PORT" entry between b and e (already trimmed). */
static int parse_one(const char *b, const char *e, struct listener_spec *ls, char *err, size_t errlen)
{
    const char *sep = NULL;
    for (const char *p = b; p + 3 <= e; p++)
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            sep = p;
            break;
        }
    if (!sep || sep == b) {
        snprintf(err, errlen, "invalid listener '%.*s' (want NAME://HOST:PORT)", (int)(e - b), b);
        return -1;
    }
    if ((size_t)(sep - b) >= sizeof ls->name) {
        snprintf(err, errlen, "listener name too long in '%.*s'", (int)(e - b), b);
        return -1;
    }
    for (const char *p = b; p < sep; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') {
            snprintf(err, errlen, "invalid character in listener name '%.*s'", (int)(sep - b), b);
            return -1;
        }
    upcopy(ls->name, sizeof ls->name, b, sep);
    const char *h = sep + 3, *hend, *portp;
    if (h < e && *h == '[') {
        const char *close = memchr(h, ']', (size_t)(e - h));
        if (!close) {
            snprintf(err, errlen, "unbalanced '[' in listener '%.*s'", (int)(e - b), b);
            return -1;
        }
        if (close + 1 >= e || close[1] != ':') {
            snprintf(err, errlen, "missing port in listener '%.*s'", (int)(e - b), b);
            return -1;
        }
        hend = close;
        portp = close + 2;
        h++;
    } else {
        const char *colon = NULL;
        for (const char *p = e; p > h; p--)
            if (p[-1] == ':') {
                colon = p - 1;
                break;
            }
        if (!colon) {
            snprintf(err, errlen, "missing port in listener '%.*s'", (int)(e - b), b);
            return -1;
        }
        if (memchr(h, ':', (size_t)(colon - h))) {
            snprintf(err, errlen, "IPv6 address must be in brackets in listener '%.*s'",
                     (int)(e - b), b);
            return -1;
        }
        hend = colon;
        portp = colon + 1;
    }
    if ((size_t)(hend - h) >= sizeof ls->host) {
        snprintf(err, errlen, "host too long in listener '%.*s'", (int)(e - b), b);
        return -1;
    }
    memcpy(ls->host, h, (size_t)(hend - h));
    ls->host[hend - h] = 0;
    if (portp >= e) {
        snprintf(err, errlen, "missing port in listener '%.*s'", (int)(e - b), b);
        return -1;
    }
    long port = 0;
    for (const char *p = portp; p < e; p++) {
        if (!isdigit((unsigned char)*p) || port > 65535) {
            snprintf(err, errlen, "invalid port '%.*s' in listener '%.*s'", (int)(e - portp),
                     portp, (int)(e - b), b);
            return -1;
        }
        port = port * 10 + (*p - '0');
    }
    if (port > 65535) {
        snprintf(err, errlen, "port %ld out of range (0..65535) in listener '%.*s'", port,
                 (int)(e - b), b);
        return -1;
    }
    ls->port = (int)port;
    return 0;
}

int listener_parse(const char *spec, const char *protocol_map, struct listener_spec **out,
                   size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!spec) {
        snprintf(err, errlen, "listeners is empty");
        return -1;
    }
    struct map_entry *map;
    size_t nmap;
    if (parse_map(protocol_map, &map, &nmap, err, errlen) < 0)
        return -1;
    size_t cap = 1;
    for (const char *p = spec; *p; p++)
        cap += *p == ',';
    struct listener_spec *ls = calloc(cap, sizeof *ls);
    if (!ls) {
        free(map);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t cnt = 0;
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *b = p, *end = e;
        trim(&b, &end);
        if (b < end) {
            struct listener_spec *l = &ls[cnt];
            if (parse_one(b, end, l, err, errlen) < 0)
                goto fail;
            size_t i;
            for (i = 0; i < nmap; i++)
                if (strcmp(map[i].name, l->name) == 0)
                    break;
            if (i == nmap) {
                snprintf(err, errlen,
                         "no security protocol defined for listener %s "
                         "(add it to listener.security.protocol.map)",
                         l->name);
                goto fail;
            }
            l->protocol = (enum listener_security)map[i].protocol;
            for (size_t j = 0; j < cnt; j++) {
                if (strcmp(ls[j].name, l->name) == 0) {
                    snprintf(err, errlen, "listener name %s is used more than once", l->name);
                    goto fail;
                }
                /* Kafka (KIP-797): a port may only be shared by one IPv4
                 * and one IPv6 listener. */
                if (l->port != 0 && ls[j].port == l->port) {
                    int f1 = host_family(ls[j].host), f2 = host_family(l->host);
                    if (f1 == AF_UNSPEC || f2 == AF_UNSPEC || f1 == f2) {
                        snprintf(err, errlen, "listeners %s and %s both use port %d", ls[j].name,
                                 l->name, l->port);
                        goto fail;
                    }
                }
            }
            cnt++;
        }
        if (!*e)
            break;
        p = e + 1;
    }
    free(map);
    if (cnt == 0) {
        free(ls);
        snprintf(err, errlen, "listeners is empty");
        return -1;
    }
    *out = ls;
    *n = cnt;
    return 0;
fail:
    free(map);
    free(ls);
    return -1;
}

/* ---- sockets ---------------------------------------------------------- */

char *net_sockaddr_str(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];
    (void)salen;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        /* Show v4-mapped peers of a dual-stack wildcard as plain IPv4. */
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof host);
            snprintf(buf, len, "%s:%u", host, ntohs(s6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
            snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
        }
    } else {
        snprintf(buf, len, "unknown");
    }
    return buf;
}

static int bind_listen(struct listener *l, const struct sockaddr *sa, socklen_t salen, int backlog,
                       int v6only_off)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    /* Restarting the broker must not wait for TIME_WAIT sockets. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6 && v6only_off)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    else if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, sa, salen) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    l->addrlen = sizeof l->addr;
    if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addrlen) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    l->fd = fd;
    return 0;
}

int listener_open(struct listener *l, const struct listener_spec *spec, int backlog, char *err,
                  size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->spec = *spec;
    l->fd = -1;
    if (backlog <= 0)
        backlog = 1024;
    char what[LISTENER_NAME_MAX + LISTENER_HOST_MAX + 16];
    if (strchr(spec->host, ':'))
        snprintf(what, sizeof what, "%s://[%s]:%d", spec->name, spec->host, spec->port);
    else
        snprintf(what, sizeof what, "%s://%s:%d", spec->name, spec->host, spec->port);

    if (spec->host[0] == 0) {
        struct sockaddr_in6 s6;
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        s6.sin6_addr = in6addr_any;
        s6.sin6_port = htons((uint16_t)spec->port);
        if (bind_listen(l, (struct sockaddr *)&s6, sizeof s6, backlog, 1) == 0)
            return 0;
        /* No IPv6 on this host: the IPv4 wildcard still serves everyone. */
        if (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL) {
            snprintf(err, errlen, "cannot bind %s: %s", what, strerror(errno));
            return -1;
        }
        struct sockaddr_in s4;
        memset(&s4, 0, sizeof s4);
        s4.sin_family = AF_INET;
        s4.sin_addr.s_addr = htonl(INADDR_ANY);
        s4.sin_port = htons((uint16_t)spec->port);
        if (bind_listen(l, (struct sockaddr *)&s4, sizeof s4, backlog, 0) == 0)
            return 0;
        snprintf(err, errlen, "cannot bind %s: %s", what, strerror(errno));
        return -1;
    }

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", spec->port);
    int rc = getaddrinfo(spec->host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", what, gai_strerror(rc));
        return -1;
    }
    int saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (bind_listen(l, ai->ai_addr, ai->ai_addrlen, backlog, 0) == 0) {
            freeaddrinfo(res);
            return 0;
        }
        saved = errno;
    }
    freeaddrinfo(res);
    snprintf(err, errlen, "cannot bind %s: %s", what, strerror(saved));
    return -1;
}

void listener_close(struct listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

int listener_bound_port(const struct listener *l)
{
    if (l->fd < 0)
        return -1;
    if (l->addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
    if (l->addr.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
    return -1;
}

char *listener_bound_address(const struct listener *l, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN + 16];
    if (l->fd < 0)
        snprintf(a, sizeof a, "closed");
    else
        net_sockaddr_str((const struct sockaddr *)&l->addr, l->addrlen, a, sizeof a);
    snprintf(buf, len, "%s://%s", l->spec.name, a);
    return buf;
}

int listener_accept(const struct listener *l, struct sockaddr_storage *peer, socklen_t *peerlen)
{
    *peerlen = sizeof *peer;
    int fd = accept4(l->fd, (struct sockaddr *)peer, peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Kafka responses are latency-sensitive small writes; never Nagle them. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}
