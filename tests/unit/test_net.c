/* Network core tests: listeners parsing, and a real server on 127.0.0.1:0 in
 * this test's own ev_loop, driven by blocking client sockets from a thread.
 *
 * The handler speaks a tiny text protocol in the request payload:
 *   echo:X            respond X now
 *   delay:MS:X        respond X after MS milliseconds (out-of-order completion)
 *   none              net_respond_none (acks=0 style)
 *   big:N             respond N bytes of pattern (memory)
 *   file:OFF:LEN      respond "HDR" + file span + "TRL"
 *   fileunlink        respond "HDR" + whole file span + "TRL", then close the
 *                     handler's fd and unlink the file before anything is sent
 *   hold:X            keep the request until the test releases it
 *   close             net_conn_close() then net_respond() on the orphan
 * Only the client thread calls TAP functions while the loop runs. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "net/connection.h"
#include "net/listener.h"
#include "tests/lib/tap.h"

#define FILE_SIZE (3 * 1024 * 1024)
#define MAX_HELD 64

struct tctx {
    struct ev_loop *loop;
    struct net_server *srv;
    int port;
    ev_async done;    /* client thread finished: break the loop */
    ev_async release; /* client thread asks the loop to answer held requests */
    atomic_uint delivered;
    atomic_uint closes;
    atomic_int released;
    struct net_request *held[MAX_HELD];
    int nheld;
    char file_path[64];
    size_t max_queued_seen;
    int orphan_seen_null;
    int fallback_writes; /* custom transport: writes of file data */
    int open_fd;
    struct sluice_logger lg;
    char log_path[64];
};

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + 3); }

/* ---- server side (loop thread) ----------------------------------------- */

/* The whole log file (the server logs there at DEBUG); malloc'd. */
static char *read_log(struct tctx *t)
{
    FILE *f = fopen(t->log_path, "r");
    if (!f)
        return strdup("");
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int log_contains(struct tctx *t, const char *needle)
{
    char *b = read_log(t);
    int found = strstr(b, needle) != NULL;
    free(b);
    return found;
}

static void respond_str(struct net_request *req, const char *s, size_t n)
{
    struct wire_writer w;
    wire_writer_init(&w);
    wire_write_raw(&w, s, n);
    net_respond(req, &w);
}

struct delayed {
    ev_timer tm;
    struct net_request *req;
    char *text;
    size_t len;
};

static void delayed_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct delayed *d = (struct delayed *)w;
    respond_str(d->req, d->text, d->len);
    free(d->text);
    free(d);
}

static void add_file_span(struct tctx *t, struct wire_writer *w, off_t off, size_t len, int *fdp)
{
    int fd = open(t->file_path, O_RDONLY | O_CLOEXEC);
    wire_write_raw(w, "HDR", 3);
    wire_write_filespan(w, fd, off, len);
    wire_write_raw(w, "TRL", 3);
    *fdp = fd;
}

static void on_request(void *ud, struct net_conn *c, struct net_request *req)
{
    struct tctx *t = ud;
    atomic_fetch_add(&t->delivered, 1);
    char cmd[64];
    size_t n = req->len < sizeof cmd - 1 ? req->len : sizeof cmd - 1;
    memcpy(cmd, req->data, n);
    cmd[n] = 0;
    const char *payload = (const char *)req->data;
    if (strncmp(cmd, "echo:", 5) == 0) {
        respond_str(req, payload + 5, req->len - 5);
    } else if (strncmp(cmd, "delay:", 6) == 0) {
        char *colon = strchr(cmd + 6, ':');
        struct delayed *d = calloc(1, sizeof *d);
        size_t hdr = (size_t)(colon + 1 - cmd);
        d->req = req;
        d->len = req->len - hdr;
        d->text = malloc(d->len + 1);
        memcpy(d->text, payload + hdr, d->len);
        ev_timer_init(&d->tm, delayed_cb, atoi(cmd + 6) / 1000.0, 0.);
        ev_timer_start(t->loop, &d->tm);
    } else if (strcmp(cmd, "none") == 0) {
        net_respond_none(req);
    } else if (strncmp(cmd, "big:", 4) == 0) {
        size_t len = (size_t)atol(cmd + 4);
        struct wire_writer w;
        wire_writer_init(&w);
        wire_reserve(&w, len);
        for (size_t i = 0; i < len; i++)
            w.buf[i] = pattern(i);
        w.len = len;
        net_respond(req, &w);
        if (net_conn_queued_bytes(c) > t->max_queued_seen)
            t->max_queued_seen = net_conn_queued_bytes(c);
    } else if (strncmp(cmd, "file:", 5) == 0) {
        char *colon = strchr(cmd + 5, ':');
        struct wire_writer w;
        wire_writer_init(&w);
        int fd;
        add_file_span(t, &w, atol(cmd + 5), (size_t)atol(colon + 1), &fd);
        net_respond(req, &w);
        close(fd);
    } else if (strcmp(cmd, "fileunlink") == 0) {
        struct wire_writer w;
        wire_writer_init(&w);
        int fd;
        add_file_span(t, &w, 0, FILE_SIZE, &fd);
        net_respond(req, &w);
        close(fd);
        unlink(t->file_path);
    } else if (strncmp(cmd, "hold:", 5) == 0) {
        if (atomic_load(&t->released) || t->nheld == MAX_HELD)
            respond_str(req, payload + 5, req->len - 5);
        else
            t->held[t->nheld++] = req;
    } else if (strcmp(cmd, "close") == 0) {
        net_conn_close(c);
        t->orphan_seen_null += net_request_conn(req) == NULL;
        respond_str(req, "late", 4);
    } else {
        respond_str(req, "?", 1);
    }
}

static void on_close(void *ud, struct net_conn *c)
{
    struct tctx *t = ud;
    (void)c;
    atomic_fetch_add(&t->closes, 1);
}

static void done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* Answer every held request with its payload; orphans get a file span too
 * so the orphan path frees dup'ed descriptors as well. */
static void release_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    struct tctx *t = w->data;
    atomic_store(&t->released, 1);
    for (int i = 0; i < t->nheld; i++) {
        struct net_request *req = t->held[i];
        if (!net_request_conn(req))
            t->orphan_seen_null++;
        struct wire_writer w2;
        wire_writer_init(&w2);
        wire_write_raw(&w2, req->data + 5, req->len - 5);
        int fd = -1;
        if (!net_request_conn(req)) {
            fd = open(t->file_path, O_RDONLY | O_CLOEXEC);
            wire_write_filespan(&w2, fd, 0, 10);
        }
        net_respond(req, &w2);
        if (fd >= 0)
            close(fd);
    }
    t->nheld = 0;
}

static const struct net_callbacks callbacks = {
    .on_request = on_request,
    .on_close = on_close,
};

static int start_server(struct tctx *t, const struct net_limits *lim, const char *listeners)
{
    t->srv = net_server_new(t->loop, lim, &callbacks, t, &t->lg);
    struct listener_spec *specs;
    size_t n;
    char err[256];
    if (listener_parse(listeners, NULL, &specs, &n, err, sizeof err) < 0 ||
        net_server_listen(t->srv, specs, n, err, sizeof err) < 0) {
        diag("start_server(%s): %s", listeners, err);
        return -1;
    }
    free(specs);
    t->port = listener_bound_port(net_server_listener(t->srv, 0));
    return 0;
}

static void stop_server(struct tctx *t)
{
    net_server_free(t->srv);
    t->srv = NULL;
}

struct run {
    struct tctx *t;
    void (*fn)(struct tctx *);
};

static void *client_main(void *arg)
{
    struct run *r = arg;
    r->fn(r->t);
    ev_async_send(r->t->loop, &r->t->done);
    return NULL;
}

/* Run fn on a client thread while the loop serves. */
static void run_client(struct tctx *t, void (*fn)(struct tctx *))
{
    struct run r = { t, fn };
    pthread_t th;
    pthread_create(&th, NULL, client_main, &r);
    ev_run(t->loop, 0);
    pthread_join(th, NULL);
}

/* ---- client side (thread) --------------------------------------------- */

static int connect_to(int family, int port, int rcvbuf)
{
    int fd = socket(family, SOCK_STREAM, 0);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int rc;
    if (family == AF_INET6) {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons((uint16_t)port);
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    if (rc < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = recv(fd, b, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Append one framed request to buf (pipelining: several frames, one write). */
static size_t frame(uint8_t *buf, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    buf[0] = (uint8_t)(n >> 24);
    buf[1] = (uint8_t)(n >> 16);
    buf[2] = (uint8_t)(n >> 8);
    buf[3] = (uint8_t)n;
    memcpy(buf + 4, s, n);
    return 4 + n;
}

static int send_req(int fd, const char *s)
{
    uint8_t buf[256];
    return write_all(fd, buf, frame(buf, s));
}

/* Read one response; returns its length (payload malloc'd in *out) or -1. */
static long read_resp(int fd, uint8_t **out)
{
    uint8_t h[4];
    *out = NULL;
    if (read_all(fd, h, 4) < 0)
        return -1;
    uint32_t n = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
    uint8_t *b = malloc(n ? n : 1);
    if (read_all(fd, b, n) < 0) {
        free(b);
        return -1;
    }
    *out = b;
    return (long)n;
}

static int expect_str(int fd, const char *want, const char *name)
{
    uint8_t *b;
    long n = read_resp(fd, &b);
    int good = n == (long)strlen(want) && memcmp(b, want, (size_t)n) == 0;
    ok(good, "%s: response '%s'", name, want);
    if (!good)
        diag("got %ld bytes: '%.*s'", n, n > 0 ? (int)(n < 60 ? n : 60) : 0, b ? (char *)b : "");
    free(b);
    return good;
}

/* 1 when the server closed the connection (EOF or reset) within the timeout. */
static int wait_eof(int fd)
{
    char b[64];
    for (;;) {
        ssize_t r = recv(fd, b, sizeof b, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return 1;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return 0; /* timeout */
    }
}

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- scenarios -------------------------------------------------------- */

static void cl_order(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    ok(fd >= 0, "connect to 127.0.0.1:%d", t->port);
    uint8_t buf[1024];
    size_t n = 0;
    n += frame(buf + n, "delay:80:first");
    n += frame(buf + n, "echo:second");
    n += frame(buf + n, "delay:30:third");
    n += frame(buf + n, "none");
    n += frame(buf + n, "delay:5:fifth");
    n += frame(buf + n, "echo:sixth");
    n += frame(buf + n, "echo:");
    ok(write_all(fd, buf, n) == 0, "7 pipelined requests sent in one write");
    expect_str(fd, "first", "order 1 (completed last)");
    expect_str(fd, "second", "order 2 (completed first)");
    expect_str(fd, "third", "order 3");
    expect_str(fd, "fifth", "order 5 (4 had no response)");
    expect_str(fd, "sixth", "order 6");
    expect_str(fd, "", "order 7 (empty response, size 0)");
    /* Raw bytes of one more exchange: the size prefix is exact. */
    send_req(fd, "echo:xyz");
    uint8_t raw[7];
    ok(read_all(fd, raw, 7) == 0 && memcmp(raw, "\0\0\0\3xyz", 7) == 0,
       "raw response bytes 00 00 00 03 'xyz'");
    /* A request split across writes with a pause is reassembled. */
    n = frame(buf, "echo:split-request");
    write_all(fd, buf, 3);
    msleep(20);
    write_all(fd, buf + 3, 6);
    msleep(20);
    write_all(fd, buf + 9, n - 9);
    expect_str(fd, "split-request", "request split over 3 writes");
    /* One request larger than the 64 KiB read buffer (read in place). */
    size_t big = 200000;
    uint8_t *bb = malloc(big + 4);
    bb[0] = 0;
    bb[1] = (uint8_t)((big) >> 16);
    bb[2] = (uint8_t)((big) >> 8);
    bb[3] = (uint8_t)big;
    memcpy(bb + 4, "echo:", 5);
    for (size_t i = 5; i < big; i++)
        bb[4 + i] = pattern(i);
    write_all(fd, bb, big + 4);
    uint8_t *resp;
    long rn = read_resp(fd, &resp);
    ok(rn == (long)big - 5 && resp && memcmp(resp, bb + 9, big - 5) == 0,
       "200000-byte request echoed exactly");
    free(resp);
    free(bb);
    close(fd);
}

static void cl_file(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    uint8_t buf[256];
    size_t n = 0;
    n += frame(buf + n, "file:100:3000000");
    n += frame(buf + n, "echo:after-file");
    n += frame(buf + n, "file:5:10");
    write_all(fd, buf, n);
    uint8_t *r;
    long rn = read_resp(fd, &r);
    int good = rn == 3000006 && memcmp(r, "HDR", 3) == 0 &&
               memcmp(r + 3000003, "TRL", 3) == 0;
    for (size_t i = 0; good && i < 3000000; i++)
        good = r[3 + i] == pattern(100 + i);
    ok(good, "3 MB file span delivered with exact bytes between memory parts (len %ld)", rn);
    free(r);
    expect_str(fd, "after-file", "response after a file span keeps order");
    rn = read_resp(fd, &r);
    good = rn == 16 && memcmp(r, "HDR", 3) == 0 && memcmp(r + 13, "TRL", 3) == 0;
    for (size_t i = 0; good && i < 10; i++)
        good = r[3 + i] == pattern(5 + i);
    ok(good, "small file span exact");
    free(r);

    /* The handler closes its fd and unlinks the file right after
     * net_respond; the dup()ed descriptor keeps the data readable. */
    send_req(fd, "fileunlink");
    msleep(100);
    rn = read_resp(fd, &r);
    good = rn == FILE_SIZE + 6 && memcmp(r + 3 + FILE_SIZE, "TRL", 3) == 0;
    for (size_t i = 0; good && i < FILE_SIZE; i++)
        good = r[3 + i] == pattern(i);
    ok(good, "file span still delivered after the file was closed and unlinked");
    free(r);
    close(fd);
}

static void cl_oversize_real(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    send_req(fd, "echo:ok");
    expect_str(fd, "ok", "small request under the limit served");
    uint8_t h[8] = { 0, 0, 0x07, 0xd0, 'a', 'b', 'c', 'd' }; /* 2000 > 1024 */
    write_all(fd, h, sizeof h);
    ok(wait_eof(fd), "2000-byte frame over a 1024 limit closes the connection");
    close(fd);
    fd = connect_to(AF_INET, t->port, 0);
    uint8_t neg[4] = { 0xff, 0xff, 0xff, 0xfe };
    write_all(fd, neg, 4);
    ok(wait_eof(fd), "negative frame size closes the connection");
    close(fd);
    /* Exactly at the limit is fine. */
    fd = connect_to(AF_INET, t->port, 0);
    uint8_t *b = malloc(1028);
    b[0] = 0, b[1] = 0, b[2] = 4, b[3] = 0;
    memcpy(b + 4, "echo:", 5);
    memset(b + 9, 'z', 1019);
    write_all(fd, b, 1028);
    uint8_t *r;
    long rn = read_resp(fd, &r);
    ok(rn == 1019 && r[0] == 'z' && r[1018] == 'z', "frame of exactly socket.request.max.bytes served");
    free(r);
    free(b);
    close(fd);
}

#define BP_REQS 200
#define BP_SIZE 262144

static void cl_backpressure_bytes(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 32768);
    uint8_t buf[BP_REQS * 16];
    size_t n = 0;
    for (int i = 0; i < BP_REQS; i++)
        n += frame(buf + n, "big:262144");
    ok(write_all(fd, buf, n) == 0, "%d requests for 256 KiB responses sent, client not reading",
       BP_REQS);
    msleep(500);
    unsigned d1 = atomic_load(&t->delivered);
    msleep(200);
    unsigned d2 = atomic_load(&t->delivered);
    ok(d1 < 40 && d1 == d2, "reading stopped: %u then %u of %d requests delivered", d1, d2,
       BP_REQS);
    int good = 1;
    for (int i = 0; i < BP_REQS && good; i++) {
        uint8_t *r;
        long rn = read_resp(fd, &r);
        good = rn == BP_SIZE && r[0] == pattern(0) && r[BP_SIZE - 1] == pattern(BP_SIZE - 1);
        free(r);
    }
    ok(good, "after the client reads, all %d responses arrive intact", BP_REQS);
    is_int(atomic_load(&t->delivered), BP_REQS, "reading resumed: every request delivered");
    close(fd);
}

static void cl_backpressure_inflight(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    uint8_t buf[1024];
    size_t n = 0;
    char s[32];
    for (int i = 0; i < 10; i++) {
        snprintf(s, sizeof s, "hold:r%d", i);
        n += frame(buf + n, s);
    }
    write_all(fd, buf, n);
    msleep(300);
    is_int(atomic_load(&t->delivered), 4, "max_inflight 4: only 4 of 10 held requests delivered");
    ev_async_send(t->loop, &t->release);
    int good = 1;
    for (int i = 0; i < 10 && good; i++) {
        snprintf(s, sizeof s, "r%d", i);
        uint8_t *r;
        long rn = read_resp(fd, &r);
        good = rn == (long)strlen(s) && memcmp(r, s, (size_t)rn) == 0;
        free(r);
    }
    ok(good, "after release all 10 responses arrive in order");
    is_int(atomic_load(&t->delivered), 10, "all 10 delivered after resuming");
    close(fd);
}

static void cl_idle(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    double t0 = now_s();
    msleep(120);
    send_req(fd, "echo:alive");
    expect_str(fd, "alive", "activity before the idle limit");
    ok(wait_eof(fd), "idle connection closed by the server");
    double el = now_s() - t0;
    ok(el >= 0.3 && el < 2.0, "closed after the idle time counted from the last activity (%.3f s)",
       el);
    close(fd);
    for (int i = 0; i < 100 && atomic_load(&t->closes) < 1; i++)
        msleep(10);
    is_int(atomic_load(&t->closes), 1, "on_close called once");
}

static void cl_orphan(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    send_req(fd, "hold:orphan1");
    send_req(fd, "hold:orphan2");
    for (int i = 0; i < 100 && atomic_load(&t->delivered) < 2; i++)
        msleep(10);
    close(fd);
    for (int i = 0; i < 200 && atomic_load(&t->closes) < 1; i++)
        msleep(10);
    is_int(atomic_load(&t->closes), 1, "client disconnect with 2 requests pending: on_close called");
    ev_async_send(t->loop, &t->release); /* respond to the orphans */
    msleep(50);

    fd = connect_to(AF_INET, t->port, 0);
    send_req(fd, "close");
    ok(wait_eof(fd), "handler closing the connection itself: client sees EOF");
    close(fd);
    fd = connect_to(AF_INET, t->port, 0);
    send_req(fd, "echo:still-serving");
    expect_str(fd, "still-serving", "server keeps serving after orphaned responses");
    close(fd);
}

static void cl_hold_open(struct tctx *t)
{
    t->open_fd = connect_to(AF_INET, t->port, 0);
    send_req(t->open_fd, "hold:x");
    for (int i = 0; i < 200 && atomic_load(&t->delivered) < 1; i++)
        msleep(10);
    ok(atomic_load(&t->delivered) == 1, "held request delivered; connection left open");
}

static void cl_simple_echo6(struct tctx *t)
{
    int fd = connect_to(AF_INET6, t->port, 0);
    ok(fd >= 0, "connect to [::1]:%d", t->port);
    send_req(fd, "echo:v6");
    expect_str(fd, "v6", "echo over IPv6");
    close(fd);
}

static void cl_simple_echo4(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    ok(fd >= 0, "connect over IPv4 to the wildcard listener port %d", t->port);
    send_req(fd, "echo:v4");
    expect_str(fd, "v4", "echo over IPv4 on the wildcard listener");
    close(fd);
}

/* A transport without sendfile: file spans go through pread + writev. */
static int fb_writes;
static ssize_t fb_read(void *ctx, void *buf, size_t len) { return recv((int)(intptr_t)ctx, buf, len, 0); }
static ssize_t fb_writev(void *ctx, const struct iovec *iov, int cnt)
{
    fb_writes++;
    struct msghdr mh = { 0 };
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)cnt;
    return sendmsg((int)(intptr_t)ctx, &mh, MSG_NOSIGNAL);
}
static void fb_close(void *ctx) { close((int)(intptr_t)ctx); }
static const struct net_transport_ops fb_ops = { fb_read, fb_writev, NULL, fb_close };
static int fb_factory(void *fud, int fd, const struct listener_spec *ls, const char *peer,
                      const struct net_transport_ops **ops, void **ctx,
                      char *err, size_t errlen)
{
    (void)fud, (void)err, (void)errlen;
    *ops = &fb_ops;
    *ctx = (void *)(intptr_t)fd;
    return 0;
}

static void cl_fallback(struct tctx *t)
{
    int fd = connect_to(AF_INET, t->port, 0);
    send_req(fd, "file:1000:500000");
    uint8_t *r;
    long rn = read_resp(fd, &r);
    int good = rn == 500006 && memcmp(r, "HDR", 3) == 0 && memcmp(r + 500003, "TRL", 3) == 0;
    for (size_t i = 0; good && i < 500000; i++)
        good = r[3 + i] == pattern(1000 + i);
    ok(good, "custom transport without sendfile: file span sent by pread+writev, exact bytes");
    free(r);
    close(fd);
}

/* ---- main ------------------------------------------------------------- */

static void test_parse(void)
{
    struct listener_spec *s;
    size_t n;
    char err[256];
    int rc = listener_parse(" PLAINTEXT://:9092, plaintext2://127.0.0.1:0 ,NAME://[::1]:9093",
                            "PLAINTEXT:PLAINTEXT,PLAINTEXT2:PLAINTEXT,NAME:SASL_SSL", &s, &n, err,
                            sizeof err);
    ok(rc == 0 && n == 3, "parse 3 listeners (%s)", rc ? err : "ok");
    if (rc == 0 && n == 3) {
        is_str(s[0].name, "PLAINTEXT", "name 0");
        is_str(s[0].host, "", "empty host = all interfaces");
        is_int(s[0].port, 9092, "port 0");
        is_str(s[1].name, "PLAINTEXT2", "name normalised to upper case");
        is_str(s[1].host, "127.0.0.1", "host 1");
        is_int(s[1].port, 0, "port 0 = ephemeral");
        is_str(s[2].host, "::1", "IPv6 host without brackets");
        is_int(s[2].port, 9093, "port 2");
        is_int(s[2].protocol, LISTENER_SASL_SSL, "NAME maps to SASL_SSL");
        is_int(s[0].protocol, LISTENER_PLAINTEXT, "PLAINTEXT maps to PLAINTEXT");
    }
    free(s);
    rc = listener_parse("SSL://h:1,SASL_PLAINTEXT://h2:2", NULL, &s, &n, err, sizeof err);
    ok(rc == 0 && n == 2 && s[0].protocol == LISTENER_SSL &&
           s[1].protocol == LISTENER_SASL_PLAINTEXT,
       "default map: protocol names map to themselves");
    free(s);

    struct {
        const char *spec, *map, *msg;
    } bad[] = {
        { "", NULL, "listeners is empty" },
        { "PLAINTEXT:9092", NULL, "want NAME://HOST:PORT" },
        { "PLAINTEXT://localhost", NULL, "missing port" },
        { "PLAINTEXT://localhost:70000", NULL, "out of range" },
        { "PLAINTEXT://localhost:9x", NULL, "invalid port" },
        { "PLAINTEXT://::1:9092", NULL, "brackets" },
        { "PLAINTEXT://[::1:9092", NULL, "unbalanced" },
        { "INTERNAL://:9092", NULL, "no security protocol defined for listener INTERNAL" },
        { "INTERNAL://:9092", "INTERNAL:TLS", "unknown security protocol 'TLS'" },
        { "PLAINTEXT://:9092", "INTERNAL:PLAINTEXT", "no security protocol defined for listener PLAINTEXT" },
        { "PLAINTEXT://:1,plaintext://:2", NULL, "used more than once" },
        { "PLAINTEXT://a:9092,SSL://b:9092", NULL, "both use port 9092" },
        { "A://:1", "A", "want NAME:PROTOCOL" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        rc = listener_parse(bad[i].spec, bad[i].map, &s, &n, err, sizeof err);
        ok(rc == -1 && s == NULL && strstr(err, bad[i].msg), "rejected '%s' map '%s': %s",
           bad[i].spec, bad[i].map ? bad[i].map : "(default)", err);
    }
    rc = listener_parse("PLAINTEXT://127.0.0.1:9092,SSL://[::1]:9092", NULL, &s, &n, err, sizeof err);
    ok(rc == 0 && n == 2, "same port allowed for one IPv4 and one IPv6 listener (KIP-797)");
    free(s);
}

static void make_file(struct tctx *t)
{
    snprintf(t->file_path, sizeof t->file_path, "/tmp/test_net.%ld", (long)getpid());
    FILE *f = fopen(t->file_path, "w");
    for (size_t i = 0; i < FILE_SIZE; i++)
        fputc(pattern(i), f);
    fclose(f);
}

static void reset(struct tctx *t)
{
    atomic_store(&t->delivered, 0);
    atomic_store(&t->closes, 0);
    atomic_store(&t->released, 0);
    t->nheld = 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct tctx t;
    memset(&t, 0, sizeof t);
    t.loop = ev_loop_new(EVFLAG_AUTO);
    ev_async_init(&t.done, done_cb);
    ev_async_start(t.loop, &t.done);
    ev_async_init(&t.release, release_cb);
    t.release.data = &t;
    ev_async_start(t.loop, &t.release);
    make_file(&t);
    struct net_limits lim;
    char err[256];
    snprintf(t.log_path, sizeof t.log_path, "/tmp/test_net.log.%ld", (long)getpid());
    logger_init_stderr(&t.lg);
    if (logger_open(&t.lg, t.log_path, getenv("TEST_NET_VERBOSE") ? SLOG_DEBUG : SLOG_INFO, err,
                    sizeof err) < 0)
        diag("logger: %s", err);

    test_parse();

    /* Ordering, framing, large requests. */
    net_limits_default(&lim);
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        ok(t.port > 0, "ephemeral port bound: %d", t.port);
        char addr[128], want[64];
        listener_bound_address(net_server_listener(t.srv, 0), addr, sizeof addr);
        snprintf(want, sizeof want, "PLAINTEXT://127.0.0.1:%d", t.port);
        is_str(addr, want, "bound address string");
        snprintf(want, sizeof want, "INFO [net] listening on PLAINTEXT://127.0.0.1:%d\n", t.port);
        ok(log_contains(&t, want), "logged 'listening on PLAINTEXT://127.0.0.1:%d'", t.port);
        char pf[80];
        snprintf(pf, sizeof pf, "/tmp/test_net.ports.%ld", (long)getpid());
        ok(net_server_write_port_file(t.srv, pf, err, sizeof err) == 0, "port file written");
        FILE *f = fopen(pf, "r");
        int fp = -1;
        ok(f && fscanf(f, "%d", &fp) == 1 && fp == t.port, "port file holds the bound port");
        if (f)
            fclose(f);
        unlink(pf);
        run_client(&t, cl_order);
        struct net_stats st;
        net_server_stats(t.srv, &st);
        is_int(st.requests, 10, "10 requests handled");
        is_int(st.responses, 9, "9 responses written (one was none)");
        stop_server(&t);
    }

    /* File spans via sendfile. */
    reset(&t);
    net_limits_default(&lim);
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        run_client(&t, cl_file);
        stop_server(&t);
    }
    make_file(&t); /* fileunlink removed it */

    /* File spans through a transport without sendfile. */
    reset(&t);
    t.srv = net_server_new(t.loop, NULL, &callbacks, &t, &t.lg);
    net_server_set_transport(t.srv, LISTENER_PLAINTEXT, fb_factory, NULL);
    {
        struct listener_spec *specs;
        size_t n;
        listener_parse("PLAINTEXT://127.0.0.1:0", NULL, &specs, &n, err, sizeof err);
        ok(net_server_listen(t.srv, specs, n, err, sizeof err) == 0, "listen with custom transport");
        free(specs);
        t.port = listener_bound_port(net_server_listener(t.srv, 0));
        fb_writes = 0;
        run_client(&t, cl_fallback);
        ok(fb_writes > 1, "custom transport writev used (%d calls)", fb_writes);
        stop_server(&t);
    }

    /* Refusing protocols without a transport module. */
    {
        t.srv = net_server_new(t.loop, NULL, &callbacks, &t, &t.lg);
        struct listener_spec *specs;
        size_t n;
        listener_parse("PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", NULL, &specs, &n, err,
                       sizeof err);
        err[0] = 0;
        int rc = net_server_listen(t.srv, specs, n, err, sizeof err);
        ok(rc == -1 && strstr(err, "SSL") && strstr(err, "TLS transport module"),
           "SSL listener refused: %s", err);
        is_int(net_server_listener_count(t.srv), 0, "all or nothing: no listener left open");
        free(specs);
        listener_parse("SASL_PLAINTEXT://127.0.0.1:0", NULL, &specs, &n, err, sizeof err);
        rc = net_server_listen(t.srv, specs, n, err, sizeof err);
        /* SASL_PLAINTEXT runs on the built-in TCP transport (the broker,
         * not the network core, insists on SASL for it). */
        ok(rc == 0 && net_server_listener_count(t.srv) == 1,
           "SASL_PLAINTEXT listener served by the built-in TCP transport");
        free(specs);
        stop_server(&t);
    }

    /* Oversized frames. */
    reset(&t);
    net_limits_default(&lim);
    lim.request_max_bytes = 1024;
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        run_client(&t, cl_oversize_real);
        struct net_stats st;
        net_server_stats(t.srv, &st);
        is_int(st.frame_errors, 2, "2 framing errors counted");
        ok(log_contains(&t, "request size 2000 is invalid or larger than "
                            "socket.request.max.bytes (1024)"),
           "oversize logged with the peer, size and limit");
        ok(log_contains(&t, "request size -2 is invalid"), "negative size logged");
        stop_server(&t);
    }

    /* Back-pressure on queued bytes. */
    reset(&t);
    net_limits_default(&lim);
    lim.max_queued_bytes = 256 * 1024;
    lim.max_inflight = 1000;
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        t.max_queued_seen = 0;
        run_client(&t, cl_backpressure_bytes);
        struct net_stats st;
        net_server_stats(t.srv, &st);
        ok(st.read_pauses >= 1, "reading was paused %llu times", (unsigned long long)st.read_pauses);
        ok(t.max_queued_seen <= lim.max_queued_bytes + BP_SIZE + 4,
           "queued bytes stayed bounded (max %zu)", t.max_queued_seen);
        stop_server(&t);
    }

    /* Back-pressure on requests in flight. */
    reset(&t);
    net_limits_default(&lim);
    lim.max_inflight = 4;
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        run_client(&t, cl_backpressure_inflight);
        stop_server(&t);
    }

    /* Idle timeout. */
    reset(&t);
    net_limits_default(&lim);
    lim.idle_ms = 300;
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        run_client(&t, cl_idle);
        struct net_stats st;
        net_server_stats(t.srv, &st);
        is_int(st.idle_closes, 1, "one idle close counted");
        stop_server(&t);
    }

    /* Orphaned requests. */
    reset(&t);
    net_limits_default(&lim);
    if (start_server(&t, &lim, "PLAINTEXT://127.0.0.1:0") == 0) {
        t.orphan_seen_null = 0;
        run_client(&t, cl_orphan);
        ok(t.orphan_seen_null == 3,
           "net_request_conn() is NULL for orphans; net_respond on them was safe (%d)",
           t.orphan_seen_null);
        stop_server(&t);
    }

    /* Pending requests at net_server_free stay valid until completed. */
    reset(&t);
    if (start_server(&t, NULL, "PLAINTEXT://127.0.0.1:0") == 0) {
        run_client(&t, cl_hold_open);
        is_int(t.nheld, 1, "one request held by the handler");
        stop_server(&t);
        is_int(atomic_load(&t.closes), 1, "net_server_free called on_close for the open connection");
        ok(t.nheld == 1 && net_request_conn(t.held[0]) == NULL, "held request orphaned by free");
        if (t.nheld == 1) {
            respond_str(t.held[0], "after-free", 10); /* must not touch the freed server */
            t.nheld = 0;
        }
        char b[8];
        ok(recv(t.open_fd, b, sizeof b, 0) == 0, "client sees EOF after net_server_free");
        close(t.open_fd);
    }

    /* IPv6 loopback and the all-interfaces wildcard. */
    reset(&t);
    t.srv = net_server_new(t.loop, NULL, &callbacks, &t, &t.lg);
    {
        struct listener_spec *specs;
        size_t n;
        listener_parse("PLAINTEXT://[::1]:0", NULL, &specs, &n, err, sizeof err);
        if (net_server_listen(t.srv, specs, n, err, sizeof err) == 0) {
            t.port = listener_bound_port(net_server_listener(t.srv, 0));
            run_client(&t, cl_simple_echo6);
        } else {
            ok(1, "# SKIP no IPv6: %s", err);
        }
        free(specs);
        stop_server(&t);
    }
    reset(&t);
    if (start_server(&t, NULL, "PLAINTEXT://:0") == 0) {
        run_client(&t, cl_simple_echo4);
        stop_server(&t);
    }

    unlink(t.file_path);
    logger_close(&t.lg);
    unlink(t.log_path);
    ev_loop_destroy(t.loop);
    return done_testing();
}
