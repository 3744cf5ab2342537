/* CRC-32C (Castagnoli), the checksum of Kafka record batches (v2).
 *
 * crc32c(0, p, n) is the CRC of p[0..n); the pre/post inversion is done
 * inside, so a running CRC chains: crc32c(crc32c(0, a, na), b, nb) ==
 * crc32c(0, ab, na + nb).  Uses the SSE4.2 crc32 instruction when the CPU
 * has it, else a slicing-by-8 table. */
#ifndef SLUICE_CRC32C_H
#define SLUICE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* The two implementations, exposed so tests can check both against the same
 * vectors.  crc32c_hw() must only be called when crc32c_hw_available(). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);
uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n);
int crc32c_hw_available(void);

#endif
