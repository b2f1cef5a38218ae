/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.c - the version of the library that is loaded (see vigil/common.h).
 *
 * The numbers come from the generated vigil/version.h, i.e. from the CMake
 * project version, so a program can compare the headers it was built with
 * (VIGIL_VERSION_NUMBER) with the shared library it runs against.
 */
#include "vigil/common.h"

const char *vigil_version(void) {
  return VIGIL_VERSION_STRING;
}

unsigned vigil_version_number(void) {
  return (unsigned)VIGIL_VERSION_NUMBER;
}
