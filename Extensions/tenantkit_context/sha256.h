/* SHA-256 (FIPS 180-4) with access to the chaining state, which HMAC with fixed pads needs. */
#ifndef TENANTKIT_SHA256_H
#define TENANTKIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256State { uint32_t h[8]; } Sha256State;

/* The state after hashing one 64-byte block from the initial value. */
void		sha256_after_block(Sha256State *state, const uint8_t block[64]);

/* Finishes a hash whose first `prefix_blocks` 64-byte blocks are already in `state`. */
void		sha256_finish(const Sha256State *state, int prefix_blocks, const uint8_t *data, size_t length,
						  uint8_t digest[32]);

#endif
