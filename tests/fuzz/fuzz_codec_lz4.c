/* libFuzzer target: the codec_lz4 module's decompressor on arbitrary bytes
 * (module source linked in, tiny fake host; see fuzz_codec_host.h). */
#include "fuzz_codec_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_codec_one(data, size);
}
