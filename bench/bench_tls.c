/* TLS vs plaintext throughput: `make bench-tls`.
 *
 * Starts the sluiced of this build with a PLAINTEXT and an SSL listener
 * (transport_tls, a throw-away EC P-256 certificate made with the openssl
 * CLI), then with librdkafka, alternating the two listeners in each round:
 *   produce  N records of S bytes to a fresh 1-partition topic (acks=1,
 *            linger.ms=5, batch.num.messages=10000, no compression)
 *   fetch    the whole topic back from offset 0 (no group)
 * and prints MB/s and records/s per listener, medians over the rounds, and
 * TLS as a percentage of plaintext.  It says whether the kernel offers
 * kernel TLS (the "tls" ULP): with it, Fetch over TLS is SSL_sendfile;
 * without, pread + SSL_write.
 *
 *   make bench-tls BENCH_TLS_ARGS='--records 50000 --size 1024 --rounds 3'
 *
 * Exit status 0 only if every record was delivered and read back. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 9

struct opts {
    const char *sluiced, *plugins;
    int records, size, rounds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench-tls: %s=%s: %s\n", k, v, err);
        exit(2);
    }
}

static rd_kafka_conf_t *client_conf(const char *bootstrap, int tls, const char *dir)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "bootstrap.servers", bootstrap);
    if (tls) {
        char ca[512];
        snprintf(ca, sizeof ca, "%s/ca.pem", dir);
        set(c, "security.protocol", "ssl");
        set(c, "ssl.ca.location", ca);
    }
    return c;
}

static long delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
    (void)rk;
    (void)op;
    if (m->err)
        failed++;
    else
        delivered++;
}

/* Returns seconds for producing n records, or -1. */
static double produce(const char *bootstrap, int tls, const char *dir, const char *topic,
                      const struct opts *o)
{
    rd_kafka_conf_t *c = client_conf(bootstrap, tls, dir);
    set(c, "acks", "1");
    set(c, "linger.ms", "5");
    set(c, "batch.num.messages", "10000");
    set(c, "queue.buffering.max.messages", "1000000");
    set(c, "queue.buffering.max.kbytes", "1048576");
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    char err[256];
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!p) {
        fprintf(stderr, "bench-tls: producer: %s\n", err);
        return -1;
    }
    char *buf = malloc((size_t)o->size);
    for (int i = 0; i < o->size; i++)
        buf[i] = (char)('a' + (i * 7 + i / 13) % 26);
    /* Warm-up: connection and TLS handshake are not charged. */
    delivered = failed = 0;
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                      RD_KAFKA_V_VALUE(buf, (size_t)o->size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_END);
    rd_kafka_flush(p, 30000);
    double t0 = now_s();
    for (int i = 0; i < o->records; i++) {
        memcpy(buf, &i, sizeof i);
        while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                 RD_KAFKA_V_VALUE(buf, (size_t)o->size),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        rd_kafka_poll(p, 0);
    }
    rd_kafka_flush(p, 120000);
    double dt = now_s() - t0;
    free(buf);
    rd_kafka_destroy(p);
    if (delivered != o->records + 1 || failed) {
        fprintf(stderr, "bench-tls: produce over %s: %ld delivered, %ld failed of %d\n",
                tls ? "SSL" : "PLAINTEXT", delivered, failed, o->records + 1);
        return -1;
    }
    return dt;
}

/* Reads want records from offset 0; returns seconds, or -1. */
static double fetch(const char *bootstrap, int tls, const char *dir, const char *topic, long want)
{
    rd_kafka_conf_t *c = client_conf(bootstrap, tls, dir);
    set(c, "group.id", "bench-tls");
    set(c, "enable.auto.commit", "false");
    set(c, "fetch.max.bytes", "52428800");
    set(c, "max.partition.fetch.bytes", "10485760");
    set(c, "queued.max.messages.kbytes", "262144");
    char err[256];
    rd_kafka_t *k = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!k) {
        fprintf(stderr, "bench-tls: consumer: %s\n", err);
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0)->offset = 0;
    rd_kafka_assign(k, l);
    rd_kafka_topic_partition_list_destroy(l);
    long got = 0;
    /* The clock starts at the first record (the warm-up one), so consumer
     * start-up and the TLS handshake are not charged. */
    double t0 = 0, limit = now_s() + 300;
    while (got < want && now_s() < limit) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k, 100);
        if (!m)
            continue;
        if (!m->err && got++ == 0)
            t0 = now_s();
        rd_kafka_message_destroy(m);
    }
    double dt = now_s() - t0;
    rd_kafka_consumer_close(k);
    rd_kafka_destroy(k);
    if (got != want) {
        fprintf(stderr, "bench-tls: fetch over %s: %ld of %ld records\n", tls ? "SSL" : "PLAINTEXT",
                got, want);
        return -1;
    }
    return dt;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int ktls_available(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
    char line[256] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    return strstr(line, "tls") != NULL;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "bench-tls: failed (%d): %s\n", rc, cmd);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {.sluiced = "./sluiced", .plugins = NULL, .records = 100000, .size = 1024,
                     .rounds = 3};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sluiced") && i + 1 < argc)
            o.sluiced = argv[++i];
        else if (!strcmp(argv[i], "--plugins") && i + 1 < argc)
            o.plugins = argv[++i];
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            o.records = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            o.size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            o.rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            o.records = 20000, o.rounds = 1;
        else {
            fprintf(stderr, "usage: bench_tls --sluiced PATH --plugins DIR [--records N] "
                            "[--size BYTES] [--rounds K (1..%d)] [--quick]\n", MAX_ROUNDS);
            return 2;
        }
    }
    if (!o.plugins || o.records < 1 || o.size < 8 || o.rounds < 1 || o.rounds > MAX_ROUNDS) {
        fprintf(stderr, "bench-tls: --plugins is required; records >= 1, size >= 8, "
                        "rounds 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    char dir[] = "/tmp/sluice-bench-tls.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -keyout ca.key -out ca.pem -subj '/CN=bench CA' -days 1 2>/dev/null && "
             "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj '/CN=localhost' 2>/dev/null && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -set_serial 7 -days 1 "
             "-extfile srv.ext -out srv.pem 2>/dev/null && cat srv.key srv.pem > srv-full.pem && "
             "mkdir -p plugins data && ln -sf %s/*/.libs/*.so plugins/",
             dir, o.plugins);
    if (run(cmd) != 0)
        return 2;
    snprintf(cmd, sizeof cmd, "%s/sluiced.properties", dir);
    FILE *f = fopen(cmd, "w");
    if (!f) {
        perror(cmd);
        return 2;
    }
    fprintf(f,
            "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0\n"
            "log.dirs=%s/data\nplugin.dir=%s/plugins\nnum.partitions=1\n"
            "auto.create.topics.enable=true\nmodule.load=transport_tls\n"
            "module.load=assignor_range\nmodule.load=assignor_sticky\n"
            "ssl.keystore.type=PEM\nssl.keystore.location=%s/srv-full.pem\n",
            dir, dir, dir);
    fclose(f);
    char conf[600], portfile[600], logpath[600];
    snprintf(conf, sizeof conf, "%s/sluiced.properties", dir);
    snprintf(portfile, sizeof portfile, "%s/ports", dir);
    snprintf(logpath, sizeof logpath, "%s/sluiced.log", dir);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *lf = freopen(logpath, "w", stdout);
        (void)lf;
        dup2(1, 2);
        execl(o.sluiced, o.sluiced, "-c", conf, "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    int pport = 0, sport = 0;
    for (int i = 0; i < 200 && !(pport && sport); i++) {
        usleep(50000);
        FILE *pf = fopen(portfile, "r");
        char name[64];
        int port;
        while (pf && fscanf(pf, "%63s %d", name, &port) == 2) {
            if (!strcmp(name, "PLAINTEXT"))
                pport = port;
            else if (!strcmp(name, "SSL"))
                sport = port;
        }
        if (pf)
            fclose(pf);
    }
    if (!pport || !sport) {
        fprintf(stderr, "bench-tls: sluiced did not start; log in %s\n", logpath);
        kill(pid, SIGTERM);
        return 1;
    }
    char pb[64], sb[64];
    snprintf(pb, sizeof pb, "127.0.0.1:%d", pport);
    snprintf(sb, sizeof sb, "127.0.0.1:%d", sport);
    printf("bench-tls: %d records of %d bytes per run, %d round(s), 1 partition, acks=1\n",
           o.records, o.size, o.rounds);
    printf("kernel TLS (tls ULP): %s -> Fetch over TLS uses %s\n",
           ktls_available() ? "available" : "not available",
           ktls_available() ? "SSL_sendfile (zero-copy)" : "pread + SSL_write (copy)");
    double prod[2][MAX_ROUNDS], fet[2][MAX_ROUNDS];
    int bad = 0;
    for (int r = 0; r < o.rounds && !bad; r++) {
        for (int k = 0; k < 2 && !bad; k++) {
            int tls = (r + k) % 2; /* alternate which goes first */
            char topic[64];
            snprintf(topic, sizeof topic, "bench-%s-%d", tls ? "ssl" : "plain", r);
            double tp = produce(tls ? sb : pb, tls, dir, topic, &o);
            double tf = tp < 0 ? -1 : fetch(tls ? sb : pb, tls, dir, topic, o.records + 1);
            if (tp < 0 || tf < 0) {
                bad = 1;
                break;
            }
            prod[tls][r] = tp;
            fet[tls][r] = tf;
            double mb = (double)o.records * o.size / 1e6;
            printf("  round %d %-9s produce %7.1f MB/s  fetch %7.1f MB/s\n", r + 1,
                   tls ? "SSL" : "PLAINTEXT", mb / tp, mb / tf);
        }
    }
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    if (bad) {
        fprintf(stderr, "bench-tls: failed; sluiced work dir kept: %s\n", dir);
        return 1;
    }
    double mb = (double)o.records * o.size / 1e6;
    double pp = mb / median(prod[0], o.rounds), ps = mb / median(prod[1], o.rounds);
    double fp = mb / median(fet[0], o.rounds), fs = mb / median(fet[1], o.rounds);
    printf("\n%-10s %14s %14s %14s %14s\n", "medians", "produce MB/s", "produce rec/s",
           "fetch MB/s", "fetch rec/s");
    printf("%-10s %14.1f %14.0f %14.1f %14.0f\n", "PLAINTEXT", pp, pp * 1e6 / o.size, fp,
           fp * 1e6 / o.size);
    printf("%-10s %14.1f %14.0f %14.1f %14.0f\n", "SSL", ps, ps * 1e6 / o.size, fs,
           fs * 1e6 / o.size);
    printf("%-10s %13.0f%% %14s %13.0f%%\n", "SSL/plain", 100 * ps / pp, "", 100 * fs / fp);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
    return 0;
}
