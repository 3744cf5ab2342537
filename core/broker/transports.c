/* Module transports bound to listeners; see transports.h. */
#include "broker/transports.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/module_loader.h"
#include "util/logger.h"

/* One listener served by a module transport. */
struct bound_listener {
    char name[LISTENER_NAME_MAX];
    const struct module_transport *mt;
    void *lstate; /* from ops.listener_open */
};

struct broker_transports {
    struct bound_listener *v;
    size_t n;
    struct sluice_logger *log;
};

/* Per-connection glue: the module's ops and its connection state. */
struct tconn {
    const struct sluice_transport_ops *ops;
    void *conn;
};

static ssize_t t_read(void *ctx, void *buf, size_t len)
{
    struct tconn *t = ctx;
    return t->ops->read(t->conn, buf, len);
}

static ssize_t t_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
    struct tconn *t = ctx;
    return t->ops->writev(t->conn, iov, iovcnt);
}

static ssize_t t_sendfile(void *ctx, int in_fd, off_t *off, size_t len)
{
    struct tconn *t = ctx;
    if (!t->ops->sendfile) {
        errno = EOPNOTSUPP;
        return -1;
    }
    int64_t o = (int64_t)*off;
    ssize_t n = t->ops->sendfile(t->conn, in_fd, &o, len);
    *off = (off_t)o;
    return n;
}

static void t_close(void *ctx)
{
    struct tconn *t = ctx;
    t->ops->close(t->conn);
    free(t);
}

static int t_handshake(void *ctx, char *err, size_t errlen)
{
    struct tconn *t = ctx;
    if (!t->ops->handshake)
        return 0;
    int r = t->ops->handshake(t->conn, err, errlen);
    return r < 0 ? -1 : (r & (NET_WANT_READ | NET_WANT_WRITE));
}

static size_t t_pending(void *ctx)
{
    struct tconn *t = ctx;
    return t->ops->pending ? t->ops->pending(t->conn) : 0;
}

static int t_want(void *ctx)
{
    struct tconn *t = ctx;
    return t->ops->want ? t->ops->want(t->conn) : 0;
}

static int t_principal(void *ctx, char *buf, size_t len)
{
    struct tconn *t = ctx;
    return t->ops->peer_principal ? t->ops->peer_principal(t->conn, buf, len) : 0;
}

static const struct net_transport_ops glue_ops = {
    .read = t_read,
    .writev = t_writev,
    .sendfile = t_sendfile,
    .close = t_close,
    .handshake = t_handshake,
    .pending = t_pending,
    .want = t_want,
    .principal = t_principal,
};

static int glue_factory(void *fud, int fd, const struct listener_spec *ls, const char *peer,
                        const struct net_transport_ops **ops, void **ctx, char *err,
                        size_t errlen)
{
    struct broker_transports *bt = fud;
    const struct bound_listener *bl = NULL;
    for (size_t i = 0; i < bt->n && !bl; i++)
        if (strcmp(bt->v[i].name, ls->name) == 0)
            bl = &bt->v[i];
    struct tconn *t = bl ? malloc(sizeof *t) : NULL;
    if (!t) {
        close(fd);
        snprintf(err, errlen, bl ? "out of memory" : "no transport for this listener");
        return -1;
    }
    t->ops = &bl->mt->ops;
    if (t->ops->accept(bl->lstate, fd, peer, &t->conn, err, errlen) < 0) {
        free(t);
        return -1;
    }
    *ops = &glue_ops;
    *ctx = t;
    return 0;
}

static const char *needed(enum listener_security p)
{
    return p == LISTENER_SASL_SSL ? "a TLS transport module (and SASL)" : "a TLS transport module";
}

struct broker_transports *broker_transports_open(struct module_registry *reg,
                                                 struct net_server *net,
                                                 const struct listener_spec *specs, size_t n,
                                                 struct sluice_logger *log, char *err,
                                                 size_t errlen)
{
    struct broker_transports *bt = calloc(1, sizeof *bt);
    if (!bt || (n && !(bt->v = calloc(n, sizeof *bt->v)))) {
        free(bt);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bt->log = log;
    for (size_t i = 0; i < n; i++) {
        const struct listener_spec *ls = &specs[i];
        if (ls->protocol == LISTENER_PLAINTEXT || ls->protocol == LISTENER_SASL_PLAINTEXT)
            continue;
        const struct module_transport *mt = reg ? module_registry_transport(reg, ls->protocol) : NULL;
        if (!mt) {
            snprintf(err, errlen,
                     "listener %s uses security protocol %s, which needs %s; none is loaded "
                     "(add transport_tls to module.load); this broker serves PLAINTEXT only",
                     ls->name, listener_security_name(ls->protocol), needed(ls->protocol));
            goto fail;
        }
        char prefix[LISTENER_NAME_MAX + 32];
        int w = snprintf(prefix, sizeof prefix, "listener.name.");
        for (const char *c = ls->name; *c && (size_t)w < sizeof prefix - 2; c++)
            prefix[w++] = (char)tolower((unsigned char)*c);
        prefix[w++] = '.';
        prefix[w] = '\0';
        struct sluice_transport_listener info = {
            .struct_size = sizeof info,
            .name = ls->name,
            .config_prefix = prefix,
            .protocol = 1u << ls->protocol,
        };
        struct bound_listener *bl = &bt->v[bt->n];
        snprintf(bl->name, sizeof bl->name, "%s", ls->name);
        bl->mt = mt;
        char e[512] = "";
        if (mt->ops.listener_open(mt->state, &info, &bl->lstate, e, sizeof e) < 0) {
            snprintf(err, errlen, "listener %s (%s): %s", ls->name,
                     listener_security_name(ls->protocol), e[0] ? e : "transport failed to open");
            goto fail;
        }
        bt->n++;
        net_server_set_transport(net, ls->protocol, glue_factory, bt);
    }
    return bt;
fail:
    broker_transports_free(bt);
    return NULL;
}

int broker_transports_reload(struct broker_transports *bt)
{
    int failed = 0;
    for (size_t i = 0; bt && i < bt->n; i++) {
        const struct bound_listener *bl = &bt->v[i];
        if (!bl->mt->ops.listener_reload)
            continue;
        char e[512] = "";
        if (bl->mt->ops.listener_reload(bl->lstate, e, sizeof e) < 0) {
            failed++;
            slog(bt->log, SLOG_ERROR, "broker",
                 "listener %s: certificate reload failed, keeping the old ones: %s", bl->name, e);
        } else {
            slog(bt->log, SLOG_INFO, "broker", "listener %s: certificates reloaded", bl->name);
        }
    }
    return failed;
}

void broker_transports_free(struct broker_transports *bt)
{
    if (!bt)
        return;
    for (size_t i = 0; i < bt->n; i++)
        if (bt->v[i].mt->ops.listener_close)
            bt->v[i].mt->ops.listener_close(bt->v[i].lstate);
    free(bt->v);
    free(bt);
}
