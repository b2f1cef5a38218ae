/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.c - see crypto.h.
 */
#include "common/crypto.h"

#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
  OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS |
                          OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                      NULL);
  /* the digests' first fetch fills OpenSSL's method cache (a write lock) */
  unsigned char d[EVP_MAX_MD_SIZE], b;
  unsigned int n;
  EVP_Digest("", 0, d, &n, EVP_md5(), NULL);
  EVP_Digest("", 0, d, &n, EVP_sha256(), NULL);
  RAND_bytes(&b, 1);
}

void vigil__crypto_init(void) { pthread_once(&once, init); }
