/* CRC-32C vectors for both the SSE4.2 and the table implementation. */
#include "util/crc32c.h"
#include "tap.h"

#include <stdint.h>

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check(const char *name, crc_fn f)
{
    is_int(f(0, "123456789", 9), 0xE3069283u, "%s: \"123456789\"", name);
    is_int(f(0, "", 0), 0, "%s: empty", name);
    uint8_t zeros[32] = { 0 }, ones[32], inc[32], dec[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++) {
        inc[i] = (uint8_t)i;
        dec[i] = (uint8_t)(31 - i);
    }
    /* RFC 3720 (iSCSI) appendix B.4 vectors. */
    is_int(f(0, zeros, 32), 0x8A9136AAu, "%s: 32 zero bytes", name);
    is_int(f(0, ones, 32), 0x62A8AB43u, "%s: 32 0xff bytes", name);
    is_int(f(0, inc, 32), 0x46DD794Eu, "%s: 0..31", name);
    is_int(f(0, dec, 32), 0x113FDB5Cu, "%s: 31..0", name);
    /* Chaining and unaligned starts must agree with one pass. */
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = f(0, buf, sizeof buf);
    int chained_ok = 1;
    for (size_t cut = 0; cut <= 1000; cut += 37)
        if (f(f(0, buf, cut), buf + cut, 1000 - cut) != whole)
            chained_ok = 0;
    ok(chained_ok, "%s: chained == whole at every split", name);
    is_int(f(0, buf + 3, 997), crc32c_sw(0, buf + 3, 997), "%s: unaligned == sw", name);
}

int main(void)
{
    check("sw", crc32c_sw);
    if (crc32c_hw_available())
        check("hw", crc32c_hw);
    else
        diag("no SSE4.2: hardware path not tested");
    check("dispatch", crc32c);
    return done_testing();
}
