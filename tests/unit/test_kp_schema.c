/* The generated descriptors match Kafka's JSON schemas, field by field and
 * version by version, and every schema file has a descriptor. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kafka_schema.h"
#include "proto/kp_schema_check.h"
#include "tap.h"

static const char *const subdirs[] = { "message", "metadata", "group-coordinator",
                                       "transaction-coordinator" };

int main(void)
{
    const char *top = getenv("SLUICE_TOP_SRCDIR");
    char base[4096], dir[4200], path[4500], err[512];
    snprintf(base, sizeof base, "%s/../shared/kafka-protocol", top ? top : ".");
    snprintf(dir, sizeof dir, "%s/message", base);
    DIR *probe = opendir(dir);
    if (!probe)
        skip_all("Kafka JSON schemas not found beside the source tree");
    closedir(probe);

    size_t files = 0;
    for (size_t d = 0; d < sizeof subdirs / sizeof subdirs[0]; d++) {
        snprintf(dir, sizeof dir, "%s/%s", base, subdirs[d]);
        DIR *dh = opendir(dir);
        if (!dh)
            continue;
        struct dirent *de;
        while ((de = readdir(dh))) {
            size_t n = strlen(de->d_name);
            if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            err[0] = '\0';
            int rc = kp_schema_check_file(path, 0, -1, err, sizeof err);
            ok(rc == 0, "%s/%s matches its descriptor", subdirs[d], de->d_name);
            if (rc)
                diag("%s", err);
            files++;
        }
        closedir(dh);
    }
    is_int(files, kp_n_messages, "one descriptor per schema file");

    /* The checker itself must notice a difference: a restricted range still
     * passes, and a doctored schema fails. */
    snprintf(path, sizeof path, "%s/message/ProduceRequest.json", base);
    is_int(kp_schema_check_file(path, 3, 9, err, sizeof err), 0, "Produce v3-9 only");
    FILE *in = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n = in ? fread(buf, 1, (1 << 20) - 1, in) : 0;
    if (in)
        fclose(in);
    char *at = strstr(buf, "\"name\": \"Acks\", \"type\": \"int16\"");
    ok(at != NULL, "found Acks in ProduceRequest.json");
    if (at) {
        memcpy(strstr(at, "int16"), "int32", 5);
        char tmp[] = "/tmp/kp_schema_XXXXXX";
        int fd = mkstemp(tmp);
        FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (out) {
            fwrite(buf, 1, n, out);
            fclose(out);
        }
        is_int(kp_schema_check_file(tmp, 0, -1, err, sizeof err), 1, "doctored type detected");
        ok(strstr(err, "Acks") != NULL, "error names the field: %s", err);
        remove(tmp);
    }
    free(buf);
    is_int(kp_schema_check_file("/nonexistent.json", 0, -1, err, sizeof err), -1,
           "missing file is an error");
    return done_testing();
}
