/* Starting the build's sluiced for a benchmark: write `config` (the whole
 * properties text) to DIR/sluice.properties, run sluiced with
 * --port-file DIR/port (output in DIR/sluiced.log) and wait up to 30 s for
 * the port file to list `nports` listeners; their ports go to ports[] in
 * listener order.  Exits the benchmark on failure.  Header-only: each
 * benchmark is one program. */
#ifndef SLUICE_BENCH_SLUICED_H
#define SLUICE_BENCH_SLUICED_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static pid_t bench_start_sluiced(const char *path, const char *dir, const char *config, int *ports,
                                 int nports)
{
    char conf[512], portfile[512], log[512];
    snprintf(conf, sizeof conf, "%s/sluice.properties", dir);
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(log, sizeof log, "%s/sluiced.log", dir);
    FILE *f = fopen(conf, "w");
    if (!f || fputs(config, f) < 0 || fclose(f) != 0) {
        perror(conf);
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr))
            _exit(127);
        execl(path, path, "-c", conf, "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600; i++) {
        FILE *pf = fopen(portfile, "r");
        int got = 0;
        char name[64];
        while (pf && got < nports && fscanf(pf, "%63s %d", name, &ports[got]) == 2)
            got++;
        if (pf)
            fclose(pf);
        if (got == nports)
            return pid;
        usleep(50000);
    }
    fprintf(stderr, "%s did not start (log %s)\n", path, log);
    kill(pid, SIGKILL);
    exit(1);
}

#endif
