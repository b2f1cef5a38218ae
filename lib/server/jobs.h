/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/jobs.h - asynchronous jobs: an upload hashed or matched after the
 * answer, its result kept in the service database (jobs.c).
 *
 * POST /v1/jobs (or ?async=true on /v1/hash and /v1/match) keeps the
 * upload in the node's jobs directory, writes a row in server_jobs and
 * answers 202 with the job's id; GET /v1/jobs/{id} gives its state and,
 * once done, the answer the synchronous call would have given.  A job
 * acknowledged is never silently lost: after a crash (kill -9) and a
 * restart the node runs its jobs again (at most VIGIL__JOB_ATTEMPTS
 * times) or marks them failed, saying why.
 */
#ifndef VIGIL_SERVER_JOBS_H
#define VIGIL_SERVER_JOBS_H

#include "server/req.h"

/* Runs of one job (each start after a crash counts) before it is failed. */
#define VIGIL__JOB_ATTEMPTS 3

typedef struct vigil__jobs vigil__jobs;

/* Makes the node's jobs directory if needed, locks it for this server's
 * life (one process per jobs directory: a second server on it is refused
 * with VIGIL_EINVAL, naming it) and reads or makes the node id kept in it.
 * Called first at start, once the store is open, so that a refused server
 * has touched nothing the running one uses. */
int vigil__jobs_open(vigil__jobs **out, vigil_server *srv, vigil_error *err);
/* Creates the jobs table if needed, recovers this node's jobs a crash
 * interrupted, and starts the config's video_workers job threads.  On
 * failure j is left for vigil__jobs_stop. */
int vigil__jobs_start(vigil__jobs *j, vigil_error *err);
/* Stops the job threads (a job cut short stays queued for the next start),
 * releases the directory's lock and frees j.  NULL is fine. */
void vigil__jobs_stop(vigil__jobs *j);

/* Queues r's upload as a job of kind "hash" or "match" and answers 202
 * (or 503 + Retry-After when this node's queue is full). */
int vigil__jobs_submit(vigil__req *r, const char *kind);
/* 1 when r asks for ?async=true (0 absent or false; 400 and -1 otherwise). */
int vigil__jobs_async(vigil__req *r);

vigil__jobs *vigil__server_jobs(vigil_server *srv);
const vigil_server_config *vigil__server_config(vigil_server *srv);
/* What the core does after a handler answered: the audit row (a match that
 * opened a case); for a request run as a job. */
void vigil__server_after_detached(vigil__req *r);

#endif
