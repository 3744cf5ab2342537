/* The libev network core; see connection.h for the contract. */
#include "config.h"

#include "net/connection.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_RBUF_SIZE (64 * 1024)
#define NET_IOV_MAX 64
#define NET_ACCEPT_BATCH 64
#define NET_READS_PER_EVENT 16  /* fairness: let other connections run */
#define NET_FALLBACK_CHUNK (64 * 1024)
#define NET_WRITE_BUDGET (4u << 20) /* bytes per connection per loop pass */

enum { REQ_PENDING = 0, REQ_DONE = 1, REQ_NONE = 2 };

/* One piece of a response: memory (fd < 0) or a dup()ed file range. */
struct net_part {
    const uint8_t *mem;
    uint8_t *owned; /* freed with the request (pread fallback copies) */
    int fd;
    off_t off;
    size_t len;
};

struct net_lsn {
    struct listener l;
    ev_io w;
    struct net_server *s;
};

struct net_conn {
    struct net_server *s;
    struct net_conn *prev, *next; /* server's open list */
    struct net_conn *reap_next;
    uint64_t id;
    const struct net_transport_ops *ops;
    void *tctx;
    ev_io rw, ww;
    ev_timer idle;
    ev_tstamp last_active;
    char peer[72]; /* "[v6 address]:port" */
    struct listener_spec lspec; /* copy: listeners may close before conns */
    void *ud;
    int closed, paused, in_read;
    int handshaking;     /* transport handshake not finished */
    int rd_wants_write;  /* a read got EAGAIN waiting for writability (TLS) */
    int wr_wants_read;   /* a write got EAGAIN waiting for readability (TLS) */
    int no_sendfile;     /* the transport cannot sendfile on this connection */
    int close_after_flush; /* net_conn_close_after_flush: reading stopped */

    uint8_t *rbuf;
    size_t rlen;
    struct net_request *partial; /* large request being read in place */
    size_t partial_got, partial_cap;

    struct net_request *qhead, *qtail; /* in request order */
    unsigned inflight;
    size_t queued_bytes;
    uint64_t next_seq;
};

struct net_server {
    struct ev_loop *loop;
    struct net_limits lim;
    struct net_callbacks cb;
    void *ud;
    struct sluice_logger *log;
    struct {
        net_transport_factory_fn fn;
        void *ud;
    } tf[LISTENER_NSECURITY];
    struct net_lsn **lsn;
    size_t nlsn;
    int accepting;
    struct net_conn *conns;
    struct net_conn *reap;
    ev_prepare reaper;
    ev_timer accept_retry;
    uint64_t next_id;
    uint8_t *scratch; /* sendfile fallback buffer */
    struct net_stats st;
};

#define NLOG(s, lvl, ...) slog((s)->log, (lvl), "net", __VA_ARGS__)

/* ---- plain TCP transport --------------------------------------------- */

static int tcp_fd(void *ctx) { return (int)(intptr_t)ctx; }

static ssize_t tcp_read(void *ctx, void *buf, size_t len)
{
    return recv(tcp_fd(ctx), buf, len, 0);
}

static ssize_t tcp_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
    /* sendmsg rather than writev: MSG_NOSIGNAL spares us SIGPIPE from a peer
     * that went away. */
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)iovcnt;
    return sendmsg(tcp_fd(ctx), &mh, MSG_NOSIGNAL);
}

static ssize_t tcp_sendfile(void *ctx, int in_fd, off_t *off, size_t len)
{
    return sendfile(tcp_fd(ctx), in_fd, off, len);
}

static void tcp_close(void *ctx) { close(tcp_fd(ctx)); }

static const struct net_transport_ops tcp_ops = {
    .read = tcp_read,
    .writev = tcp_writev,
    .sendfile = tcp_sendfile,
    .close = tcp_close,
};

static int tcp_factory(void *fud, int fd, const struct listener_spec *ls, const char *peer,
                       const struct net_transport_ops **ops, void **ctx, char *err, size_t errlen)
{
    (void)fud;
    (void)ls;
    (void)peer;
    (void)err;
    (void)errlen;
    *ops = &tcp_ops;
    *ctx = (void *)(intptr_t)fd;
    return 0;
}

/* ---- limits ----------------------------------------------------------- */

void net_limits_default(struct net_limits *l)
{
    l->request_max_bytes = 104857600;
    l->max_queued_bytes = 4u << 20;
    l->max_inflight = 64;
    l->idle_ms = 600000;
    l->backlog = 1024;
}

/* ---- requests --------------------------------------------------------- */

static void request_free(struct net_request *r)
{
    for (size_t i = 0; i < r->nparts; i++) {
        if (r->parts[i].fd >= 0)
            close(r->parts[i].fd);
        free(r->parts[i].owned);
    }
    free(r->parts);
    free(r->resp_buf);
    free(r->data);
    free(r);
}

struct net_conn *net_request_conn(const struct net_request *req) { return req->conn; }

uint8_t *net_request_steal_data(struct net_request *req)
{
    uint8_t *d = req->data;
    req->data = NULL;
    return d;
}

static void conn_flush(struct net_conn *c);
static void conn_update_reading(struct net_conn *c);

/* Build the part list of a response; returns 0 or -1 (out of memory or
 * unreadable span). */
static int build_parts(struct net_request *req, struct wire_writer *w, char *err, size_t errlen)
{
    size_t maxp = 2 + 2 * w->nspans;
    struct net_part *p = calloc(maxp, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0, cursor = 0;
    req->parts = p;
    p[n++] = (struct net_part){ .mem = req->prefix, .fd = -1, .len = 4 };
    for (size_t i = 0; i < w->nspans; i++) {
        const struct wire_filespan *sp = &w->spans[i];
        if (sp->len == 0)
            continue;
        if (sp->at < cursor || sp->at > w->len) {
            req->nparts = n;
            snprintf(err, errlen, "file span %zu out of order", i);
            return -1;
        }
        if (sp->at > cursor)
            p[n++] = (struct net_part){ .mem = req->resp_buf + cursor, .fd = -1, .len = sp->at - cursor };
        cursor = sp->at;
        int fd = fcntl(sp->fd, F_DUPFD_CLOEXEC, 0);
        if (fd >= 0) {
            p[n++] = (struct net_part){ .fd = fd, .off = sp->off, .len = sp->len };
        } else {
            /* Out of descriptors: copy the range now so the response still
             * goes out complete. */
            uint8_t *copy = malloc(sp->len ? sp->len : 1);
            size_t got = 0;
            while (copy && got < sp->len) {
                ssize_t r = pread(sp->fd, copy + got, sp->len - got, sp->off + (off_t)got);
                if (r <= 0) {
                    if (r < 0 && errno == EINTR)
                        continue;
                    break;
                }
                got += (size_t)r;
            }
            if (!copy || got < sp->len) {
                free(copy);
                req->nparts = n;
                snprintf(err, errlen, "cannot read file span (fd %d, offset %lld, %zu bytes)",
                         sp->fd, (long long)sp->off, sp->len);
                return -1;
            }
            p[n++] = (struct net_part){ .mem = copy, .owned = copy, .fd = -1, .len = sp->len };
        }
    }
    if (w->len > cursor)
        p[n++] = (struct net_part){ .mem = req->resp_buf + cursor, .fd = -1, .len = w->len - cursor };
    req->nparts = n;
    return 0;
}

void net_respond(struct net_request *req, struct wire_writer *w)
{
    struct net_conn *c = req->conn;
    if (!c) { /* orphaned: the connection closed meanwhile */
        wire_writer_free(w);
        wire_writer_init(w);
        request_free(req);
        return;
    }
    struct net_server *s = c->s;
    free(req->data);
    req->data = NULL;
    req->len = 0;
    char err[160];
    size_t total = wire_writer_total(w);
    int bad = 0;
    if (w->err) {
        snprintf(err, sizeof err, "response writer error %d", w->err);
        bad = 1;
    } else if (total > INT32_MAX) {
        snprintf(err, sizeof err, "response of %zu bytes is too large", total);
        bad = 1;
    } else {
        req->prefix[0] = (uint8_t)(total >> 24);
        req->prefix[1] = (uint8_t)(total >> 16);
        req->prefix[2] = (uint8_t)(total >> 8);
        req->prefix[3] = (uint8_t)total;
        req->resp_buf = w->buf; /* parts point into it */
        w->buf = NULL;
        if (build_parts(req, w, err, sizeof err) < 0)
            bad = 1;
    }
    wire_writer_free(w);
    wire_writer_init(w);
    if (bad) {
        /* A Kafka client matches responses by position; a missing one would
         * desynchronise it, so drop the connection instead. */
        NLOG(s, SLOG_ERROR, "closing connection %s (id %llu): cannot send response: %s",
             c->peer, (unsigned long long)c->id, err);
        req->state = REQ_NONE;
        net_conn_close(c);
        return;
    }
    req->state = REQ_DONE;
    req->part = 0;
    req->part_off = 0;
    req->resp_total = total + 4;
    c->queued_bytes += req->resp_total;
    if (!c->in_read)
        conn_flush(c);
}

void net_respond_none(struct net_request *req)
{
    struct net_conn *c = req->conn;
    if (!c) {
        request_free(req);
        return;
    }
    free(req->data);
    req->data = NULL;
    req->len = 0;
    req->state = REQ_NONE;
    if (!c->closed && !c->in_read)
        conn_flush(c);
}

/* ---- connections ------------------------------------------------------ */

void net_conn_set_ud(struct net_conn *c, void *ud) { c->ud = ud; }
void *net_conn_get_ud(const struct net_conn *c) { return c->ud; }
uint64_t net_conn_id(const struct net_conn *c) { return c->id; }
const char *net_conn_peer(const struct net_conn *c) { return c->peer; }
const struct listener_spec *net_conn_listener(const struct net_conn *c) { return &c->lspec; }
struct net_server *net_conn_server(const struct net_conn *c) { return c->s; }
unsigned net_conn_inflight(const struct net_conn *c) { return c->inflight; }
size_t net_conn_queued_bytes(const struct net_conn *c) { return c->queued_bytes; }
int net_conn_read_paused(const struct net_conn *c) { return c->paused; }
int net_conn_handshaking(const struct net_conn *c) { return c->handshaking; }

int net_conn_principal(const struct net_conn *c, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    if (c->closed || c->handshaking || !c->ops->principal)
        return 0;
    return c->ops->principal(c->tctx, buf, len);
}

static void conn_touch(struct net_conn *c) { c->last_active = ev_now(c->s->loop); }

static void reaper_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)revents;
    struct net_server *s = w->data;
    while (s->reap) {
        struct net_conn *c = s->reap;
        s->reap = c->reap_next;
        s->st.closed++;
        if (s->cb.on_close)
            s->cb.on_close(s->ud, c);
        free(c);
    }
    ev_prepare_stop(loop, w);
}

void net_conn_close(struct net_conn *c)
{
    if (c->closed)
        return;
    struct net_server *s = c->s;
    c->closed = 1;
    ev_io_stop(s->loop, &c->rw);
    ev_io_stop(s->loop, &c->ww);
    ev_timer_stop(s->loop, &c->idle);
    if (c->partial) {
        request_free(c->partial);
        c->partial = NULL;
    }
    free(c->rbuf);
    c->rbuf = NULL;
    struct net_request *r = c->qhead;
    while (r) {
        struct net_request *next = r->next;
        if (r->state == REQ_PENDING) {
            r->conn = NULL; /* the handler still holds it */
            r->next = NULL;
        } else {
            request_free(r);
        }
        r = next;
    }
    c->qhead = c->qtail = NULL;
    c->inflight = 0;
    c->queued_bytes = 0;
    c->ops->close(c->tctx);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->st.open--;
    NLOG(s, SLOG_DEBUG, "connection %s (id %llu) closed", c->peer, (unsigned long long)c->id);
    /* on_close runs from the loop so callers (handlers, net_respond) never
     * see the connection vanish under them. */
    c->reap_next = s->reap;
    s->reap = c;
    if (!ev_is_active(&s->reaper))
        ev_prepare_start(s->loop, &s->reaper);
}

static void conn_update_reading(struct net_conn *c)
{
    if (c->closed || c->close_after_flush)
        return;
    struct net_server *s = c->s;
    if (!c->paused) {
        if (c->inflight >= s->lim.max_inflight || c->queued_bytes > s->lim.max_queued_bytes) {
            c->paused = 1;
            ev_io_stop(s->loop, &c->rw);
            s->st.read_pauses++;
        }
    } else if (c->inflight < s->lim.max_inflight &&
               c->queued_bytes <= s->lim.max_queued_bytes / 2) {
        c->paused = 0;
        ev_io_start(s->loop, &c->rw);
        /* Whole requests may already sit in rbuf (or in a TLS layer's buffer)
         * where epoll cannot see them. */
        if (!c->in_read)
            ev_feed_event(s->loop, &c->rw, EV_READ);
    }
}

static void dispatch(struct net_conn *c, struct net_request *req)
{
    struct net_server *s = c->s;
    req->conn = c;
    req->seq = c->next_seq++;
    req->state = REQ_PENDING;
    if (c->qtail)
        c->qtail->next = req;
    else
        c->qhead = req;
    c->qtail = req;
    c->inflight++;
    s->st.requests++;
    s->cb.on_request(s->ud, c, req);
    conn_update_reading(c);
}

/* cap < len only for large requests still arriving: the buffer grows as
 * bytes come in, so a peer announcing 100 MB and sending nothing costs
 * little. */
static struct net_request *request_new(size_t len, size_t cap)
{
    struct net_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->data = malloc(cap ? cap : 1);
    if (!r->data) {
        free(r);
        return NULL;
    }
    r->len = len;
    return r;
}

/* Hand out every complete request in rbuf (while not paused). */
static void conn_parse(struct net_conn *c)
{
    struct net_server *s = c->s;
    size_t pos = 0;
    while (!c->closed && !c->paused && c->rlen - pos >= 4) {
        const uint8_t *b = c->rbuf + pos;
        int32_t size = (int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
                                 ((uint32_t)b[2] << 8) | b[3]);
        if (size < 0 || (size_t)size > s->lim.request_max_bytes) {
            NLOG(s, SLOG_WARN,
                 "closing connection %s (id %llu): request size %d is invalid or larger than "
                 "socket.request.max.bytes (%zu)",
                 c->peer, (unsigned long long)c->id, size, s->lim.request_max_bytes);
            s->st.frame_errors++;
            net_conn_close(c);
            return;
        }
        size_t avail = c->rlen - pos - 4, need = (size_t)size;
        if (avail < need && 4 + need <= NET_RBUF_SIZE)
            break; /* small request: wait for the rest in rbuf */
        size_t cap = need;
        if (avail < need) {
            cap = avail > NET_RBUF_SIZE ? avail : NET_RBUF_SIZE;
            if (cap > need)
                cap = need;
        }
        struct net_request *req = request_new(need, cap);
        if (!req) {
            NLOG(s, SLOG_ERROR, "closing connection %s: out of memory for a %zu-byte request",
                 c->peer, need);
            net_conn_close(c);
            return;
        }
        if (avail >= need) {
            memcpy(req->data, b + 4, need);
            pos += 4 + need;
            dispatch(c, req);
        } else {
            /* Large request: read the rest straight into its buffer. */
            memcpy(req->data, b + 4, avail);
            c->partial = req;
            c->partial_got = avail;
            c->partial_cap = cap;
            pos = c->rlen;
            break;
        }
    }
    if (c->closed)
        return;
    if (pos) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
    }
}

static void conn_readable(struct net_conn *c)
{
    struct net_server *s = c->s;
    c->in_read++;
    for (int i = 0; i < NET_READS_PER_EVENT && !c->closed && !c->paused; i++) {
        if (!c->partial) {
            conn_parse(c);
            if (c->closed || c->paused || c->partial)
                continue;
        }
        void *dst;
        size_t room;
        if (c->partial) {
            if (c->partial_got == c->partial_cap) {
                size_t ncap = c->partial_cap * 2;
                if (ncap > c->partial->len)
                    ncap = c->partial->len;
                uint8_t *nd = realloc(c->partial->data, ncap);
                if (!nd) {
                    NLOG(s, SLOG_ERROR, "closing connection %s: out of memory for a %zu-byte request",
                         c->peer, c->partial->len);
                    net_conn_close(c);
                    break;
                }
                c->partial->data = nd;
                c->partial_cap = ncap;
            }
            dst = c->partial->data + c->partial_got;
            room = c->partial_cap - c->partial_got;
        } else {
            dst = c->rbuf + c->rlen;
            room = NET_RBUF_SIZE - c->rlen;
        }
        ssize_t n = c->ops->read(c->tctx, dst, room);
        if (n > 0) {
            s->st.bytes_in += (uint64_t)n;
            conn_touch(c);
            if (c->partial) {
                c->partial_got += (size_t)n;
                if (c->partial_got == c->partial->len) {
                    struct net_request *req = c->partial;
                    c->partial = NULL;
                    dispatch(c, req);
                }
            } else {
                c->rlen += (size_t)n;
            }
            continue;
        }
        if (n == 0) {
            NLOG(s, SLOG_DEBUG, "connection %s (id %llu): peer closed", c->peer,
                 (unsigned long long)c->id);
            net_conn_close(c);
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* TLS may need to write (a key update) before it can read on. */
            if (c->ops->want && (c->ops->want(c->tctx) & NET_WANT_WRITE)) {
                c->rd_wants_write = 1;
                ev_io_start(s->loop, &c->ww);
            }
            break;
        }
        NLOG(s, SLOG_DEBUG, "connection %s (id %llu): read: %s", c->peer,
             (unsigned long long)c->id, strerror(errno));
        net_conn_close(c);
        break;
    }
    /* Requests answered synchronously while reading go out in one batch. */
    if (!c->closed && !c->paused && !c->partial)
        conn_parse(c);
    c->in_read--;
    if (!c->closed)
        conn_flush(c);
    /* Bytes a TLS layer decrypted ahead are invisible to epoll: come back
     * for them on the next loop pass (fairness cut the loop above short). */
    if (!c->closed && !c->paused && c->ops->pending && c->ops->pending(c->tctx) > 0)
        ev_feed_event(s->loop, &c->rw, EV_READ);
}

static void conn_handshake(struct net_conn *c);

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    struct net_conn *c = w->data;
    if (c->handshaking) {
        conn_handshake(c);
        return;
    }
    if (c->wr_wants_read) {
        c->wr_wants_read = 0;
        conn_flush(c);
        if (c->closed)
            return;
    }
    if (c->paused) {
        /* Started only for a write that waited on readability. */
        if (!c->wr_wants_read)
            ev_io_stop(loop, &c->rw);
        return;
    }
    conn_readable(c);
}

/* Drop finished entries at the head of the queue. */
static void pop_finished(struct net_conn *c)
{
    while (c->qhead && (c->qhead->state == REQ_NONE ||
                        (c->qhead->state == REQ_DONE && c->qhead->part == c->qhead->nparts))) {
        struct net_request *r = c->qhead;
        c->qhead = r->next;
        if (!c->qhead)
            c->qtail = NULL;
        c->inflight--;
        if (r->state == REQ_DONE)
            c->s->st.responses++;
        request_free(r);
    }
}

/* Account n written bytes against the parts from the head onwards. */
static void advance(struct net_conn *c, size_t n)
{
    c->queued_bytes -= n;
    c->s->st.bytes_out += n;
    for (struct net_request *r = c->qhead; r && n; r = r->next) {
        while (n && r->part < r->nparts) {
            struct net_part *p = &r->parts[r->part];
            size_t left = p->len - r->part_off;
            if (n < left) {
                r->part_off += n;
                return;
            }
            n -= left;
            if (p->fd >= 0) {
                close(p->fd);
                p->fd = -1;
            }
            r->part++;
            r->part_off = 0;
        }
    }
}

static ssize_t send_file_part(struct net_conn *c, struct net_part *p, size_t part_off)
{
    size_t left = p->len - part_off;
    off_t off = p->off + (off_t)part_off;
    if (c->ops->sendfile && !c->no_sendfile) {
        if (left > 0x7ffff000)
            left = 0x7ffff000;
        ssize_t n = c->ops->sendfile(c->tctx, p->fd, &off, left);
        if (n >= 0 || errno != EOPNOTSUPP)
            return n;
        /* e.g. TLS without kernel offload: copy through user space. */
        c->no_sendfile = 1;
        left = p->len - part_off;
    }
    struct net_server *s = c->s;
    if (!s->scratch && !(s->scratch = malloc(NET_FALLBACK_CHUNK))) {
        errno = ENOMEM;
        return -1;
    }
    if (left > NET_FALLBACK_CHUNK)
        left = NET_FALLBACK_CHUNK;
    ssize_t r;
    do
        r = pread(p->fd, s->scratch, left, off);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r;
    struct iovec iov = { s->scratch, (size_t)r };
    return c->ops->writev(c->tctx, &iov, 1);
}

static void conn_flush(struct net_conn *c)
{
    struct net_server *s = c->s;
    size_t budget = NET_WRITE_BUDGET;
    while (!c->closed) {
        if (budget == 0) {
            /* Fairness: a fast reader of a huge response must not keep the
             * loop from other connections; continue on the next EV_WRITE. */
            pop_finished(c);
            if (c->qhead && c->qhead->state == REQ_DONE) {
                ev_io_start(s->loop, &c->ww);
                conn_update_reading(c);
                return;
            }
            break;
        }
        pop_finished(c);
        struct net_request *h = c->qhead;
        if (!h || h->state != REQ_DONE)
            break;
        ssize_t n;
        struct net_part *p = &h->parts[h->part];
        if (p->fd >= 0) {
            n = send_file_part(c, p, h->part_off);
            if (n == 0) {
                /* The file shrank under us (segment truncated): the size
                 * prefix already promised more bytes. */
                NLOG(s, SLOG_ERROR,
                     "closing connection %s (id %llu): file span ended early (%zu bytes short)",
                     c->peer, (unsigned long long)c->id, p->len - h->part_off);
                net_conn_close(c);
                return;
            }
        } else {
            struct iovec iov[NET_IOV_MAX];
            int cnt = 0;
            for (struct net_request *r = h; r && r->state != REQ_PENDING && cnt < NET_IOV_MAX;
                 r = r->next) {
                if (r->state == REQ_NONE)
                    continue;
                size_t i = r->part, off = r->part_off;
                for (; i < r->nparts && cnt < NET_IOV_MAX; i++, off = 0) {
                    if (r->parts[i].fd >= 0)
                        goto gathered;
                    iov[cnt].iov_base = (void *)(r->parts[i].mem + off);
                    iov[cnt].iov_len = r->parts[i].len - off;
                    cnt++;
                }
            }
        gathered:
            n = c->ops->writev(c->tctx, iov, cnt);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int want = c->ops->want ? c->ops->want(c->tctx) : NET_WANT_WRITE;
                conn_update_reading(c);
                if (want & NET_WANT_READ) {
                    /* TLS renegotiation/key update: the write waits on a read. */
                    c->wr_wants_read = 1;
                    ev_io_start(s->loop, &c->rw);
                }
                if ((want & NET_WANT_WRITE) || !want)
                    ev_io_start(s->loop, &c->ww);
                return;
            }
            NLOG(s, SLOG_DEBUG, "connection %s (id %llu): write: %s", c->peer,
                 (unsigned long long)c->id, strerror(errno));
            net_conn_close(c);
            return;
        }
        conn_touch(c);
        advance(c, (size_t)n);
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
    }
    if (c->closed)
        return;
    if (!c->rd_wants_write)
        ev_io_stop(s->loop, &c->ww);
    if (c->close_after_flush && !c->qhead) {
        net_conn_close(c);
        return;
    }
    conn_update_reading(c);
}

void net_conn_close_after_flush(struct net_conn *c)
{
    if (c->closed || c->close_after_flush)
        return;
    c->close_after_flush = 1;
    ev_io_stop(c->s->loop, &c->rw);
    pop_finished(c);
    if (!c->qhead)
        net_conn_close(c);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct net_conn *c = w->data;
    if (c->handshaking) {
        conn_handshake(c);
        return;
    }
    if (c->rd_wants_write) {
        c->rd_wants_write = 0;
        if (!c->paused)
            conn_readable(c);
        if (c->closed)
            return;
    }
    conn_flush(c);
}

/* One step of the transport's handshake; on completion normal reading
 * starts (with whatever the transport already buffered). */
static void conn_handshake(struct net_conn *c)
{
    struct net_server *s = c->s;
    char err[256] = "";
    int r = c->ops->handshake(c->tctx, err, sizeof err);
    if (r < 0) {
        /* Kafka logs failed SSL handshakes at INFO with the peer. */
        NLOG(s, SLOG_INFO, "connection %s (id %llu) on %s: handshake failed: %s", c->peer,
             (unsigned long long)c->id, c->lspec.name, err[0] ? err : "unknown error");
        net_conn_close(c);
        return;
    }
    conn_touch(c);
    if (r == 0) {
        c->handshaking = 0;
        ev_io_stop(s->loop, &c->ww);
        if (s->cb.on_ready)
            s->cb.on_ready(s->ud, c);
        if (c->closed)
            return;
        ev_io_start(s->loop, &c->rw);
        ev_feed_event(s->loop, &c->rw, EV_READ);
        return;
    }
    if (r & NET_WANT_READ)
        ev_io_start(s->loop, &c->rw);
    else
        ev_io_stop(s->loop, &c->rw);
    if (r & NET_WANT_WRITE)
        ev_io_start(s->loop, &c->ww);
    else
        ev_io_stop(s->loop, &c->ww);
}

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    struct net_conn *c = w->data;
    struct net_server *s = c->s;
    ev_tstamp limit = (ev_tstamp)s->lim.idle_ms / 1000.0;
    ev_tstamp left = c->last_active + limit - ev_now(loop);
    /* Activity only stamps last_active; the timer is re-armed here, lazily,
     * so busy connections cost no timer updates. */
    if (left > 0.0005) {
        ev_timer_set(w, left, 0.);
        ev_timer_start(loop, w);
        return;
    }
    NLOG(s, SLOG_DEBUG, "closing connection %s (id %llu): idle for more than %llu ms "
         "(connections.max.idle.ms)",
         c->peer, (unsigned long long)c->id, (unsigned long long)s->lim.idle_ms);
    s->st.idle_closes++;
    net_conn_close(c);
}

/* ---- accepting -------------------------------------------------------- */

static void conn_new(struct net_server *s, struct net_lsn *L, int fd,
                     const struct sockaddr_storage *peer, socklen_t peerlen)
{
    char peerstr[sizeof ((struct net_conn *)0)->peer];
    net_sockaddr_str((const struct sockaddr *)peer, peerlen, peerstr, sizeof peerstr);
    struct net_conn *c = calloc(1, sizeof *c);
    uint8_t *rbuf = malloc(NET_RBUF_SIZE);
    if (!c || !rbuf) {
        free(c);
        free(rbuf);
        close(fd);
        NLOG(s, SLOG_ERROR, "dropping connection from %s: out of memory", peerstr);
        return;
    }
    char err[160];
    int proto = L->l.spec.protocol;
    if (s->tf[proto].fn(s->tf[proto].ud, fd, &L->l.spec, peerstr, &c->ops, &c->tctx, err,
                        sizeof err) < 0) {
        NLOG(s, SLOG_WARN, "dropping connection from %s on %s: %s", peerstr, L->l.spec.name,
             err);
        free(c);
        free(rbuf);
        return;
    }
    c->s = s;
    c->rbuf = rbuf;
    c->id = ++s->next_id;
    memcpy(c->peer, peerstr, sizeof c->peer);
    c->lspec = L->l.spec;
    ev_io_init(&c->rw, read_cb, fd, EV_READ);
    ev_io_init(&c->ww, write_cb, fd, EV_WRITE);
    c->rw.data = c->ww.data = c;
    conn_touch(c);
    if (s->lim.idle_ms) {
        ev_timer_init(&c->idle, idle_cb, (ev_tstamp)s->lim.idle_ms / 1000.0, 0.);
        c->idle.data = c;
        ev_timer_start(s->loop, &c->idle);
    } else {
        ev_timer_init(&c->idle, idle_cb, 0., 0.);
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->st.accepted++;
    s->st.open++;
    NLOG(s, SLOG_DEBUG, "connection %s (id %llu) accepted on %s", c->peer,
         (unsigned long long)c->id, c->lspec.name);
    if (s->cb.on_accept)
        s->cb.on_accept(s->ud, c);
    if (c->closed)
        return;
    if (c->ops->handshake) {
        c->handshaking = 1;
        conn_handshake(c);
        return;
    }
    if (s->cb.on_ready)
        s->cb.on_ready(s->ud, c);
    if (!c->closed)
        ev_io_start(s->loop, &c->rw);
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    struct net_server *s = w->data;
    if (!s->accepting)
        return;
    for (size_t i = 0; i < s->nlsn; i++)
        if (s->lsn[i]->l.fd >= 0)
            ev_io_start(loop, &s->lsn[i]->w);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    struct net_lsn *L = w->data;
    struct net_server *s = L->s;
    for (int i = 0; i < NET_ACCEPT_BATCH; i++) {
        struct sockaddr_storage peer;
        socklen_t plen;
        int fd = listener_accept(&L->l, &peer, &plen);
        if (fd >= 0) {
            conn_new(s, L, fd, &peer, plen);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        /* Out of descriptors or memory: accepting again right away would
         * spin, so pause all listeners briefly. */
        NLOG(s, SLOG_WARN, "accept on %s failed: %s; pausing accepts for 100 ms",
             L->l.spec.name, strerror(errno));
        for (size_t j = 0; j < s->nlsn; j++)
            ev_io_stop(loop, &s->lsn[j]->w);
        ev_timer_stop(loop, &s->accept_retry);
        ev_timer_set(&s->accept_retry, 0.1, 0.);
        ev_timer_start(loop, &s->accept_retry);
        return;
    }
}

/* ---- server ----------------------------------------------------------- */

struct net_server *net_server_new(struct ev_loop *loop, const struct net_limits *limits,
                                  const struct net_callbacks *cb, void *ud,
                                  struct sluice_logger *log)
{
    struct net_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    if (limits)
        s->lim = *limits;
    else
        net_limits_default(&s->lim);
    if (s->lim.max_inflight == 0)
        s->lim.max_inflight = 1;
    if (s->lim.max_queued_bytes == 0)
        s->lim.max_queued_bytes = 1;
    s->cb = *cb;
    s->ud = ud;
    s->log = log;
    s->tf[LISTENER_PLAINTEXT].fn = tcp_factory;
    /* SASL_PLAINTEXT is plain TCP underneath; authentication is the
     * broker's (SaslHandshake/SaslAuthenticate), not the transport's. */
    s->tf[LISTENER_SASL_PLAINTEXT].fn = tcp_factory;
    s->accepting = 1;
    ev_prepare_init(&s->reaper, reaper_cb);
    s->reaper.data = s;
    ev_timer_init(&s->accept_retry, accept_retry_cb, 0.1, 0.);
    s->accept_retry.data = s;
    return s;
}

void net_server_set_transport(struct net_server *s, enum listener_security proto,
                              net_transport_factory_fn factory, void *fud)
{
    if ((unsigned)proto >= LISTENER_NSECURITY)
        return;
    int plain = proto == LISTENER_PLAINTEXT || proto == LISTENER_SASL_PLAINTEXT;
    s->tf[proto].fn = factory ? factory : (plain ? tcp_factory : NULL);
    s->tf[proto].ud = factory ? fud : NULL;
}

static const char *needed_module(enum listener_security p)
{
    switch (p) {
    case LISTENER_SSL:
        return "a TLS transport module";
    case LISTENER_SASL_PLAINTEXT:
        return "a SASL authentication module";
    case LISTENER_SASL_SSL:
        return "a TLS transport module and a SASL authentication module";
    default:
        return "a transport module";
    }
}

int net_server_listen(struct net_server *s, const struct listener_spec *specs, size_t n,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!s->tf[specs[i].protocol].fn) {
            const char *pn = listener_security_name(specs[i].protocol);
            snprintf(err, errlen,
                     "listener %s://%s%s%s:%d uses security protocol %s, which needs %s "
                     "(none is loaded); only PLAINTEXT is built in",
                     specs[i].name, strchr(specs[i].host, ':') ? "[" : "", specs[i].host,
                     strchr(specs[i].host, ':') ? "]" : "", specs[i].port, pn,
                     needed_module(specs[i].protocol));
            return -1;
        }
    }
    struct net_lsn **arr = realloc(s->lsn, (s->nlsn + n) * sizeof *arr);
    if (!arr && s->nlsn + n) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->lsn = arr;
    size_t base = s->nlsn;
    for (size_t i = 0; i < n; i++) {
        struct net_lsn *L = calloc(1, sizeof *L);
        if (!L) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (listener_open(&L->l, &specs[i], s->lim.backlog, err, errlen) < 0) {
            free(L);
            goto fail;
        }
        L->s = s;
        ev_io_init(&L->w, accept_cb, L->l.fd, EV_READ);
        L->w.data = L;
        s->lsn[s->nlsn++] = L;
    }
    for (size_t i = base; i < s->nlsn; i++) {
        char addr[LISTENER_NAME_MAX + 64];
        if (s->accepting)
            ev_io_start(s->loop, &s->lsn[i]->w);
        NLOG(s, SLOG_INFO, "listening on %s",
             listener_bound_address(&s->lsn[i]->l, addr, sizeof addr));
    }
    return 0;
fail:
    while (s->nlsn > base) {
        struct net_lsn *L = s->lsn[--s->nlsn];
        listener_close(&L->l);
        free(L);
    }
    return -1;
}

size_t net_server_listener_count(const struct net_server *s) { return s->nlsn; }

const struct listener *net_server_listener(const struct net_server *s, size_t i)
{
    return i < s->nlsn ? &s->lsn[i]->l : NULL;
}

int net_server_write_port_file(const struct net_server *s, const char *path, char *err,
                               size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    for (size_t i = 0; i < s->nlsn; i++)
        fprintf(f, "%d\n", listener_bound_port(&s->lsn[i]->l));
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

void net_server_stop_accepting(struct net_server *s)
{
    s->accepting = 0;
    ev_timer_stop(s->loop, &s->accept_retry);
    for (size_t i = 0; i < s->nlsn; i++) {
        ev_io_stop(s->loop, &s->lsn[i]->w);
        listener_close(&s->lsn[i]->l);
    }
}

void net_server_free(struct net_server *s)
{
    if (!s)
        return;
    net_server_stop_accepting(s);
    while (s->conns)
        net_conn_close(s->conns);
    reaper_cb(s->loop, &s->reaper, 0);
    for (size_t i = 0; i < s->nlsn; i++)
        free(s->lsn[i]);
    free(s->lsn);
    free(s->scratch);
    free(s);
}

void net_server_stats(const struct net_server *s, struct net_stats *out) { *out = s->st; }
