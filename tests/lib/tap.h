/* Minimal TAP producer for C unit tests (automake's tap-driver.sh reads it).
 * plan(N) or done_testing(); ok/is_int/is_str print "ok N - name" lines and
 * a diagnostic on failure; exit status is non-zero when anything failed. */
#ifndef SLUICE_TAP_H
#define SLUICE_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned;

static inline void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}

static inline void skip_all(const char *why)
{
    printf("1..0 # SKIP %s\n", why);
    exit(0);
}

static inline void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static inline int ok_at(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_run++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!cond) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                            \
    do {                                                                                  \
        long long g_ = (long long)(got), w_ = (long long)(want);                          \
        if (!ok_at(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))                            \
            printf("#   got: %lld\n#   expected: %lld\n", g_, w_);                        \
    } while (0)

#define is_str(got, want, ...)                                                            \
    do {                                                                                  \
        const char *g_ = (got), *w_ = (want);                                             \
        int eq_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                            \
        if (!ok_at(eq_, __FILE__, __LINE__, __VA_ARGS__))                                 \
            printf("#   got: '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)",             \
                   w_ ? w_ : "(null)");                                                   \
    } while (0)

#define is_mem(got, want, n, ...)                                                          \
    ok_at(memcmp((got), (want), (n)) == 0, __FILE__, __LINE__, __VA_ARGS__)

static inline int done_testing(void)
{
    if (!tap_planned)
        printf("1..%d\n", tap_run);
    else if (tap_planned != tap_run)
        printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
    fflush(stdout);
    return (tap_failed || (tap_planned && tap_planned != tap_run)) ? 1 : 0;
}

#endif
