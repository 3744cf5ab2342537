/* Line-oriented logger: one struct per process (or per loop), no globals.
 *
 * Lines look like "2026-11-22T02:31:06.123Z INFO [component] message\n" and
 * are emitted with a single write(2) each, so the event-loop thread and the
 * flusher thread may log through the same logger concurrently without
 * interleaving inside a line (O_APPEND makes each write land at the end even
 * when logrotate's copytruncate or another writer moved the end).
 *
 * Rotation: on SIGHUP the owner calls logger_reopen(), which opens the path
 * again and dup2()s the new descriptor over the old number.  dup2 is atomic,
 * so a concurrent slog() on another thread writes either to the old file or
 * to the new one, never to a closed or recycled descriptor. */
#ifndef SLUICE_LOGGER_H
#define SLUICE_LOGGER_H

#include <stddef.h>

enum sluice_log_level {
    SLOG_ERROR = 0,
    SLOG_WARN = 1,
    SLOG_INFO = 2,
    SLOG_DEBUG = 3,
    SLOG_TRACE = 4,
};

struct sluice_logger {
    int fd;       /* 2 (stderr) or our own descriptor for path */
    int level;    /* lines with level <= this are written; read atomically */
    char *path;   /* NULL: stderr */
};

/* Starts logging to stderr at INFO; never fails. */
void logger_init_stderr(struct sluice_logger *lg);

/* Switches to path (NULL or "" = stderr) and level.  On failure the logger
 * keeps its previous output and err says why; returns 0 or -1. */
int logger_open(struct sluice_logger *lg, const char *path, int level, char *err, size_t errlen);

/* Reopens the log file (after rotation).  No-op on stderr.  0 or -1. */
int logger_reopen(struct sluice_logger *lg, char *err, size_t errlen);

/* Closes the file (if any) and goes back to stderr. */
void logger_close(struct sluice_logger *lg);

void logger_set_level(struct sluice_logger *lg, int level);

/* "error".."trace" (case-insensitive) to a level, or -1. */
int logger_level_parse(const char *name);
/* "ERROR".."TRACE". */
const char *logger_level_name(int level);

/* Cheap check so callers can skip building expensive arguments. */
static inline int slog_enabled(const struct sluice_logger *lg, int level)
{
    return lg && level <= __atomic_load_n(&lg->level, __ATOMIC_RELAXED);
}

/* printf-style; formats nothing when the level is disabled; lg may be NULL
 * (logs nothing).  Lines longer than 8 KiB are cut and end in "...". */
void slog(struct sluice_logger *lg, int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
