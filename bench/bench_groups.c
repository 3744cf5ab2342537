/* Group rebalance benchmark: N classic-protocol members over the wire (a raw
 * client on core/proto's encoders, one TCP connection per member, one
 * thread driving them all with poll()).
 *
 * For each N the group is formed first (JoinGroup with MEMBER_ID_REQUIRED,
 * SyncGroup), then a rebalance is measured: the leader rejoins (which makes
 * a Stable group rebalance), every other member rejoins as a heartbeat's
 * REBALANCE_IN_PROGRESS would make it, the leader sends the assignment and
 * the others SyncGroup (the members' metadata changes, so the rebalance
 * does not depend on which JoinGroup the broker reads first).  Reported: from the first JoinGroup sent to the
 * last SyncGroup answered ("all synced"), median of --repeat runs.
 *
 * usage: bench_groups [--sluiced PATH | --bootstrap HOST:PORT]
 *                     [--members 10,100,1000] [--repeat 3] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_sluiced.h"
#include "proto/kp_codec.h"

#define JOIN_V 5 /* not flexible: v0 request/response headers */
#define SYNC_V 3

struct member {
    int fd;
    char id[256];
    int32_t generation;
    bool leader;
    uint8_t *in;
    size_t inlen, incap;
    int state; /* 0 idle, 1 awaiting join, 2 awaiting sync, 3 synced */
    struct kp_JoinGroupResponse join;
    struct kp_arena arena;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_groups: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int32_t corr;
static const char *group_id;
static struct member *members;
static int nmembers;

static void send_request(struct member *m, int16_t api, int16_t ver, const void *body)
{
    struct wire_writer w;
    wire_writer_init(&w);
    wire_write_i32(&w, 0);
    wire_write_i16(&w, api);
    wire_write_i16(&w, ver);
    wire_write_i32(&w, ++corr);
    wire_write_i16(&w, 5);
    wire_write_raw(&w, "bench", 5);
    if (kp_encode(kp_request_message(api), ver, body, &w) < 0 || w.err) {
        fprintf(stderr, "bench_groups: cannot encode api %d\n", api);
        exit(1);
    }
    wire_patch_i32(&w, 0, (int32_t)(w.len - 4));
    size_t off = 0;
    while (off < w.len) {
        ssize_t n = write(m->fd, w.buf + off, w.len - off);
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            die("write");
        if (n > 0)
            off += (size_t)n;
    }
    wire_writer_free(&w);
}

/* A small consumer-protocol-like subscription; its last byte (user data)
 * changes for the measured rebalance, so every member's JoinGroup carries
 * new metadata and none is answered from the Stable generation, whatever
 * order the broker reads the connections in. */
static uint8_t subscription[] = { 0, 0, 0, 0, 0, 1, 0, 5, 'b', 'e', 'n', 'c', 'h',
                                  0, 0, 0, 1, 0 };

static void send_join(struct member *m)
{
    struct kp_JoinGroupRequest_JoinGroupRequestProtocol p = {
        kp_str_c("range"), { subscription, sizeof subscription } };
    struct kp_JoinGroupRequest r;
    memset(&r, 0, sizeof r);
    kp_struct_defaults(kp_request_message(KP_API_JOIN_GROUP)->body, &r);
    r.GroupId = kp_str_c(group_id);
    r.SessionTimeoutMs = 120000;
    r.RebalanceTimeoutMs = 120000;
    r.MemberId = kp_str_c(m->id);
    r.ProtocolType = kp_str_c("consumer");
    r.Protocols.items = &p;
    r.Protocols.count = 1;
    m->state = 1;
    send_request(m, KP_API_JOIN_GROUP, JOIN_V, &r);
}

static void send_sync(struct member *m)
{
    struct kp_SyncGroupRequest r;
    memset(&r, 0, sizeof r);
    kp_struct_defaults(kp_request_message(KP_API_SYNC_GROUP)->body, &r);
    r.GroupId = kp_str_c(group_id);
    r.GenerationId = m->generation;
    r.MemberId = kp_str_c(m->id);
    struct kp_SyncGroupRequest_SyncGroupRequestAssignment *as = NULL;
    if (m->leader) {
        int32_t n = m->join.Members.count;
        as = calloc(n > 0 ? (size_t)n : 1, sizeof *as);
        static const uint8_t asg[4] = { 0, 0, 0, 1 };
        for (int32_t i = 0; i < n; i++) {
            as[i].MemberId = m->join.Members.items[i].MemberId;
            as[i].Assignment.p = asg;
            as[i].Assignment.len = 4;
        }
        r.Assignments.items = as;
        r.Assignments.count = n;
    }
    m->state = 2;
    send_request(m, KP_API_SYNC_GROUP, SYNC_V, &r);
    free(as);
}

/* Read whatever is there; returns a complete frame (owned by m->in) or NULL. */
static const uint8_t *frame(struct member *m, size_t *len)
{
    if (m->inlen >= 4) {
        uint32_t n = ((uint32_t)m->in[0] << 24) | (m->in[1] << 16) | (m->in[2] << 8) | m->in[3];
        if (m->inlen >= 4 + n) {
            *len = n;
            return m->in + 4;
        }
    }
    return NULL;
}

static void consume_frame(struct member *m, size_t n)
{
    memmove(m->in, m->in + 4 + n, m->inlen - 4 - n);
    m->inlen -= 4 + n;
}

static void on_response(struct member *m, const uint8_t *p, size_t n, int *synced)
{
    struct wire_reader r;
    wire_reader_init(&r, p, n);
    wire_read_i32(&r); /* correlation id (v0 header) */
    if (m->state == 1) {
        kp_arena_free(&m->arena);
        kp_arena_init(&m->arena);
        memset(&m->join, 0, sizeof m->join);
        if (kp_decode(kp_response_message(KP_API_JOIN_GROUP), JOIN_V, &r, &m->join,
                      &m->arena) < 0) {
            fprintf(stderr, "bench_groups: bad JoinGroup response\n");
            exit(1);
        }
        if (m->join.ErrorCode == KP_ERR_MEMBER_ID_REQUIRED) {
            snprintf(m->id, sizeof m->id, "%s", m->join.MemberId.s);
            send_join(m);
            return;
        }
        if (m->join.ErrorCode) {
            fprintf(stderr, "bench_groups: JoinGroup error %s\n",
                    kp_error_name(m->join.ErrorCode));
            exit(1);
        }
        snprintf(m->id, sizeof m->id, "%s", m->join.MemberId.s);
        m->generation = m->join.GenerationId;
        m->leader = strcmp(m->join.Leader.s, m->id) == 0;
        send_sync(m);
    } else if (m->state == 2) {
        struct kp_SyncGroupResponse s;
        struct kp_arena a;
        kp_arena_init(&a);
        memset(&s, 0, sizeof s);
        if (kp_decode(kp_response_message(KP_API_SYNC_GROUP), SYNC_V, &r, &s, &a) < 0) {
            fprintf(stderr, "bench_groups: bad SyncGroup response\n");
            exit(1);
        }
        if (s.ErrorCode == KP_ERR_REBALANCE_IN_PROGRESS) {
            send_join(m); /* what a client does: rejoin */
        } else if (s.ErrorCode) {
            fprintf(stderr, "bench_groups: SyncGroup error %s\n", kp_error_name(s.ErrorCode));
            exit(1);
        } else {
            m->state = 3;
            (*synced)++;
        }
        kp_arena_free(&a);
    }
}

/* Drive every connection until all members are synced. */
static void run_until_synced(void)
{
    struct pollfd *pfd = calloc((size_t)nmembers, sizeof *pfd);
    int synced = 0;
    for (int i = 0; i < nmembers; i++)
        synced += members[i].state == 3;
    double deadline = now_ms() + 120000;
    while (synced < nmembers) {
        for (int i = 0; i < nmembers; i++) {
            pfd[i].fd = members[i].fd;
            pfd[i].events = POLLIN;
        }
        if (poll(pfd, (nfds_t)nmembers, 1000) < 0 && errno != EINTR)
            die("poll");
        if (now_ms() > deadline) {
            fprintf(stderr, "bench_groups: timed out (%d of %d synced)\n", synced, nmembers);
            exit(1);
        }
        for (int i = 0; i < nmembers; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct member *m = &members[i];
            if (m->incap - m->inlen < 65536) {
                m->incap = m->incap * 2 + 65536;
                m->in = realloc(m->in, m->incap);
            }
            ssize_t n = read(m->fd, m->in + m->inlen, m->incap - m->inlen);
            if (n <= 0) {
                fprintf(stderr, "bench_groups: connection %d closed\n", i);
                exit(1);
            }
            m->inlen += (size_t)n;
            size_t len;
            const uint8_t *f;
            while ((f = frame(m, &len))) {
                on_response(m, f, len, &synced);
                consume_frame(m, len);
            }
        }
    }
    free(pfd);
}

static int connect_to(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static pid_t start_sluiced(const char *path, char *dir, int *port)
{
    char config[1024];
    snprintf(config, sizeof config,
             "listeners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s/data\nlog.level=warn\n"
             "group.initial.rebalance.delay.ms=300\n",
             dir);
    return bench_start_sluiced(path, dir, config, port, 1);
}

int main(int argc, char **argv)
{
    const char *sluiced = "./sluiced", *bootstrap = NULL, *list = "10,100,1000";
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sluiced") && i + 1 < argc)
            sluiced = argv[++i];
        else if (!strcmp(argv[i], "--bootstrap") && i + 1 < argc)
            bootstrap = argv[++i];
        else if (!strcmp(argv[i], "--members") && i + 1 < argc)
            list = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_groups [--sluiced PATH | --bootstrap HOST:PORT] "
                            "[--members 10,100,1000] [--repeat N]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    char host[64] = "127.0.0.1", dir[] = "/tmp/bench-groups.XXXXXX";
    int port = 0;
    pid_t pid = 0;
    if (bootstrap) {
        if (sscanf(bootstrap, "%63[^:]:%d", host, &port) != 2)
            return 2;
    } else {
        if (!mkdtemp(dir))
            die("mkdtemp");
        pid = start_sluiced(sluiced, dir, &port);
    }
    printf("%-8s %12s %12s %14s\n", "members", "form ms", "rebalance ms", "(min..max)");
    char *lst = strdup(list);
    for (char *tok = strtok(lst, ","); tok; tok = strtok(NULL, ",")) {
        nmembers = atoi(tok);
        if (nmembers <= 0)
            continue;
        double *runs = calloc((size_t)repeat, sizeof *runs), form = 0;
        for (int rep = 0; rep < repeat; rep++) {
            char gid[64];
            snprintf(gid, sizeof gid, "bench-%d-%d-%ld", nmembers, rep, (long)getpid());
            group_id = gid;
            members = calloc((size_t)nmembers, sizeof *members);
            for (int i = 0; i < nmembers; i++) {
                members[i].fd = connect_to(host, port);
                kp_arena_init(&members[i].arena);
            }
            double t0 = now_ms();
            for (int i = 0; i < nmembers; i++)
                send_join(&members[i]);
            run_until_synced();
            form += now_ms() - t0;
            /* The measured rebalance: leader first (a Stable group
             * rebalances on its leader's JoinGroup), then everyone. */
            int leader = 0;
            for (int i = 0; i < nmembers; i++)
                if (members[i].leader)
                    leader = i;
            for (int i = 0; i < nmembers; i++)
                members[i].state = 0;
            subscription[sizeof subscription - 1]++;
            t0 = now_ms();
            send_join(&members[leader]);
            for (int i = 0; i < nmembers; i++)
                if (i != leader)
                    send_join(&members[i]);
            run_until_synced();
            runs[rep] = now_ms() - t0;
            for (int i = 0; i < nmembers; i++) {
                close(members[i].fd);
                free(members[i].in);
                kp_arena_free(&members[i].arena);
            }
            free(members);
        }
        qsort(runs, (size_t)repeat, sizeof *runs, cmp_double);
        printf("%-8d %12.1f %12.1f %7.1f..%.1f\n", nmembers, form / repeat, runs[repeat / 2],
               runs[0], runs[repeat - 1]);
        fflush(stdout);
        free(runs);
    }
    free(lst);
    if (pid) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_groups: could not remove %s\n", dir);
    }
    return 0;
}
