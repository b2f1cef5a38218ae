/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/signals.h - the text-signal and policy engines the handlers of
 * h_signals.c share, opened once per server.
 */
#ifndef VIGIL_SERVER_SIGNALS_H
#define VIGIL_SERVER_SIGNALS_H

#include "common/internal.h"
#include "vigil/server.h"

typedef struct vigil__signals vigil__signals;
/* policy_path NULL: the shipped default policy. */
int vigil__signals_open(vigil__signals **out, const char *policy_path, vigil_error *err);
void vigil__signals_close(vigil__signals *s);
vigil__signals *vigil__server_signals(vigil_server *srv);

#endif
