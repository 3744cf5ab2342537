/* Atomic small-file replacement, with the fsyncs on the flusher thread. */
#include "storage/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/flusher.h"

struct ckpt_file {
    int refs;
    char *dir, *name;
    uint64_t seq;         /* last sequence number handed out */
    uint64_t renamed_seq; /* newest content in place */
};

struct ckpt_job {
    struct ckpt_file *c;
    struct flusher *fl;
    uint64_t seq;
};

struct ckpt_file *ckpt_new(const char *dir, const char *name)
{
    struct ckpt_file *c = (struct ckpt_file *)calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dir = strdup(dir);
    c->name = strdup(name);
    if (!c->dir || !c->name) {
        free(c->dir);
        free(c->name);
        free(c);
        return NULL;
    }
    c->refs = 1;
    return c;
}

int ckpt_busy(const struct ckpt_file *c)
{
    return c && c->refs > 1;
}

void ckpt_release(struct ckpt_file *c)
{
    if (!c || --c->refs > 0)
        return;
    free(c->dir);
    free(c->name);
    free(c);
}

static void path_of(const struct ckpt_file *c, uint64_t seq, char *buf, size_t n)
{
    if (seq)
        snprintf(buf, n, "%s/%s.tmp.%" PRIu64, c->dir, c->name, seq);
    else
        snprintf(buf, n, "%s/%s", c->dir, c->name);
}

int ckpt_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static int finish(struct ckpt_file *c, uint64_t seq)
{
    char tmp[4096], dst[4096];
    path_of(c, seq, tmp, sizeof tmp);
    if (seq < c->renamed_seq) {
        unlink(tmp); /* a newer content is already in place */
        return 0;
    }
    path_of(c, 0, dst, sizeof dst);
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    c->renamed_seq = seq;
    return 0;
}

static void job_done(void *ud, int err)
{
    struct ckpt_job *j = (struct ckpt_job *)ud;
    if (!err && finish(j->c, j->seq) == 0) {
        int fd = open(j->c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            flusher_submit(j->fl, fd, NULL, NULL);
            close(fd);
        }
    } else {
        char tmp[4096];
        path_of(j->c, j->seq, tmp, sizeof tmp);
        unlink(tmp);
    }
    ckpt_release(j->c);
    free(j);
}

int ckpt_write(struct ckpt_file *c, struct flusher *fl, const char *content, size_t len,
               int durable)
{
    uint64_t seq = ++c->seq;
    char tmp[4096];
    path_of(c, seq, tmp, sizeof tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, content + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            return -e;
        }
        off += (size_t)n;
    }
    if (!durable) {
        close(fd);
        return finish(c, seq);
    }
    if (!fl) {
        int rc = fsync(fd) == 0 ? 0 : -errno;
        close(fd);
        if (!rc)
            rc = finish(c, seq);
        else
            unlink(tmp);
        if (!rc)
            rc = ckpt_fsync_dir(c->dir);
        return rc;
    }
    struct ckpt_job *j = (struct ckpt_job *)calloc(1, sizeof *j);
    if (!j) {
        close(fd);
        unlink(tmp);
        return -ENOMEM;
    }
    j->c = c;
    j->fl = fl;
    j->seq = seq;
    c->refs++;
    int rc = flusher_submit(fl, fd, job_done, j);
    close(fd);
    if (rc) {
        c->refs--;
        free(j);
        unlink(tmp);
    }
    return rc;
}

char *ckpt_read(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    size_t cap = 256, len = 0;
    char *buf = (char *)malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *nb = (char *)realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    return buf;
}
