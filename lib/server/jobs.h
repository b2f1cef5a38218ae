/*
 * server/jobs.h - asynchronous jobs: an upload hashed or matched after the
 * answer, its result kept in the service database (jobs.c).
 */
#ifndef VIGIL_SERVER_JOBS_H
#define VIGIL_SERVER_JOBS_H

#include "server/req.h"

typedef struct vigil__jobs vigil__jobs;

vigil__jobs *vigil__server_jobs(vigil_server *srv);
const vigil_server_config *vigil__server_config(vigil_server *srv);

#endif
