/* Config: properties syntax (separators, comments, continuations, escapes,
 * duplicates, repeatable keys, error lines), broker table conversions and
 * bounds, exact error texts with file:line, typo vs unknown keys, modules.d
 * drop-ins, retention precedence, DescribeConfigs entries, dynamic set, and
 * topic config resolution/validation/describe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/broker_config.h"
#include "config/properties.h"
#include "config/topic_config.h"
#include "tap.h"
#include "util/logger.h"

static char dir[] = "/tmp/test_config.XXXXXX";
static char cfgpath[300], logpath[300];

static int rep(const char *key) { return strcmp(key, "module.load") == 0; }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static const char *slurp(const char *path)
{
    static char buf[16384];
    FILE *f = fopen(path, "rb");
    if (!f)
        return "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Loads text as the main config; returns rc, err in err. */
static int load(struct sluice_config *cfg, const char *text, struct sluice_logger *lg, char *err,
                size_t errlen)
{
    write_file(cfgpath, text);
    return sluice_config_load(cfg, cfgpath, lg, err, errlen);
}

static void test_properties(void)
{
    struct prop_list pl;
    char err[256];
    const char *text = "# comment\n"
                       "  ! also a comment \\\n"
                       "a=1\n"
                       "b : two  \n"
                       "c three four\n"
                       "\n"
                       "   \t \n"
                       "d=  spaced value\\  \n"
                       "e=multi \\\n"
                       "    line \\\n"
                       "  value\n"
                       "f=tab\\there\\nnl\\\\back\\:colon\\=eq\n"
                       "g\\ key\\=x=v\n"
                       "h=\\u00e9\\u20AC\\uD83D\\uDE00\n"
                       "a=override\n"
                       "module.load=one\r\n"
                       "module.load=two\r"
                       "empty=\n"
                       "k\n"
                       "last=eof\\";
    props_init(&pl);
    is_int(props_parse_buffer(&pl, text, strlen(text), "t.properties", rep, err, sizeof err), 0,
           "parse ok");
    is_int(pl.n, 13, "13 entries (a deduplicated, module.load twice)");
    const struct prop *p = props_get(&pl, "a");
    is_str(p->value, "override", "later duplicate wins");
    is_int(p->line, 15, "duplicate takes the later line");
    is_str(p->file, "t.properties", "file recorded");
    is_str(props_get(&pl, "b")->value, "two", "colon separator, trailing blanks trimmed");
    is_int(props_get(&pl, "b")->line, 4, "line of b");
    is_str(props_get(&pl, "c")->value, "three four", "blank separator");
    is_str(props_get(&pl, "d")->value, "spaced value ", "escaped trailing blank kept");
    is_str(props_get(&pl, "e")->value, "multi line value", "continuation joins, leading blanks dropped");
    is_int(props_get(&pl, "e")->line, 9, "continued entry reports its first line");
    is_str(props_get(&pl, "f")->value, "tab\there\nnl\\back:colon=eq", "escapes");
    is_str(props_get(&pl, "g key=x")->value, "v", "escaped blank and = in key");
    is_str(props_get(&pl, "h")->value, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\\u escapes to UTF-8");
    is_str(pl.items[8].key, "module.load", "repeatable 1");
    is_str(pl.items[8].value, "one", "repeatable 1 value (CRLF)");
    is_str(pl.items[9].value, "two", "repeatable 2 value (CR)");
    is_int(pl.items[9].line, 17, "repeatable 2 line");
    is_str(props_get(&pl, "empty")->value, "", "empty value");
    is_str(props_get(&pl, "k")->value, "", "key without value");
    is_str(props_get(&pl, "last")->value, "eof", "continuation at EOF");
    ok(props_get(&pl, "!") == NULL && props_get(&pl, "#") == NULL, "comments not parsed as keys");
    props_free(&pl);

    static const struct {
        const char *in, *err;
    } bad[] = {
        {"a=1\nb=\\u12G4\n", "bad.properties:2: malformed \\uXXXX escape"},
        {"a=1\n\n=x\n", "bad.properties:3: empty key"},
        {"x=\\uD800y\n", "bad.properties:1: unpaired UTF-16 surrogate in \\u escape"},
        {"x=\\u0000\n", "bad.properties:1: \\u0000 is not allowed"},
        {"x=\\u12", "bad.properties:1: malformed \\uXXXX escape"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        props_init(&pl);
        is_int(props_parse_buffer(&pl, bad[i].in, strlen(bad[i].in), "bad.properties", rep, err,
                                  sizeof err),
               -1, "bad input %zu rejected", i);
        is_str(err, bad[i].err, "bad input %zu message", i);
        props_free(&pl);
    }
    props_init(&pl);
    is_int(props_parse_buffer(&pl, "a=1\nb=\0x", 8, "nul", rep, err, sizeof err), -1, "NUL rejected");
    is_str(err, "nul:2: NUL byte in file", "NUL message");
    props_free(&pl);
    props_init(&pl);
    is_int(props_parse_file(&pl, "/nonexistent/x.properties", rep, err, sizeof err), -1, "missing file");
    ok(strncmp(err, "/nonexistent/x.properties: cannot open", 38) == 0, "missing file message: %s", err);
    props_free(&pl);
}

static void test_defaults(void)
{
    struct sluice_config c;
    is_int(sluice_config_defaults(&c), 0, "defaults");
    is_int(c.listeners.n, 1, "one default listener");
    is_str(c.listeners.items[0], "PLAINTEXT://:9092", "default listener");
    is_int(c.node_id, 1, "node.id default 1");
    is_int(c.num_partitions, 1, "num.partitions");
    is_int(c.default_replication_factor, 1, "default.replication.factor");
    ok(c.auto_create_topics_enable && c.delete_topic_enable, "bool defaults");
    is_int(c.log_segment_bytes, 1073741824, "log.segment.bytes");
    is_int(c.log_retention_ms, 168LL * 3600000, "retention 168h");
    is_int(c.log_roll_ms, 168LL * 3600000, "roll 168h");
    is_int(c.log_retention_bytes, -1, "retention bytes");
    is_int(c.log_retention_check_interval_ms, 300000, "check interval");
    is_int(c.log_segment_delete_delay_ms, 60000, "delete delay");
    is_int(c.log_index_interval_bytes, 4096, "index interval");
    is_int(c.log_index_size_max_bytes, 10485760, "index size");
    is_int(c.log_message_timestamp_type, SLUICE_TIMESTAMP_CREATE_TIME, "timestamp type");
    is_int(c.message_max_bytes, 1048588, "message.max.bytes");
    is_int(c.socket_request_max_bytes, 104857600, "socket.request.max.bytes");
    is_int(c.log_flush_interval_messages, INT64_MAX, "flush messages");
    is_int(c.log_flush_interval_ms, INT64_MAX, "flush ms falls back to scheduler interval");
    is_int(c.connections_max_idle_ms, 600000, "idle");
    is_int(c.queued_max_requests, 500, "queued");
    is_int(c.compression_type, SLUICE_COMPRESSION_PRODUCER, "compression");
    is_int(c.log_cleanup_policy, SLUICE_CLEANUP_DELETE, "cleanup");
    is_int(c.offsets_topic_num_partitions, 50, "offsets partitions");
    is_int(c.offsets_topic_replication_factor, 1, "offsets rf");
    is_int(c.group_initial_rebalance_delay_ms, 3000, "rebalance delay");
    ok(c.log_file == NULL, "log.file unset");
    is_int(c.log_level, SLOG_INFO, "log.level info");
    is_int(c.module_load.n, 0, "no modules");
    is_int(c.log_dirs.n, 1, "one log dir");
    is_str(c.log_dirs.items[0], "/tmp/sluice-logs", "log.dir default");
    is_str(c.metadata_log_dir, "/tmp/sluice-logs", "metadata.log.dir = first log dir");
    is_int(c.log_cleaner_min_cleanable_ratio * 100, 50, "cleanable ratio");

    /* Every table row's default converts and describes. */
    int all = 1;
    for (size_t i = 0; i < sluice_config_count(); i++) {
        struct sluice_config_entry e;
        if (sluice_config_describe(&c, i, &e) != 0 || !e.is_default ||
            e.source != SLUICE_CS_DEFAULT_CONFIG || !e.doc || !e.type)
            all = 0;
    }
    ok(all, "all %zu rows describe as defaults", sluice_config_count());
    sluice_config_free(&c);
}

static void test_conversions(void)
{
    struct sluice_config c;
    char err[512];
    struct sluice_logger lg;
    logger_init_stderr(&lg);
    is_int(logger_open(&lg, logpath, SLOG_INFO, err, sizeof err), 0, "test logger");

    int rc = load(&c,
                  "listeners=PLAINTEXT://localhost:9092, INTERNAL://[::1]:19092\n"
                  "node.id=7\n"
                  "log.dirs=/a, /b\n"
                  "num.partitions=3\n"
                  "auto.create.topics.enable=FALSE\n"
                  "log.segment.bytes=14\n"
                  "log.retention.bytes=+1024\n"
                  "log.message.timestamp.type=logappendtime\n"
                  "compression.type=zstd\n"
                  "log.cleanup.policy=compact, delete\n"
                  "log.cleaner.min.cleanable.ratio=0.25\n"
                  "log.flush.interval.ms=1000\n"
                  "offsets.topic.replication.factor=1\n"
                  "log.level=debug\n"
                  "log.file=/var/log/sluice.log\n"
                  "num.io.threads=16\n"
                  "some.unknown.thing=1\n"
                  "module.load=codec_gzip\n"
                  "module.load=auth_plain\n"
                  "ssl.key.password=s3cret\n"
                  "listener.name.internal.ssl.client.auth=required\n",
                  &lg, err, sizeof err);
    is_int(rc, 0, "load ok");
    if (rc)
        diag("%s", err);
    is_int(c.listeners.n, 2, "two listeners");
    is_str(c.listeners.items[1], "INTERNAL://[::1]:19092", "second listener trimmed");
    is_int(c.node_id, 7, "node.id");
    is_int(c.log_dirs.n, 2, "log.dirs list");
    is_str(c.log_dirs.items[1], "/b", "log.dirs item trimmed");
    is_str(c.metadata_log_dir, "/a", "metadata dir = first log dir");
    is_int(c.num_partitions, 3, "int");
    ok(!c.auto_create_topics_enable, "bool FALSE");
    is_int(c.log_segment_bytes, 14, "min bound inclusive");
    is_int(c.log_retention_bytes, 1024, "long with sign");
    is_int(c.log_message_timestamp_type, SLUICE_TIMESTAMP_LOG_APPEND_TIME, "enum case-insensitive");
    is_int(c.compression_type, SLUICE_COMPRESSION_ZSTD, "compression enum");
    is_int(c.log_cleanup_policy, SLUICE_CLEANUP_DELETE | SLUICE_CLEANUP_COMPACT, "cleanup list");
    ok(c.log_cleaner_min_cleanable_ratio == 0.25, "double");
    is_int(c.log_flush_interval_ms, 1000, "flush ms set");
    is_int(c.log_level, SLOG_DEBUG, "log.level");
    is_str(c.log_file, "/var/log/sluice.log", "log.file");
    is_int(c.module_load.n, 2, "two modules");
    is_str(c.module_load.items[0], "codec_gzip", "module 1");
    is_str(c.module_load.items[1], "auth_plain", "module 2");
    is_str(c.config_path, cfgpath, "config_path");

    struct sluice_config_entry e;
    is_int(sluice_config_describe_key(&c, "num.partitions", &e), 0, "describe num.partitions");
    is_str(e.value, "3", "value");
    is_int(e.source, SLUICE_CS_STATIC_BROKER_CONFIG, "static source");
    ok(!e.is_default && e.read_only && !e.is_sensitive, "flags");
    is_int(e.type, SLUICE_CT_INT, "INT type");
    sluice_config_describe_key(&c, "auto.create.topics.enable", &e);
    is_str(e.value, "false", "bool canonical");
    is_int(e.type, SLUICE_CT_BOOLEAN, "BOOLEAN type");
    sluice_config_describe_key(&c, "log.retention.bytes", &e);
    is_str(e.value, "1024", "long canonical");
    ok(!e.read_only, "log.retention.bytes dynamic");
    is_int(e.type, SLUICE_CT_LONG, "LONG type");
    sluice_config_describe_key(&c, "log.message.timestamp.type", &e);
    is_str(e.value, "LogAppendTime", "enum canonical");
    is_int(e.type, SLUICE_CT_STRING, "enum is STRING");
    sluice_config_describe_key(&c, "listeners", &e);
    is_str(e.value, "PLAINTEXT://localhost:9092,INTERNAL://[::1]:19092", "list canonical");
    is_int(e.type, SLUICE_CT_LIST, "LIST type");
    sluice_config_describe_key(&c, "ssl.key.password", &e);
    ok(e.value == NULL && e.is_sensitive, "password hidden");
    is_int(e.type, SLUICE_CT_PASSWORD, "PASSWORD type");
    is_int(e.source, SLUICE_CS_STATIC_BROKER_CONFIG, "password source static");
    /* Modules (transport_tls) read raw values: sensitive ones, per-listener
     * overrides kept as listener options, and defaults. */
    is_str(sluice_config_value(&c, "ssl.key.password"), "s3cret", "sluice_config_value: password");
    is_str(sluice_config_value(&c, "listener.name.internal.ssl.client.auth"), "required",
           "listener.name.* override kept for the transport");
    is_str(sluice_config_value(&c, "ssl.enabled.protocols"), "TLSv1.2,TLSv1.3",
           "ssl.enabled.protocols default");
    ok(sluice_config_value(&c, "listener.name.other.ssl.client.auth") == NULL,
       "an override not given is NULL");
    ok(sluice_config_is_listener_option("listener.name.x.ssl.key") &&
           !sluice_config_is_listener_option("listener.name.x") &&
           !sluice_config_is_listener_option("listener.name..ssl"),
       "listener option syntax");
    sluice_config_describe_key(&c, "offsets.topic.replication.factor", &e);
    is_int(e.type, SLUICE_CT_SHORT, "SHORT type");
    sluice_config_describe_key(&c, "log.cleaner.min.cleanable.ratio", &e);
    is_int(e.type, SLUICE_CT_DOUBLE, "DOUBLE type");
    sluice_config_describe_key(&c, "log.retention.ms", &e);
    ok(e.value == NULL && e.is_default, "unset nullable key describes as null");
    sluice_config_describe_key(&c, "module.load", &e);
    is_str(e.value, "codec_gzip,auth_plain", "repeatable describes all lines");
    is_int(sluice_config_describe_key(&c, "nope", &e), -1, "unknown describe");
    is_int(sluice_config_describe(&c, sluice_config_count(), &e), -1, "index out of range");
    sluice_config_free(&c);

    const char *log = slurp(logpath);
    char want[400];
    snprintf(want, sizeof want, "WARN [config] %s:17: unknown key 'some.unknown.thing' ignored\n", cfgpath);
    ok(strstr(log, want) != NULL, "unknown key warning with file:line");
    snprintf(want, sizeof want,
             "INFO [config] %s:16: 'num.io.threads' is accepted for compatibility and ignored\n", cfgpath);
    ok(strstr(log, want) != NULL, "ignored key info note");
    logger_close(&lg);
}

static void expect_error(const char *text, const char *want_fmt, const char *what)
{
    struct sluice_config c;
    char err[512], want[512];
    is_int(load(&c, text, NULL, err, sizeof err), -1, "%s: rejected", what);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(want, sizeof want, want_fmt, cfgpath);
#pragma GCC diagnostic pop
    is_str(err, want, "%s: message", what);
    /* A failed load leaves usable defaults behind. */
    ok(c.num_partitions == 1 && c.listeners.n == 1, "%s: defaults after failure", what);
    sluice_config_free(&c);
}

static void test_errors(void)
{
    expect_error("num.partitions=3\nlog.segment.bytes=13\n",
                 "%s:2: log.segment.bytes: value must be at least 14 (got '13')", "min bound");
    expect_error("num.partitions=abc\n", "%s:1: num.partitions: not a number (got 'abc')", "not a number");
    expect_error("\n\nnum.partitions=0x10\n", "%s:3: num.partitions: not a number (got '0x10')", "hex rejected");
    expect_error("message.max.bytes=2147483648\n",
                 "%s:1: message.max.bytes: value must be at most 2147483647 (got '2147483648')",
                 "INT overflow");
    expect_error("log.retention.bytes=99999999999999999999\n",
                 "%s:1: log.retention.bytes: value must be between -9223372036854775808 and "
                 "9223372036854775807 (got '99999999999999999999')",
                 "LONG overflow");
    expect_error("delete.topic.enable=yes\n",
                 "%s:1: delete.topic.enable: expected true or false (got 'yes')", "bool");
    expect_error("compression.type=brotli\n",
                 "%s:1: compression.type: expected one of uncompressed, zstd, lz4, snappy, gzip, "
                 "producer (got 'brotli')",
                 "enum");
    expect_error("log.cleaner.min.cleanable.ratio=1.5\n",
                 "%s:1: log.cleaner.min.cleanable.ratio: value must be between 0 and 1 (got '1.5')",
                 "double bound");
    expect_error("log.cleanup.policy=delete,archive\n",
                 "%s:1: log.cleanup.policy: expected a list of delete, compact (got 'delete,archive')",
                 "cleanup list");
    expect_error("listeners=localhost:9092\n",
                 "%s:1: listeners: listener 'localhost:9092' is not of the form NAME://host:port "
                 "(got 'localhost:9092')",
                 "listener syntax");
    expect_error("listeners=PLAINTEXT://:99999\n",
                 "%s:1: listeners: listener 'PLAINTEXT://:99999' is not of the form NAME://host:port "
                 "(got 'PLAINTEXT://:99999')",
                 "listener port");
    expect_error("log.level=loud\n",
                 "%s:1: log.level: expected one of error, warn, info, debug, trace (got 'loud')", "level");
    expect_error("module.load=a,b\n",
                 "%s:1: module.load: expected one module name (or absolute path to a .so) per module.load line (got 'a,b')",
                 "module per line");
    expect_error("# c\ndefault.replication.factor=3\n",
                 "%s:2: default.replication.factor: only 1 is supported until clustering lands (got '3')",
                 "replication factor");
    expect_error("offsets.topic.replication.factor=3\n",
                 "%s:1: offsets.topic.replication.factor: value must be at most 1 (got '3')",
                 "offsets rf");
    expect_error("node.id=2\nbroker.id=3\n",
                 "%s:2: broker.id: must match node.id=2 when both are set (got '3')", "id mismatch");
    expect_error("log.retention.hour=24\n",
                 "%s:1: unknown key 'log.retention.hour' (did you mean 'log.retention.hours'?)", "typo");
    expect_error("a=1\nLOG_SEGMENT_BYTES=100\n",
                 "%s:2: unknown key 'LOG_SEGMENT_BYTES' (did you mean 'log.segment.bytes'?)",
                 "case/underscore");
    expect_error("nmu.partitions=2\n",
                 "%s:1: unknown key 'nmu.partitions' (did you mean 'num.partitions'?)", "transposition");
    expect_error("x=\\uZZZZ\n", "%s:1: malformed \\uXXXX escape", "parse error propagates");

    struct sluice_config c;
    char err[256];
    is_int(sluice_config_load(&c, "/nonexistent/sluice.properties", NULL, err, sizeof err), -1,
           "missing config file");
    ok(strstr(err, "/nonexistent/sluice.properties: cannot open") == err, "missing file message");
    sluice_config_free(&c);

    /* broker.id alone sets node.id; equal ids are fine. */
    is_int(load(&c, "broker.id=5\n", NULL, err, sizeof err), 0, "broker.id alias");
    is_int(c.node_id, 5, "node id from broker.id");
    sluice_config_free(&c);
    is_int(load(&c, "broker.id=4\nnode.id=4\n", NULL, err, sizeof err), 0, "equal ids");
    is_int(c.node_id, 4, "node id");
    sluice_config_free(&c);
    is_int(load(&c, "log.dir=./data\n", NULL, err, sizeof err), 0, "log.dir");
    is_str(c.log_dirs.items[0], "./data", "log.dir used when log.dirs unset");
    sluice_config_free(&c);
    is_int(load(&c, "log.dir=./x\nlog.dirs=./y\nmetadata.log.dir=/m\n", NULL, err, sizeof err), 0,
           "log.dirs wins");
    is_str(c.log_dirs.items[0], "./y", "log.dirs wins over log.dir");
    is_str(c.metadata_log_dir, "/m", "explicit metadata.log.dir");
    sluice_config_free(&c);
}

static void test_retention(void)
{
    struct sluice_config c;
    char err[256];
    is_int(load(&c, "log.retention.hours=1\n", NULL, err, sizeof err), 0, "hours");
    is_int(c.log_retention_ms, 3600000, "hours only");
    sluice_config_free(&c);
    load(&c, "log.retention.hours=1\nlog.retention.minutes=5\n", NULL, err, sizeof err);
    is_int(c.log_retention_ms, 300000, "minutes beat hours");
    sluice_config_free(&c);
    load(&c, "log.retention.ms=1234\nlog.retention.hours=1\nlog.retention.minutes=5\n", NULL, err,
         sizeof err);
    is_int(c.log_retention_ms, 1234, "ms beats minutes and hours");
    sluice_config_free(&c);
    load(&c, "log.retention.ms=-1\n", NULL, err, sizeof err);
    is_int(c.log_retention_ms, -1, "-1 unlimited");
    sluice_config_free(&c);
    load(&c, "log.retention.hours=-1\n", NULL, err, sizeof err);
    is_int(c.log_retention_ms, -1, "-1 hours unlimited");
    sluice_config_free(&c);
    load(&c, "log.roll.hours=2\n", NULL, err, sizeof err);
    is_int(c.log_roll_ms, 7200000, "roll hours");
    sluice_config_free(&c);
    load(&c, "log.roll.hours=2\nlog.roll.ms=500\n", NULL, err, sizeof err);
    is_int(c.log_roll_ms, 500, "roll ms wins");
    sluice_config_free(&c);
    load(&c, "log.flush.scheduler.interval.ms=2000\n", NULL, err, sizeof err);
    is_int(c.log_flush_interval_ms, 2000, "flush ms from scheduler interval");
    sluice_config_free(&c);
}

static void test_dropins(void)
{
    char d[400], f[450];
    snprintf(d, sizeof d, "%s/modules.d", dir);
    mkdir(d, 0755);
    snprintf(f, sizeof f, "%s/20-b.conf", d);
    write_file(f, "module.load=codec_b\nnum.partitions=9\n");
    snprintf(f, sizeof f, "%s/10-a.conf", d);
    write_file(f, "module.load=codec_a\nnum.partitions=8\n");
    snprintf(f, sizeof f, "%s/ignored.txt", d);
    write_file(f, "garbage without meaning\n");

    struct sluice_config c;
    char err[512];
    is_int(load(&c, "module.load=core_mod\nnum.partitions=2\n", NULL, err, sizeof err), 0, "drop-ins");
    is_int(c.module_load.n, 3, "modules from file and drop-ins");
    is_str(c.module_load.items[0], "core_mod", "main file first");
    is_str(c.module_load.items[1], "codec_a", "then 10-a.conf");
    is_str(c.module_load.items[2], "codec_b", "then 20-b.conf");
    is_int(c.num_partitions, 9, "last drop-in wins");
    struct sluice_config_entry e;
    sluice_config_describe_key(&c, "num.partitions", &e);
    is_int(e.source, SLUICE_CS_STATIC_BROKER_CONFIG, "drop-in value is static");
    sluice_config_free(&c);

    snprintf(f, sizeof f, "%s/30-bad.conf", d);
    write_file(f, "# bad\nnum.partitions=-4\n");
    is_int(load(&c, "num.partitions=2\n", NULL, err, sizeof err), -1, "bad drop-in");
    char want[512];
    snprintf(want, sizeof want, "%s/30-bad.conf:2: num.partitions: value must be at least 1 (got '-4')", d);
    is_str(err, want, "drop-in error names the drop-in file and line");
    sluice_config_free(&c);
    unlink(f);
    snprintf(f, sizeof f, "%s/10-a.conf", d);
    unlink(f);
    snprintf(f, sizeof f, "%s/20-b.conf", d);
    unlink(f);
    snprintf(f, sizeof f, "%s/ignored.txt", d);
    unlink(f);
    rmdir(d);
}

static void test_dynamic(void)
{
    struct sluice_config c;
    char err[256];
    load(&c, "log.retention.ms=1000\nlog.segment.bytes=2000\n", NULL, err, sizeof err);
    is_int(sluice_config_set(&c, "log.retention.ms", "5000", err, sizeof err), 0, "set dynamic");
    is_int(c.log_retention_ms, 5000, "effective retention updated");
    struct sluice_config_entry e;
    sluice_config_describe_key(&c, "log.retention.ms", &e);
    is_str(e.value, "5000", "dynamic value described");
    is_int(e.source, SLUICE_CS_DYNAMIC_BROKER_CONFIG, "dynamic source");
    is_int(sluice_config_set(&c, "log.retention.ms", NULL, err, sizeof err), 0, "delete dynamic");
    is_int(c.log_retention_ms, 1000, "back to static value");
    sluice_config_describe_key(&c, "log.retention.ms", &e);
    is_int(e.source, SLUICE_CS_STATIC_BROKER_CONFIG, "static again");
    is_int(sluice_config_set(&c, "log.segment.bytes", "10", err, sizeof err), 40, "bad dynamic value");
    is_str(err, "Invalid value 10 for configuration log.segment.bytes: value must be at least 14",
           "dynamic error text");
    is_int(c.log_segment_bytes, 2000, "unchanged after bad value");
    is_int(sluice_config_set(&c, "listeners", "PLAINTEXT://:1", err, sizeof err), 42, "read-only key");
    is_int(sluice_config_set(&c, "no.such.key", "1", err, sizeof err), 40, "unknown key");
    is_int(sluice_config_set(&c, "log.level", "trace", err, sizeof err), 0, "log.level dynamic");
    is_int(c.log_level, SLOG_TRACE, "level updated");
    is_int(sluice_config_set(&c, "log.flush.interval.ms", "77", err, sizeof err), 0, "nullable set");
    is_int(c.log_flush_interval_ms, 77, "flush ms");
    is_int(sluice_config_set(&c, "log.flush.interval.ms", NULL, err, sizeof err), 0, "nullable delete");
    is_int(c.log_flush_interval_ms, INT64_MAX, "flush ms back to scheduler interval");
    sluice_config_free(&c);
}

static void test_topic(void)
{
    struct sluice_config c;
    char err[256];
    load(&c, "log.retention.minutes=10\nlog.segment.bytes=5000\ncompression.type=lz4\n", NULL, err,
         sizeof err);
    struct topic_config t;
    is_int(topic_config_resolve(&c, NULL, 0, &t, err, sizeof err), 0, "resolve without overrides");
    is_int(t.retention_ms, 600000, "retention from broker minutes");
    is_int(t.segment_bytes, 5000, "segment.bytes from broker");
    is_int(t.compression_type, SLUICE_COMPRESSION_LZ4, "compression from broker");
    is_int(t.max_message_bytes, 1048588, "max.message.bytes default");
    is_int(t.segment_ms, 168LL * 3600000, "segment.ms from roll hours");
    is_int(t.segment_index_bytes, 10485760, "segment.index.bytes");
    is_int(t.cleanup_policy, SLUICE_CLEANUP_DELETE, "cleanup");
    is_int(t.local_retention_ms, -2, "local retention");
    is_int(t.delete_retention_ms, 86400000, "delete.retention.ms");

    struct kv ov[] = {{"retention.ms", "-1"},
                      {"cleanup.policy", "compact"},
                      {"segment.bytes", "1000"},
                      {"min.cleanable.dirty.ratio", "0.1"},
                      {"message.timestamp.type", "LogAppendTime"},
                      {"segment.bytes", "2000"},
                      {"preallocate", "true"}};
    is_int(topic_config_resolve(&c, ov, 7, &t, err, sizeof err), 0, "resolve with overrides");
    is_int(t.retention_ms, -1, "override retention");
    is_int(t.cleanup_policy, SLUICE_CLEANUP_COMPACT, "override cleanup");
    is_int(t.segment_bytes, 2000, "later override wins");
    ok(t.min_cleanable_dirty_ratio == 0.1, "override ratio");
    is_int(t.message_timestamp_type, SLUICE_TIMESTAMP_LOG_APPEND_TIME, "override ts type");
    ok(t.preallocate, "override bool");
    is_int(t.compression_type, SLUICE_COMPRESSION_LZ4, "non-overridden stays broker");

    struct kv bad1[] = {{"segment.bytes", "13"}};
    is_int(topic_config_resolve(&c, bad1, 1, &t, err, sizeof err), SLUICE_ERR_INVALID_CONFIG, "min");
    is_str(err, "Invalid value 13 for configuration segment.bytes: value must be at least 14", "min msg");
    struct kv bad2[] = {{"retention.hours", "1"}};
    is_int(topic_config_resolve(&c, bad2, 1, &t, err, sizeof err), 40, "unknown key");
    is_str(err, "Unknown topic config name: retention.hours", "unknown msg");
    struct kv bad3[] = {{"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "5"}};
    is_int(topic_config_resolve(&c, bad3, 2, &t, err, sizeof err), 40, "lag conflict");
    is_str(err, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)",
           "lag conflict msg");

    is_int(topic_config_validate("cleanup.policy", "compact,delete", err, sizeof err), 0, "valid list");
    is_int(topic_config_validate("cleanup.policy", "none", err, sizeof err), 40, "bad list");
    is_int(topic_config_validate("compression.type", "gzip", err, sizeof err), 0, "valid compression");
    is_int(topic_config_validate("compression.type", "brotli", err, sizeof err), 40, "bad compression");
    is_int(topic_config_validate("min.insync.replicas", "0", err, sizeof err), 40, "min isr >= 1");
    is_int(topic_config_validate("min.cleanable.dirty.ratio", "1.01", err, sizeof err), 40, "ratio <= 1");
    is_int(topic_config_validate("retention.ms", "-2", err, sizeof err), 40, "retention >= -1");
    is_int(topic_config_validate("local.retention.ms", "-2", err, sizeof err), 0, "local -2 ok");
    is_int(topic_config_validate("unclean.leader.election.enable", "maybe", err, sizeof err), 40, "bool");
    is_int(topic_config_validate("max.message.bytes", "12x", err, sizeof err), 40, "int");
    is_int(topic_config_validate("remote.storage.enable", "true", err, sizeof err), 40, "no tiering");
    is_int(topic_config_validate("retention.ms", NULL, err, sizeof err), 0, "null value = delete");
    is_int(topic_config_validate("bogus", "1", err, sizeof err), 40, "unknown");
    ok(topic_config_known("segment.ms") && !topic_config_known("log.segment.bytes"), "known");

    /* Describe */
    struct kv ov2[] = {{"cleanup.policy", "compact"}};
    int found = 0;
    for (size_t i = 0; i < topic_config_count(); i++) {
        struct topic_config_entry e;
        is_int(topic_config_describe(&c, ov2, 1, i, &e), 0, "describe %zu", i);
        if (strcmp(e.name, "cleanup.policy") == 0) {
            found++;
            is_str(e.value, "compact", "override value");
            is_int(e.source, SLUICE_CS_DYNAMIC_TOPIC_CONFIG, "override source");
            is_int(e.type, SLUICE_CT_LIST, "LIST");
            is_str(e.synonyms[0], "log.cleanup.policy", "synonym");
        } else if (strcmp(e.name, "retention.ms") == 0) {
            found++;
            is_str(e.value, "600000", "retention from broker");
            is_int(e.source, SLUICE_CS_STATIC_BROKER_CONFIG, "static broker source");
            is_int(e.nsynonyms, 3, "three synonyms");
            is_str(e.synonyms[2], "log.retention.hours", "hours synonym");
        } else if (strcmp(e.name, "max.message.bytes") == 0) {
            found++;
            is_str(e.value, "1048588", "default value");
            is_int(e.source, SLUICE_CS_DEFAULT_CONFIG, "default source");
            ok(e.is_default, "is_default");
            is_int(e.type, SLUICE_CT_INT, "INT");
        } else if (strcmp(e.name, "min.cleanable.dirty.ratio") == 0) {
            found++;
            is_str(e.value, "0.5", "double rendered");
            is_int(e.type, SLUICE_CT_DOUBLE, "DOUBLE");
        }
    }
    is_int(found, 4, "describe covered the checked keys");
    struct topic_config_entry e;
    is_int(topic_config_describe(&c, NULL, 0, topic_config_count(), &e), -1, "out of range");
    sluice_config_free(&c);
}

/* The shipped conf/sluice.properties must load cleanly. */
static void test_shipped_conf(void)
{
    const char *top = getenv("SLUICE_TOP_SRCDIR");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/conf/sluice.properties", top ? top : "..");
    struct sluice_config c;
    int rc = sluice_config_load(&c, path, NULL, err, sizeof err);
    is_int(rc, 0, "conf/sluice.properties loads");
    if (rc)
        diag("%s", err);
    is_str(c.listeners.items[0], "PLAINTEXT://localhost:9092", "shipped listener");
    is_str(c.log_dirs.items[0], "./data/sluice-logs", "shipped log.dirs");
    is_int(c.group_initial_rebalance_delay_ms, 0, "shipped rebalance delay");
    sluice_config_free(&c);
}

int main(void)
{
    if (!mkdtemp(dir))
        skip_all("mkdtemp failed");
    snprintf(cfgpath, sizeof cfgpath, "%s/sluice.properties", dir);
    snprintf(logpath, sizeof logpath, "%s/test.log", dir);
    test_properties();
    test_defaults();
    test_conversions();
    test_errors();
    test_retention();
    test_dropins();
    test_dynamic();
    test_topic();
    test_shipped_conf();
    unlink(cfgpath);
    unlink(logpath);
    rmdir(dir);
    return done_testing();
}
