/* What the log-directory code needs from storage: the I/O error hook on a
 * real write error (RLIMIT_FSIZE makes write(2) fail with EFBIG, no fault
 * injection), plog_abandon leaving no clean-shutdown marker, plog_size,
 * plog_busy, and the directory helpers used to move partitions. */
#include "storage/dir_util.h"
#include "storage/partition_log.h"
#include "plog_fixture.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>


struct seen {
    int calls, err;
    char what[64];
    struct partition_log *pl;
};

static void on_error(void *ud, struct partition_log *pl, int err, const char *what)
{
    struct seen *s = ud;
    s->calls++;
    s->err = err;
    s->pl = pl;
    snprintf(s->what, sizeof s->what, "%s", what);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static uint8_t *batch(int i, size_t vlen, size_t *len)
{
    char *v = malloc(vlen + 1);
    memset(v, 'a' + i % 26, vlen);
    v[vlen] = 0;
    struct bb_record r = BB_REC("k", v, 1000 + i);
    uint8_t *b = bb_build(&r, 1, NULL, len);
    free(v);
    return b;
}

static void test_io_error(void)
{
    char dir[512], err[256], seg[600], marker[600];
    snprintf(dir, sizeof dir, "%s/p-0", root);
    struct plog_config c;
    plog_config_default(&c);
    struct partition_log *pl = plog_open(dir, &c, NULL, 1000, err, sizeof err);
    struct seen s = { 0 };
    plog_set_io_error_cb(pl, on_error, &s);
    is_str(plog_dir(pl), dir, "plog_dir");
    size_t len;
    struct plog_append_result res;
    uint8_t *b = batch(0, 100, &len);
    is_int(plog_append(pl, b, len, 0, 1000, NULL, NULL, &res), 0, "first append");
    free(b);
    snprintf(seg, sizeof seg, "%s/00000000000000000000.log", dir);
    is_int(plog_size(pl), file_size(seg), "plog_size = bytes of the segment file");
    ok(!plog_busy(pl), "no flusher: never busy");

    /* A real write error: the process may not grow files past this size. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)file_size(seg) + 50;
    setrlimit(RLIMIT_FSIZE, &lim);
    b = batch(1, 500, &len);
    int rc = plog_append(pl, b, len, 0, 1000, NULL, NULL, &res);
    setrlimit(RLIMIT_FSIZE, &old);
    free(b);
    is_int(rc, KP_ERR_KAFKA_STORAGE_ERROR, "write past RLIMIT_FSIZE: KAFKA_STORAGE_ERROR");
    is_int(s.calls, 1, "the I/O error hook ran once");
    ok(s.err == EFBIG && s.pl == pl, "with the errno (EFBIG) and the log");
    is_str(s.what, "appending records to", "naming the operation");
    is_int(file_size(seg), plog_size(pl), "the partial write was cut off");
    is_int(plog_log_end_offset(pl), 1, "log end offset unchanged");

    plog_abandon(pl);
    snprintf(marker, sizeof marker, "%s/.clean-shutdown", dir);
    ok(access(marker, F_OK) != 0, "plog_abandon writes no clean-shutdown marker");
    pl = plog_open(dir, &c, NULL, 1000, err, sizeof err);
    ok(pl && plog_log_end_offset(pl) == 1, "reopened (with recovery): the first record is there");
    plog_close(pl);
}

static void test_dir_util(void)
{
    char a[512], bdir[512], p[600], q[600], name[600];
    snprintf(a, sizeof a, "%s/src", root);
    snprintf(bdir, sizeof bdir, "%s/dst", root);
    mkdir(a, 0755);
    mkdir(bdir, 0755);
    snprintf(p, sizeof p, "%s/f", a);
    FILE *f = fopen(p, "w");
    for (int i = 0; i < 300000; i++)
        fputc('0' + i % 10, f);
    fclose(f);
    snprintf(q, sizeof q, "%s/f", bdir);
    int64_t copied = 0;
    int on_dst = -1;
    is_int(du_copy_file(p, q, &copied, &on_dst), 0, "copy a 300000-byte file");
    ok(copied == 300000 && file_size(q) == 300000, "all bytes counted and written");
    snprintf(name, sizeof name, "cmp -s %s %s", p, q);
    is_int(system(name), 0, "identical content");
    snprintf(p, sizeof p, "%s/missing", a);
    is_int(du_copy_file(p, q, NULL, &on_dst), -ENOENT, "missing source: -ENOENT");
    is_int(on_dst, 0, "... on the source side");
    du_unique_name(name, sizeof name, "/x/t-3", "-future");
    ok(strncmp(name, "/x/t-3.", 7) == 0 && strlen(name) == 7 + 32 + 7 &&
           strcmp(name + 39, "-future") == 0,
       "unique name is <dir>.<32 hex>-future: %s", name);
    snprintf(p, sizeof p, "%s/sub", bdir);
    mkdir(p, 0755);
    is_int(du_remove_tree(bdir), 0, "remove a partition directory");
    ok(access(bdir, F_OK) != 0, "it is gone");
    is_int(du_remove_tree(bdir), 0, "removing a missing directory is fine");
    snprintf(p, sizeof p, "%s/f", a);
    is_int(du_fsync_parent(p), 0, "fsync of a parent directory");
}

int main(void)
{
    plf_begin("sluice-lds");
    test_io_error();
    test_dir_util();
    plf_end();
    return done_testing();
}
