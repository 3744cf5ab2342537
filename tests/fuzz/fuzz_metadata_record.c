/* libFuzzer target for metadata log records (core/meta/metadata_record.h):
 * whatever value a damaged or foreign __cluster_metadata log holds must be
 * applied or refused with a message, never crash, and leave an image whose
 * topics and partitions can be walked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/metadata_image.h"
#include "meta/metadata_record.h"
#include "meta/module_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct meta_image img;
    meta_image_init(&img);
    /* Several records per input (split at 0xff 0xfe) so sequences such as
     * a topic, its partitions and its removal get exercised. */
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && !(i + 1 < size && data[i] == 0xff && data[i + 1] == 0xfe))
            continue;
        char err[256] = "";
        if (meta_record_apply_value(&img, data + start, (int32_t)(i - start), (int64_t)start, err,
                                    sizeof err) < 0 &&
            err[0] == '\0')
            abort(); /* a refusal always says why */
        start = i + 2;
        i++;
    }
    size_t iter = 0, n = 0;
    for (struct meta_topic *t; (t = meta_image_next_topic(&img, &iter)) != NULL;)
        n++;
    if (n != meta_image_topic_count(&img))
        abort();
    meta_image_free(&img);
    return 0;
}
