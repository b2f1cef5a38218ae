/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rfc3339.h - the one time format vigil shows outside: RFC 3339 in UTC with
 * milliseconds ("2026-11-20T08:15:02.000Z").
 *
 * Times are stored as Unix integers (seconds in some tables, milliseconds
 * in the outbox's), which keeps SQL comparisons simple and engine-neutral;
 * they become text only at the edge, in API answers and webhook bodies.
 * lib/report needs the conversion as much as lib/server, so it lives here
 * rather than in the server's store.
 */
#ifndef VIGIL_COMMON_RFC3339_H
#define VIGIL_COMMON_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* Room for the text (24 characters) and the NUL, with a margin. */
#define VIGIL__RFC3339_MAX 48

/* Writes unix_ms (milliseconds since the epoch, may be negative) as RFC
 * 3339 UTC with milliseconds into out.  VIGIL_OK, or VIGIL_EINVAL (out is
 * then "") for a time outside the years 0000-9999.  Sets no error message. */
int vigil__rfc3339_ms(int64_t unix_ms, char out[VIGIL__RFC3339_MAX]);

#endif
