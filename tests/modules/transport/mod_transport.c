/* Test transport for tests/unit/test_transport_abi.c.  module.mod_transport.mode
 * picks what init registers:
 *   valid      SSL only; a plain-socket transport whose handshake is the
 *              server writing "HELLO\n" and reading "OK\n", and whose
 *              principal is "User:<listener name>"
 *   plaintext  asks for PLAINTEXT (refused: built in)
 *   incomplete no accept (refused)
 *   small      struct_size below the 1.2 minimum (refused)
 *   nokind     registers without declaring SLUICE_KIND_TRANSPORT is not
 *              possible here, so: twice for SSL (second refused, EXISTS) */
#include <sluice/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tl {
    char name[64];
    int opened;
};

struct tc {
    int fd;
    int stage; /* 0: writing HELLO, 1: reading OK, 2: done */
    size_t off;
    char principal[80];
};

static int t_listener_open(void *state, const struct sluice_transport_listener *info, void **out,
                           char *err, size_t errlen)
{
    (void)state;
    if (strcmp(info->config_prefix, "listener.name.ssl.") != 0 && strcmp(info->name, "SSL") == 0) {
        snprintf(err, errlen, "unexpected prefix %s", info->config_prefix);
        return SLUICE_ERR_INVALID;
    }
    if (strcmp(info->name, "BROKEN") == 0) {
        snprintf(err, errlen, "ssl.keystore.location: test failure");
        return SLUICE_ERR_INVALID;
    }
    struct tl *l = calloc(1, sizeof *l);
    if (!l)
        return SLUICE_ERR_NOMEM;
    snprintf(l->name, sizeof l->name, "%s", info->name);
    *out = l;
    return 0;
}

static void t_listener_close(void *l) { free(l); }

static int t_accept(void *lp, int fd, const char *peer, void **out, char *err, size_t errlen)
{
    (void)peer;
    (void)err;
    (void)errlen;
    struct tl *l = lp;
    struct tc *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return SLUICE_ERR_NOMEM;
    }
    c->fd = fd;
    snprintf(c->principal, sizeof c->principal, "User:%s", l->name);
    *out = c;
    return 0;
}

static int t_handshake(void *cp, char *err, size_t errlen)
{
    struct tc *c = cp;
    static const char hello[] = "HELLO\n";
    while (c->stage == 0) {
        ssize_t n = send(c->fd, hello + c->off, sizeof hello - 1 - c->off, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN ? SLUICE_TRANSPORT_WANT_WRITE : SLUICE_ERR_GENERIC;
        c->off += (size_t)n;
        if (c->off == sizeof hello - 1) {
            c->stage = 1;
            c->off = 0;
        }
    }
    while (c->stage == 1) {
        char ch;
        ssize_t n = recv(c->fd, &ch, 1, 0);
        if (n < 0 && errno == EAGAIN)
            return SLUICE_TRANSPORT_WANT_READ;
        if (n <= 0) {
            snprintf(err, errlen, "peer went away during the handshake");
            return SLUICE_ERR_GENERIC;
        }
        if (ch != "OK\n"[c->off]) {
            snprintf(err, errlen, "bad handshake byte 0x%02x", (unsigned char)ch);
            return SLUICE_ERR_GENERIC;
        }
        if (++c->off == 3)
            c->stage = 2;
    }
    return SLUICE_TRANSPORT_DONE;
}

static ssize_t t_read(void *cp, void *buf, size_t len)
{
    struct tc *c = cp;
    return recv(c->fd, buf, len, 0);
}

static ssize_t t_writev(void *cp, const struct iovec *iov, int iovcnt)
{
    struct tc *c = cp;
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)iovcnt;
    return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
}

static ssize_t t_sendfile(void *cp, int in_fd, int64_t *off, size_t len)
{
    (void)cp;
    (void)in_fd;
    (void)off;
    (void)len;
    errno = EOPNOTSUPP; /* the host must fall back to pread + writev */
    return -1;
}

static int t_principal(void *cp, char *buf, size_t len)
{
    struct tc *c = cp;
    snprintf(buf, len, "%s", c->principal);
    return (int)strlen(buf);
}

static void t_close(void *cp)
{
    struct tc *c = cp;
    close(c->fd);
    free(c);
}

static const struct sluice_transport_ops ops = {
    .struct_size = sizeof(struct sluice_transport_ops),
    .name = "testport",
    .protocols = SLUICE_SECURITY_SSL,
    .listener_open = t_listener_open,
    .listener_close = t_listener_close,
    .accept = t_accept,
    .handshake = t_handshake,
    .read = t_read,
    .writev = t_writev,
    .sendfile = t_sendfile,
    .peer_principal = t_principal,
    .close = t_close,
};

static int t_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                  size_t errlen)
{
    (void)err;
    (void)errlen;
    const char *mode = host->config_get_string(ctx, "mode", "valid");
    struct sluice_transport_ops o = ops;
    if (!strcmp(mode, "plaintext"))
        o.protocols = SLUICE_SECURITY_PLAINTEXT;
    else if (!strcmp(mode, "incomplete"))
        o.accept = NULL;
    else if (!strcmp(mode, "small"))
        o.struct_size = offsetof(struct sluice_transport_ops, read);
    else if (!strcmp(mode, "twice"))
        host->register_transport(ctx, &o, NULL);
    return host->register_transport(ctx, &o, NULL);
}

SLUICE_MODULE_DECLARE("mod_transport", "1.0.0", SLUICE_KIND_TRANSPORT, t_init, NULL,
                      "test transport");
