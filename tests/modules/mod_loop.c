/* Test module: exercises the host loop API and config accessors, reporting
 * everything through host->log so the test can assert on the lines:
 *   - config: "greeting=<s> flag=<b> count=<n>"
 *   - a repeating timer that stops itself after 3 ticks: "timer ticks=3"
 *   - a module thread that post()s back: "post on loop thread=1"
 *   - an io watcher on a pipe the thread writes to: "io revents=1 byte=x"
 * Without an event loop, init fails with "needs an event loop". */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <sluice/plugin.h>

struct loop_state {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    pthread_t loop_thread, worker;
    int worker_started;
    struct sluice_timer *timer;
    struct sluice_io *io;
    int ticks;
    int fds[2];
};

static void on_tick(void *ud)
{
    struct loop_state *st = ud;
    if (++st->ticks == 3) {
        st->host->timer_stop(st->ctx, st->timer); /* from inside its own callback */
        st->timer = NULL;
        st->host->log(st->ctx, SLUICE_LOG_INFO, "timer ticks=%d", st->ticks);
    }
}

static void on_post(void *ud)
{
    struct loop_state *st = ud;
    st->host->log(st->ctx, SLUICE_LOG_INFO, "post on loop thread=%d",
                  pthread_equal(pthread_self(), st->loop_thread) ? 1 : 0);
}

static void on_io(void *ud, int fd, int revents)
{
    struct loop_state *st = ud;
    char c = '?';
    if (read(fd, &c, 1) != 1)
        c = '!';
    st->host->log(st->ctx, SLUICE_LOG_INFO, "io revents=%d byte=%c", revents, c);
    st->host->io_stop(st->ctx, st->io);
    st->io = NULL;
}

static void *worker(void *ud)
{
    struct loop_state *st = ud;
    st->host->post(st->ctx, on_post, st);
    if (write(st->fds[1], "x", 1) != 1)
        st->host->log(st->ctx, SLUICE_LOG_ERROR, "pipe write failed");
    return NULL;
}

static int loop_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                     size_t errlen)
{
    int64_t count;
    int flag;
    const char *greeting = host->config_get_string(ctx, "greeting", "none");
    if (host->config_get_int(ctx, "count", 7, &count) != 0) {
        snprintf(err, errlen, "count is not an integer");
        return SLUICE_ERR_INVALID;
    }
    if (host->config_get_bool(ctx, "flag", 0, &flag) != 0) {
        snprintf(err, errlen, "flag is not a boolean");
        return SLUICE_ERR_INVALID;
    }
    host->log(ctx, SLUICE_LOG_INFO, "greeting=%s flag=%d count=%lld", greeting, flag,
              (long long)count);

    struct loop_state *st = host->alloc(ctx, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    *st = (struct loop_state){.host = host, .ctx = ctx, .loop_thread = pthread_self()};
    st->fds[0] = st->fds[1] = -1;
    st->timer = host->timer_start(ctx, 1, 1, on_tick, st);
    if (!st->timer) {
        host->free(ctx, st);
        snprintf(err, errlen, "needs an event loop");
        return SLUICE_ERR_UNSUPPORTED;
    }
    host->set_data(ctx, st);
    if (pipe(st->fds) != 0 ||
        !(st->io = host->io_start(ctx, st->fds[0], SLUICE_IO_READ, on_io, st)) ||
        pthread_create(&st->worker, NULL, worker, st) != 0) {
        snprintf(err, errlen, "setup failed");
        /* init failing means no fini: undo by hand.  The host frees the
         * still-open timer/io handles after a failed init. */
        if (st->fds[0] >= 0) {
            close(st->fds[0]);
            close(st->fds[1]);
        }
        host->free(ctx, st);
        return SLUICE_ERR_GENERIC;
    }
    st->worker_started = 1;
    return 0;
}

static void loop_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    struct loop_state *st = host->get_data(ctx);
    if (st->worker_started)
        pthread_join(st->worker, NULL);
    if (st->timer)
        host->timer_stop(ctx, st->timer);
    if (st->io)
        host->io_stop(ctx, st->io);
    close(st->fds[0]);
    close(st->fds[1]);
    host->log(ctx, SLUICE_LOG_INFO, "fini ticks=%d", st->ticks);
    host->free(ctx, st);
}

SLUICE_MODULE_DECLARE("mod_loop", "0.0.1", SLUICE_KIND_SERVICE, loop_init, loop_fini,
                      "loop API exerciser");
