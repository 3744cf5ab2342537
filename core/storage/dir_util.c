/* Directory and file helpers; see dir_util.h. */
#include "storage/dir_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

void du_unique_name(char *out, size_t len, const char *base, const char *suffix)
{
    uint8_t u[16];
    if (getrandom(u, sizeof u, GRND_NONBLOCK) != (ssize_t)sizeof u) {
        /* Uniqueness only needs to hold among this partition's leftovers. */
        uint64_t x = (uint64_t)(uintptr_t)out ^ (uint64_t)getpid() << 32;
        for (size_t i = 0; i < sizeof u; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            u[i] = (uint8_t)(x >> 56);
    }
    int k = snprintf(out, len, "%s.", base);
    for (size_t i = 0; i < sizeof u && k > 0 && (size_t)k < len; i++)
        k += snprintf(out + k, len - (size_t)k, "%02x", u[i]);
    if (k > 0 && (size_t)k < len)
        snprintf(out + k, len - (size_t)k, "%s", suffix);
}

int du_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            int r = du_remove_tree(p);
            if (r && !rc)
                rc = r;
        } else if (unlink(p) != 0 && errno != ENOENT && !rc) {
            rc = -errno;
        }
    }
    closedir(d);
    if (rmdir(dir) != 0 && errno != ENOENT && !rc)
        rc = -errno;
    return rc;
}

int du_copy_file(const char *src, const char *dst, int64_t *copied, int *failed_dst)
{
    *failed_dst = 0;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        *failed_dst = 1;
        return -e;
    }
    enum { BUF = 1 << 20 };
    char *buf = malloc(BUF);
    int rc = buf ? 0 : -ENOMEM;
    while (!rc) {
        ssize_t n = read(in, buf, BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = w < 0 ? -errno : -EIO;
                *failed_dst = 1;
                break;
            }
            off += w;
            if (copied)
                __atomic_add_fetch(copied, (int64_t)w, __ATOMIC_RELAXED);
        }
    }
    free(buf);
    if (!rc && fsync(out) != 0) {
        rc = -errno;
        *failed_dst = 1;
    }
    if (close(out) != 0 && !rc) {
        rc = -errno;
        *failed_dst = 1;
    }
    close(in);
    return rc;
}

int du_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int du_fsync_parent(const char *path)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    char *slash = strrchr(p, '/');
    if (!slash)
        return du_fsync_dir(".");
    if (slash == p)
        slash[1] = '\0';
    else
        *slash = '\0';
    return du_fsync_dir(p);
}
