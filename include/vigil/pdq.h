/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/pdq.h - PDQ perceptual image hashes (256 bits), bit-exact with the
 * reference implementation in facebook/ThreatExchange pdq/cpp.
 *
 * A hash is stored as 32 bytes in the order the reference prints it: byte 0
 * holds the two first hex digits.  Hash bit k (k = 16*row + col of the 16x16
 * DCT block) is bit (k % 8) of byte 31 - k/8.  Two hashes match when their
 * Hamming distance is at most VIGIL_PDQ_MATCH_THRESHOLD; hashes whose
 * quality is below VIGIL_PDQ_MIN_QUALITY should not be matched.
 *
 * Threads: every function may be called from any number of threads at
 * once.  What the hashing code shares is built once (the DCT matrix and
 * luma tables, under pthread_once) and then only read; its row buffers are
 * kept per thread between pictures and freed when the thread exits.
 *
 * Ownership: pixels and hashes are only read during a call; results go
 * into the caller's structures.  Nothing is allocated for the caller and
 * nothing is kept.  Returned names are static strings.
 */
#ifndef VIGIL_PDQ_H
#define VIGIL_PDQ_H

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_PDQ_BYTES 32
#define VIGIL_PDQ_HEX_LEN 64
#define VIGIL_PDQ_MATCH_THRESHOLD 31
#define VIGIL_PDQ_MIN_QUALITY 50

typedef struct vigil_pdq_hash {
  uint8_t bytes[VIGIL_PDQ_BYTES];
} vigil_pdq_hash;

/* The 8 dihedral variants, in the reference's order and naming. */
enum vigil_dihedral {
  VIGIL_DIH_ORIG = 0,
  VIGIL_DIH_ROT90,      /* 90 degrees counter-clockwise */
  VIGIL_DIH_ROT180,
  VIGIL_DIH_ROT270,     /* 90 degrees clockwise */
  VIGIL_DIH_FLIPX,      /* top and bottom swapped */
  VIGIL_DIH_FLIPY,      /* mirror image (left and right swapped) */
  VIGIL_DIH_FLIPPLUS1,  /* transpose */
  VIGIL_DIH_FLIPMINUS1, /* anti-transpose */
  VIGIL_DIH_COUNT
};

/* Result of hashing one picture. */
typedef struct vigil_pdq_result {
  vigil_pdq_hash hash[VIGIL_DIH_COUNT]; /* hash[0] always; all 8 with dihedral */
  int quality;                          /* 0..100 */
  int nhashes;                          /* 1, or 8 when dihedral variants were asked for */
} vigil_pdq_result;

/* How a decoded picture reaches the PDQ core (vigil_hash_opts in media.h). */
typedef enum vigil_hash_mode {
  VIGIL_MODE_FULLRES = 0, /* full-resolution RGB, as python-threatexchange and HMA */
  VIGIL_MODE_CLI = 1      /* as the reference pdq-photo-hasher: 512x512 pre-resize */
} vigil_hash_mode;

/* Short name of a dihedral variant ("orig", "rot90", ...); NULL if out of range. */
VIGIL_API const char *vigil_dihedral_name(int variant);

/* Number of differing bits, 0..256. */
VIGIL_API int vigil_pdq_distance(const vigil_pdq_hash *a, const vigil_pdq_hash *b);

/* Writes 64 lower-case hex digits and a NUL into out. */
VIGIL_API void vigil_pdq_to_hex(const vigil_pdq_hash *h, char out[VIGIL_PDQ_HEX_LEN + 1]);

/* Parses exactly 64 hex digits (either case) of hex[0..len); VIGIL_EINVAL otherwise. */
VIGIL_API int vigil_pdq_from_hex(const char *hex, size_t len, vigil_pdq_hash *out, vigil_error *err);

/*
 * Hash raw pixels.  rgb: rows of 3 bytes per pixel (R, G, B), `stride` bytes
 * apart.  grey: one byte per pixel.  luma: floats, `stride` floats apart.
 * Pictures with a side under 5 pixels hash to all zeros with quality 0, as in
 * the reference.  dihedral != 0 also fills the 7 other variants.
 */
VIGIL_API int vigil_pdq_hash_rgb(const uint8_t *rgb, int width, int height, size_t stride, int dihedral,
                       vigil_pdq_result *out, vigil_error *err);
VIGIL_API int vigil_pdq_hash_grey(const uint8_t *grey, int width, int height, size_t stride, int dihedral,
                        vigil_pdq_result *out, vigil_error *err);
VIGIL_API int vigil_pdq_hash_luma(const float *luma, int width, int height, size_t stride, int dihedral,
                        vigil_pdq_result *out, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
