/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run.h - run a command line for tests and capture its output and status.
 */
#ifndef VIGIL_TEST_RUN_H
#define VIGIL_TEST_RUN_H

/* Runs `sh -c cmd`, returns its exit status (or -1); *out gets stdout
 * (malloc'd, NUL-terminated; free it) when out is non-NULL. */
int tu_run(const char *cmd, char **out);

#endif
