/* libFuzzer target for the SluiceModuleRecord decoder (metadata record type
 * 10000): any body must decode or fail without memory errors; a decoded
 * record must satisfy the limits, apply to an image, read back equal, and
 * re-encode to exactly the input when it carried no tagged fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/metadata_image.h"
#include "meta/module_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct wire_reader r;
    wire_reader_init(&r, data, size);
    struct meta_module_record rec;
    if (module_record_decode(&r, 0, &a, &rec) == 0) {
        char err[128];
        if (module_record_check(&rec, err, sizeof err) != 0)
            abort();
        struct meta_image img;
        memset(&img, 0, sizeof img);
        meta_module_records_init(&img);
        if (meta_image_apply_module_record(&img, &rec) != 0)
            abort();
        size_t len = 0;
        const uint8_t *v = meta_module_record_get(&img, rec.module, rec.key, &len);
        if (rec.value_len < 0 ? v != NULL
                              : (!v || len != (size_t)rec.value_len ||
                                 (len && memcmp(v, rec.value, len) != 0)))
            abort();
        meta_module_records_free(&img);
        struct wire_writer w;
        wire_writer_init(&w);
        if (module_record_encode(&w, 0, &rec) != 0)
            abort();
        if (size > 0 && data[size - 1] == 0 && w.len == size && memcmp(w.buf, data, size) != 0)
            abort();
        wire_writer_free(&w);
    }
    kp_arena_free(&a);
    return 0;
}
