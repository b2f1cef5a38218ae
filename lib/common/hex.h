/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex.h - lower-case hex text of bytes and back, one way for all of lib/.
 *
 * Hashes (PDQ, MD5, SHA-256), API key ids and PostgreSQL's bytea all travel
 * as hex; one encoder and one strict decoder mean one set of rules: output
 * is lower case, input may be either case, and anything else is an error
 * with the position of the first bad digit, never a silently wrong byte.
 */
#ifndef VIGIL_COMMON_HEX_H
#define VIGIL_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*n lower-case hex digits of in[0..n) and a NUL into out. */
void vigil__hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes the 2*n hex digits hex[0..2n) (either case) into out[0..n).
 * VIGIL_OK, or VIGIL_EINVAL with *bad (if given) set to the 0-based position
 * of the first character that is not a hex digit; out is then partly
 * written.  Sets no error message: callers say what the value was. */
int vigil__hex_decode(const char *hex, size_t n, uint8_t *out, size_t *bad);

#endif
