/* libFuzzer target for the SCRAM parsers of sasl_scram (client-first,
 * client-final, base64, stored credentials): any input must parse or fail
 * without memory errors; what parses must be self-consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scram_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct scram_client_first cf;
    if (scram_parse_client_first(data, size, &cf, err, sizeof err) == 0) {
        if (cf.gs2_len > size || cf.bare_off > size || !cf.user[0] || !cf.nonce[0])
            abort();
    }
    struct scram_client_final fin;
    if (scram_parse_client_final(data, size, &fin, err, sizeof err) == 0) {
        if (fin.without_proof_len >= size || fin.proof_len == 0 ||
            fin.proof_len > sizeof fin.proof)
            abort();
    }
    uint8_t out[512];
    long n = scram_b64_decode((const char *)data, size, out, sizeof out);
    if (n >= 0) {
        char back[1024];
        uint8_t again[512];
        size_t m = scram_b64_encode(out, (size_t)n, back);
        if (m != size || scram_b64_decode(back, m, again, sizeof again) != n ||
            memcmp(again, out, (size_t)n) != 0)
            abort(); /* decode(encode(x)) == x, same length as the input */
    }
    struct scram_credential c;
    for (size_t hl = 32; hl <= 64; hl += 32) {
        if (scram_cred_decode((const char *)data, size, hl, &c) == 0) {
            char text[512];
            size_t tl = scram_cred_encode(&c, text, sizeof text);
            struct scram_credential again;
            if (!tl || scram_cred_decode(text, tl, hl, &again) != 0 ||
                again.iterations != c.iterations || again.salt_len != c.salt_len ||
                memcmp(again.stored_key, c.stored_key, hl) != 0)
                abort();
        }
    }
    return 0;
}
