/* Logger implementation; see logger.h for the threading and rotation rules. */
#include "util/logger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

void logger_init_stderr(struct sluice_logger *lg)
{
    lg->fd = STDERR_FILENO;
    lg->level = SLOG_INFO;
    lg->path = NULL;
}

static int open_log(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        snprintf(err, errlen, "cannot open log file '%s': %s", path, strerror(errno));
    return fd;
}

int logger_open(struct sluice_logger *lg, const char *path, int level, char *err, size_t errlen)
{
    if (level < SLOG_ERROR || level > SLOG_TRACE) {
        snprintf(err, errlen, "invalid log level %d", level);
        return -1;
    }
    if (!path || !*path) {
        logger_close(lg);
        logger_set_level(lg, level);
        return 0;
    }
    char *copy = strdup(path);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int fd = open_log(path, err, errlen);
    if (fd < 0) {
        free(copy);
        return -1;
    }
    if (lg->path) {
        /* Keep the descriptor number stable for concurrent writers. */
        dup2(fd, lg->fd);
        close(fd);
    } else {
        lg->fd = fd;
    }
    free(lg->path);
    lg->path = copy;
    logger_set_level(lg, level);
    return 0;
}

int logger_reopen(struct sluice_logger *lg, char *err, size_t errlen)
{
    if (!lg->path)
        return 0;
    int fd = open_log(lg->path, err, errlen);
    if (fd < 0)
        return -1;
    if (dup2(fd, lg->fd) < 0) {
        snprintf(err, errlen, "dup2 on log file: %s", strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

void logger_close(struct sluice_logger *lg)
{
    if (lg->path) {
        /* Point the number back at stderr rather than closing it, so a
         * straggling writer on another thread cannot hit a recycled fd. */
        dup2(STDERR_FILENO, lg->fd);
        close(lg->fd);
        lg->fd = STDERR_FILENO;
        free(lg->path);
        lg->path = NULL;
    }
}

void logger_set_level(struct sluice_logger *lg, int level)
{
    if (level < SLOG_ERROR)
        level = SLOG_ERROR;
    if (level > SLOG_TRACE)
        level = SLOG_TRACE;
    __atomic_store_n(&lg->level, level, __ATOMIC_RELAXED);
}

int logger_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i <= SLOG_TRACE; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return SLOG_WARN;
    return -1;
}

const char *logger_level_name(int level)
{
    if (level < SLOG_ERROR || level > SLOG_TRACE)
        return "?";
    return level_names[level];
}

void slog(struct sluice_logger *lg, int level, const char *component, const char *fmt, ...)
{
    if (!slog_enabled(lg, level))
        return;
    char line[8192];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(line + n, sizeof line - n, ".%03ldZ %s [%s] ", ts.tv_nsec / 1000000L,
                     logger_level_name(level), component ? component : "-");
    if (k > 0)
        n += (size_t)k;
    /* Leave room for "...\n" so a cut line still ends cleanly. */
    size_t room = sizeof line - n - 4;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(line + n, room + 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    if ((size_t)k > room) {
        n += room;
        memcpy(line + n, "...", 3);
        n += 3;
    } else {
        n += (size_t)k;
    }
    /* A message ending in '\n' must not produce an empty line. */
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    const char *p = line;
    while (n > 0) {
        ssize_t w = write(__atomic_load_n(&lg->fd, __ATOMIC_RELAXED), p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere left to report a logging failure */
        p += w;
        n -= (size_t)w;
    }
}
