/* ABI 1.2 transports: register_transport's checks, and a module transport
 * (tests/modules/transport/mod_transport.c) bound to an SSL listener by
 * broker_transports_open and driven by the net core: its non-blocking
 * handshake (write then read), the principal it reports, a response with a
 * file span going through the EOPNOTSUPP sendfile fallback, and a listener
 * whose listener_open fails stopping the set-up with its message. */
#include <arpa/inet.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/tap.h"
#include "broker/transports.h"
#include "net/connection.h"
#include "net/listener.h"
#include "plugin/module_loader.h"

static char tmod_dir[512];
static const char *mode = "valid";

static const char *cfg_lookup(void *ud, const char *key)
{
    (void)ud;
    return strcmp(key, "module.mod_transport.mode") == 0 ? mode : NULL;
}

static void quiet(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    (void)msg;
}

static int load(struct module_registry *reg, const char *m, char *err, size_t errlen)
{
    mode = m;
    module_registry_init(reg);
    module_registry_set_config(reg, cfg_lookup, NULL);
    module_registry_set_log(reg, quiet, NULL);
    return module_load(reg, "mod_transport", tmod_dir, err, errlen);
}

static void test_register(void)
{
    struct module_registry reg;
    char err[512];
    is_int(load(&reg, "plaintext", err, sizeof err), -1, "PLAINTEXT transport refused");
    ok(strstr(err, "must be a non-empty mix of SLUICE_SECURITY_SSL") != NULL, "... %s", err);
    module_registry_free(&reg);
    is_int(load(&reg, "incomplete", err, sizeof err), -1, "transport without accept refused");
    ok(strstr(err, "listener_open, accept, read, writev and close are required") != NULL, "... %s",
       err);
    module_registry_free(&reg);
    is_int(load(&reg, "small", err, sizeof err), -1, "short transport ops refused");
    ok(strstr(err, "smaller than the ABI 1.2 minimum") != NULL, "... %s", err);
    module_registry_free(&reg);
    is_int(load(&reg, "twice", err, sizeof err), -1, "a second transport for SSL refused");
    ok(strstr(err, "already served by module 'mod_transport'") != NULL, "... %s", err);
    module_registry_free(&reg);
    is_int(load(&reg, "valid", err, sizeof err), 0, "valid transport loads");
    const struct module_transport *t = module_registry_transport(&reg, LISTENER_SSL);
    ok(t && strcmp(t->ops.name, "testport") == 0 && t->ops.struct_size == sizeof t->ops,
       "registered for SSL under its name, ops copied at the host's size");
    ok(!module_registry_transport(&reg, LISTENER_SASL_SSL) &&
           !module_registry_transport(&reg, LISTENER_PLAINTEXT) &&
           !module_registry_transport(&reg, 7),
       "not for SASL_SSL, PLAINTEXT or out of range");
    module_registry_free(&reg);
    ok(!module_registry_transport(&reg, LISTENER_SSL), "unregistered when the module unloads");
}

/* ---- end to end through the net core ------------------------------ */

struct srv {
    struct ev_loop *loop;
    char principal[128];
    int ready, requests;
    int filefd;
};

static void on_ready(void *ud, struct net_conn *c)
{
    struct srv *s = ud;
    s->ready++;
    net_conn_principal(c, s->principal, sizeof s->principal);
}

static void on_request(void *ud, struct net_conn *c, struct net_request *req)
{
    (void)c;
    struct srv *s = ud;
    s->requests++;
    struct wire_writer w;
    wire_writer_init(&w);
    wire_write_raw(&w, req->data, req->len);
    wire_write_filespan(&w, s->filefd, 2, 5); /* "23456" */
    wire_write_raw(&w, "!", 1);
    net_respond(req, &w);
    wire_writer_free(&w);
}

static void pump(struct ev_loop *loop)
{
    for (int i = 0; i < 20; i++) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(2000);
    }
}

static ssize_t read_n(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void test_end_to_end(void)
{
    struct module_registry reg;
    char err[512] = "";
    if (load(&reg, "valid", err, sizeof err) != 0) {
        ok(0, "load: %s", err);
        return;
    }
    struct srv s = {.loop = ev_loop_new(EVFLAG_AUTO)};
    char path[] = "/tmp/sluice-transport-XXXXXX";
    s.filefd = mkstemp(path);
    unlink(path);
    ok(s.filefd >= 0 && write(s.filefd, "0123456789", 10) == 10, "span file written");
    struct net_callbacks cb = {.on_request = on_request, .on_ready = on_ready};
    struct net_server *net = net_server_new(s.loop, NULL, &cb, &s, NULL);
    struct listener_spec *specs;
    size_t n;
    listener_parse("PLAINTEXT://127.0.0.1:0,BROKEN://127.0.0.1:0", "PLAINTEXT:PLAINTEXT,BROKEN:SSL",
                   &specs, &n, err, sizeof err);
    struct broker_transports *bt = broker_transports_open(&reg, net, specs, n, NULL, err, sizeof err);
    ok(!bt && strstr(err, "listener BROKEN (SSL): ssl.keystore.location: test failure"),
       "a failing listener_open stops the set-up: %s", err);
    free(specs);
    listener_parse("PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", NULL, &specs, &n, err, sizeof err);
    bt = broker_transports_open(&reg, net, specs, n, NULL, err, sizeof err);
    ok(bt != NULL, "transports opened for PLAINTEXT + SSL (%s)", bt ? "ok" : err);
    is_int(net_server_listen(net, specs, n, err, sizeof err), 0, "net listens on both");
    free(specs);
    int port = listener_bound_port(net_server_listener(net, 1));

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "client connects to SSL");
    pump(s.loop);
    char hello[7] = "";
    ok(read_n(fd, hello, 6) == 6 && strcmp(hello, "HELLO\n") == 0,
       "the transport's handshake writes first");
    is_int(s.ready, 0, "not ready while the handshake waits for the client");
    /* A request sent in the same packet as the handshake's last bytes must
     * not be lost (it sits in the socket when the handshake finishes). */
    uint8_t msg[3 + 4 + 4] = {'O', 'K', '\n', 0, 0, 0, 4, 'p', 'i', 'n', 'g'};
    ok(send(fd, msg, sizeof msg, 0) == (ssize_t)sizeof msg, "client finishes the handshake + request");
    pump(s.loop);
    is_int(s.ready, 1, "on_ready once the handshake is done");
    is_str(s.principal, "User:SSL", "net_conn_principal is the transport's principal");
    is_int(s.requests, 1, "the request after the handshake is dispatched");
    uint8_t resp[4 + 10];
    ok(read_n(fd, resp, sizeof resp) == (ssize_t)sizeof resp, "response read");
    ok(memcmp(resp, "\0\0\0\x0aping23456!", sizeof resp) == 0,
       "memory + file span (through the EOPNOTSUPP sendfile fallback) in order");
    close(fd);

    /* A client that fails the handshake is closed without on_ready. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connect(fd, (struct sockaddr *)&a, sizeof a);
    pump(s.loop);
    read_n(fd, hello, 6);
    send(fd, "NO\n", 3, 0);
    pump(s.loop);
    char b;
    /* EOF, or a reset: the server closed with bytes unread. */
    ok(recv(fd, &b, 1, 0) <= 0, "a bad handshake closes the connection");
    is_int(s.ready, 1, "... without on_ready");
    close(fd);

    net_server_free(net);
    broker_transports_free(bt);
    module_registry_free(&reg);
    close(s.filefd);
    ev_loop_destroy(s.loop);
}

int main(void)
{
    const char *top = getenv("SLUICE_TOP_BUILDDIR");
    if (!top)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");
    snprintf(tmod_dir, sizeof tmod_dir, "%s/tests/modules/transport/.libs", top);
    test_register();
    test_end_to_end();
    return done_testing();
}
