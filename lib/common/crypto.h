/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.h - OpenSSL made ready once, before threads and forks need it.
 *
 * The video sandbox forks without exec: the child has only the forking
 * thread, and every lock another thread held at the fork stays held in it
 * for ever.  OpenSSL initialises itself lazily, under its own locks, at the
 * first call that needs a part of it (a digest, random bytes, curl's TLS),
 * so a fork made while another thread was in such a first call left a
 * child hung in OPENSSL_init_crypto (seen in test_server_jobs_crash).  All
 * of that initialisation is done here, at once, from a single thread where
 * possible (vigil_server_start calls it before it starts any), and before
 * each fork; after it, OpenSSL takes no lock to initialise anything.
 */
#ifndef VIGIL_COMMON_CRYPTO_H
#define VIGIL_COMMON_CRYPTO_H

/* Idempotent and thread-safe: OpenSSL's configuration, ciphers, digests and
 * error strings loaded, MD5 and SHA-256 fetched once, the random generator
 * seeded. */
void vigil__crypto_init(void);

#endif
