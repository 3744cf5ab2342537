/* Logger: line format, level filtering, file output with O_APPEND, reopen
 * after rotation, truncation of very long lines, level names. */
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/logger.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/test_logger.XXXXXX";
    if (!mkdtemp(dir))
        skip_all("mkdtemp failed");
    char path[256], rotated[256], err[256];
    snprintf(path, sizeof path, "%s/sluice.log", dir);
    snprintf(rotated, sizeof rotated, "%s/sluice.log.1", dir);

    is_int(logger_level_parse("error"), SLOG_ERROR, "parse error");
    is_int(logger_level_parse("WARN"), SLOG_WARN, "parse WARN");
    is_int(logger_level_parse("warning"), SLOG_WARN, "parse warning");
    is_int(logger_level_parse("Trace"), SLOG_TRACE, "parse Trace");
    is_int(logger_level_parse("loud"), -1, "unknown level");
    is_str(logger_level_name(SLOG_DEBUG), "DEBUG", "level name");

    struct sluice_logger lg;
    logger_init_stderr(&lg);
    is_int(lg.fd, 2, "starts on stderr");
    is_int(logger_open(&lg, "/nonexistent-dir/x.log", SLOG_INFO, err, sizeof err), -1,
           "open in missing dir fails");
    ok(strstr(err, "/nonexistent-dir/x.log") != NULL, "error names the path: %s", err);
    is_int(lg.fd, 2, "still on stderr after a failed open");

    /* Pre-existing content must survive (append, not truncate). */
    FILE *f = fopen(path, "w");
    fputs("old line\n", f);
    fclose(f);
    is_int(logger_open(&lg, path, SLOG_INFO, err, sizeof err), 0, "open log file");
    slog(&lg, SLOG_INFO, "broker", "started on port %d", 9092);
    slog(&lg, SLOG_DEBUG, "broker", "hidden %s", "debug");
    slog(&lg, SLOG_WARN, "config", "two\n");
    ok(!slog_enabled(&lg, SLOG_DEBUG), "debug disabled at info");
    ok(slog_enabled(&lg, SLOG_ERROR), "error enabled at info");
    ok(!slog_enabled(NULL, SLOG_ERROR), "NULL logger disabled");
    slog(NULL, SLOG_ERROR, "x", "ignored");

    char *s = slurp(path);
    ok(strncmp(s, "old line\n", 9) == 0, "appended after existing content");
    regex_t re;
    regcomp(&re,
            "^old line\n[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z INFO "
            "\\[broker\\] started on port 9092\n[0-9T:.-]+Z WARN \\[config\\] two\n$",
            REG_EXTENDED);
    ok(regexec(&re, s, 0, NULL, 0) == 0, "line format and filtering");
    if (regexec(&re, s, 0, NULL, 0) != 0)
        diag("got: %s", s);
    regfree(&re);

    /* Rotation: rename, reopen, the new file gets the new lines. */
    is_int(rename(path, rotated), 0, "rotate");
    slog(&lg, SLOG_INFO, "x", "to rotated");
    int fd_before = lg.fd;
    is_int(logger_reopen(&lg, err, sizeof err), 0, "reopen");
    is_int(lg.fd, fd_before, "descriptor number is stable across reopen");
    slog(&lg, SLOG_ERROR, "x", "after reopen");
    s = slurp(rotated);
    ok(strstr(s, "to rotated") && !strstr(s, "after reopen"), "old file has pre-rotation line");
    s = slurp(path);
    ok(s && strstr(s, "ERROR [x] after reopen\n") && !strstr(s, "old line"), "new file has new line");

    /* Level change at runtime. */
    logger_set_level(&lg, SLOG_TRACE);
    slog(&lg, SLOG_TRACE, "x", "trace now");
    s = slurp(path);
    ok(strstr(s, "TRACE [x] trace now\n") != NULL, "trace after set_level");

    /* A huge message is cut to one line ending in "...". */
    char *big = malloc(20000);
    memset(big, 'a', 19999);
    big[19999] = '\0';
    slog(&lg, SLOG_INFO, "big", "%s", big);
    free(big);
    s = slurp(path);
    char *l = strstr(s, "[big] ");
    ok(l != NULL, "big line written");
    char *nl = l ? strchr(l, '\n') : NULL;
    ok(nl && nl - l < 8192 && nl[-1] == '.' && nl[-2] == '.' && nl[-3] == '.' && nl[1] == '\0',
       "big line truncated with ... and newline");

    logger_close(&lg);
    is_int(lg.fd, 2, "back to stderr after close");
    ok(lg.path == NULL, "path cleared");
    is_int(logger_reopen(&lg, err, sizeof err), 0, "reopen on stderr is a no-op");

    unlink(path);
    unlink(rotated);
    rmdir(dir);
    return done_testing();
}
