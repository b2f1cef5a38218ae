/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ftyp.c - the major brands of still-picture ISO base media files (ftyp.h
 * says why they are told apart from video).
 */
#include "common/ftyp.h"

#include <string.h>

vigil__ftyp_image vigil__ftyp_brand_image(const char brand[4]) {
  static const struct {
    char brand[5];
    vigil__ftyp_image kind;
  } brands[] = {
      {"heic", VIGIL__FTYP_HEIC}, {"heix", VIGIL__FTYP_HEIC}, {"heim", VIGIL__FTYP_HEIC}, {"heis", VIGIL__FTYP_HEIC},
      {"hevc", VIGIL__FTYP_HEIC}, {"hevx", VIGIL__FTYP_HEIC}, {"hevm", VIGIL__FTYP_HEIC}, {"hevs", VIGIL__FTYP_HEIC},
      {"mif1", VIGIL__FTYP_HEIF}, {"mif2", VIGIL__FTYP_HEIF}, {"msf1", VIGIL__FTYP_HEIF}, {"avif", VIGIL__FTYP_AVIF},
      {"avis", VIGIL__FTYP_AVIF},
  };
  for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
    if (!memcmp(brand, brands[i].brand, 4)) return brands[i].kind;
  return VIGIL__FTYP_NONE;
}

vigil__ftyp_image vigil__ftyp_image_of(const uint8_t *p, size_t n) {
  if (!p || n < 12 || memcmp(p + 4, "ftyp", 4)) return VIGIL__FTYP_NONE;
  return vigil__ftyp_brand_image((const char *)p + 8);
}

const char *vigil__ftyp_image_name(vigil__ftyp_image k) {
  switch (k) {
  case VIGIL__FTYP_HEIC: return "HEIF (HEIC)";
  case VIGIL__FTYP_HEIF: return "HEIF";
  case VIGIL__FTYP_AVIF: return "AVIF";
  default: return NULL;
  }
}
