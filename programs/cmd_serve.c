/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_serve.c - `vigil serve`: runs the HTTP service until SIGTERM/SIGINT.
 *
 * The termination signals are blocked before any server thread exists, so
 * every thread inherits the mask and only the main thread, in sigwait(),
 * ever sees them; a stop is then an ordinary function call (finish the
 * requests in flight, close), not work inside a signal handler.
 *
 * Bootstrap: when the key table is empty, an admin key is created and
 * printed once on stdout (and written to --admin-key-file, mode 0600).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/server.h"


static const char serve_help[] =
    "usage: vigil serve [options]\n"
    "\n"
    "Run the HTTP service (see docs/server.md).  Logs one JSON line per request\n"
    "on stderr.  SIGTERM or SIGINT stops it after the requests in flight finish.\n"
    "When the database has no API key yet, an admin key is created and printed\n"
    "once on stdout.\n"
    "\n"
    "options:\n"
    "  --listen HOST:PORT     address to listen on (default 127.0.0.1:8080;\n"
    "                         port 0 picks a free port)\n"
    "  --db LOCATION          service database: a SQLite file, or postgresql://... to\n"
    "                         share banks, cases and audit between nodes\n"
    "                         (default $VIGIL_DB, else ./vigil.db)\n"
    "  --threads N            worker threads (default: number of CPUs)\n"
    "  --max-body BYTES       largest request body (default 50000000)\n"
    "  --max-json BYTES       largest JSON request body (default 1048576)\n"
    "  --max-connections N    concurrent connections (default 1024)\n"
    "  --max-per-ip N         concurrent connections from one address (default 64;\n"
    "                         0: no limit, for a proxy in front)\n"
    "  --timeout SECONDS      idle connection timeout: every byte received starts it\n"
    "                         again (default 30)\n"
    "  --header-timeout S     a request's headers must be in within S seconds of the\n"
    "                         connection's start or its previous request's end, else\n"
    "                         the connection is closed (default 15; 0: no deadline)\n"
    "  --body-min-rate B      a request body must average B bytes/s once the header\n"
    "                         deadline has passed, else the connection is closed\n"
    "                         (default 1024; 0: no minimum)\n"
    "  --max-decodes N        pictures decoded at once (default: CPUs, at most 16)\n"
    "  --decode-queue N       uploads waiting for a decode before 503 (default 64)\n"
    "  --decode-memory BYTES  memory all decodes together may use (default 2 GiB)\n"
    "  --tls-cert FILE        PEM certificate: serve HTTPS (needs --tls-key)\n"
    "  --tls-key FILE         PEM private key\n"
    "  --admin-key-file FILE  write the bootstrap admin key here too (mode 0600)\n"
    "  --port-file FILE       write the bound port here once listening\n"
    "  --policy FILE          minor-safety policy file (default: the shipped policy)\n"
    "  --report-config FILE   outbox and webhook settings, JSON (docs/report.md)\n"
    "  --evidence-dir DIR     keep the media of uploads that open review cases in DIR\n"
    "                         (mode 0700; default: media is never kept)\n"
    "  --init                 create the database when there is none (without it a\n"
    "                         missing database is an error, never an empty one)\n"
    "  --hma-anonymous ADDRS  let these client addresses (comma-separated) call the HMA\n"
    "                         lookups (/m/...) without a key, as HMA clients do (off)\n"
    "  --session-idle S       a review console session ends after S seconds unused\n"
    "                         (default 1800)\n"
    "  --session-max S        ...and S seconds after sign-in in any case (default 43200)\n"
    "  --sso-header NAME      single sign-on: sign in the account this header names\n"
    "                         (e.g. X-Forwarded-User), set by an authenticating proxy\n"
    "  --sso-proxies ADDRS    ...taken only from these proxy addresses (comma-separated)\n"
    "  --no-group-sightings   one case per upload: a repeat of content with an undecided\n"
    "                         case opens another instead of adding a sighting to it\n"
    "                         (by default each piece of content is one case)\n"
    "  --max-video BYTES      largest video upload, spooled to a private temporary\n"
    "                         file, never held in memory (default 2000000000)\n"
    "  --spool-dir DIR        where video uploads are spooled (default $TMPDIR or /tmp)\n"
    "  --video-workers N      videos hashed at once, requests and jobs together\n"
    "                         (default 1); image matching never waits for them\n"
    "  --video-queue N        video requests waiting for a slot before 503 (default 4)\n"
    "  --job-queue N          asynchronous jobs waiting on this node before 503\n"
    "                         (default 32)\n"
    "  --job-keep SECONDS     finished jobs and their results are kept this long\n"
    "                         (default 86400)\n"
    "  --jobs-dir DIR         the inputs of waiting jobs and this node's id (default\n"
    "                         DB.jobs beside a SQLite file, $TMPDIR/vigil-jobs for\n"
    "                         PostgreSQL); one process per directory: a second\n"
    "                         server on it is refused, so give each its own\n"
    "  --vpdq-index FILE      the video index kept between runs, loaded at start\n"
    "                         when it matches the banks (default DB.vpdq-index\n"
    "                         beside a SQLite file, none for PostgreSQL; off: none)\n"
    "  --quiet                no per-request log lines\n"
    "  -h, --help             this text\n";

static void log_line(const char *msg, const char *addr) {
  json_t *o = json_pack("{s:s, s:s, s:s?}", "level", "info", "msg", msg, "addr", addr);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) fprintf(stderr, "%s\n", s);
  free(s);
  json_decref(o);
}

/* Never through a symbolic link (a key written where someone else points
 * it), only into a regular file, and with mode applied even to a file that
 * existed with a wider one. */
static int write_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
  if (fd < 0) return -1;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  if (fchmod(fd, mode) != 0 || ftruncate(fd, 0) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  size_t n = strlen(text);
  int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
  return close(fd) == 0 && ok ? 0 : -1;
}

static int bootstrap(const char *db, const char *key_file) {
  vigil_server_store *st;
  vigil_error err;
  if (vigil_server_store_open(&st, db, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    return -1;
  }
  int64_t n = 0;
  int rc = vigil_key_count(st, &n, &err);
  if (rc == VIGIL_OK && n == 0) {
    char key[VIGIL_KEY_MAX], line[VIGIL_KEY_MAX + 2];
    vigil_key_info info;
    rc = vigil_key_create(st, VIGIL_ROLE_ADMIN, "bootstrap", key, &info, &err);
    if (rc == VIGIL_OK) {
      printf("vigil: no API keys yet; created admin key %s (shown once, store it now):\n%s\n", info.id, key);
      if (fflush(stdout) != 0 || ferror(stdout)) /* the only copy did not get out */
        cli_error("could not print the bootstrap key %s; revoke it and create another with vigil keys", info.id);
      snprintf(line, sizeof line, "%s\n", key);
      if (key_file && write_file(key_file, line, 0600) != 0) {
        cli_error("--admin-key-file %s: %s", key_file, strerror(errno));
        rc = VIGIL_EIO;
      }
    }
  }
  if (rc && rc != VIGIL_EIO) cli_error("%s", err.message);
  vigil_server_store_close(st);
  return rc ? -1 : 0;
}

int cmd_serve(int argc, char **argv) {
  enum { OPT_POLICY = 300, OPT_EVIDENCE, OPT_REPORTCFG, OPT_HMAANON, OPT_SESSIDLE, OPT_SESSMAX, OPT_SSOHDR, OPT_SSOPROXY, OPT_GROUP, OPT_NOGROUP, OPT_LISTEN = 256, OPT_DB, OPT_THREADS, OPT_MAXBODY, OPT_MAXJSON, OPT_MAXCONN, OPT_MAXIP, OPT_TIMEOUT,
         OPT_CERT, OPT_KEY, OPT_KEYFILE, OPT_PORTFILE, OPT_QUIET, OPT_DECODES, OPT_DQUEUE, OPT_DMEM, OPT_INIT,
         OPT_MAXVIDEO = 400, OPT_SPOOL, OPT_VWORKERS, OPT_VQUEUE, OPT_JQUEUE, OPT_JKEEP, OPT_JDIR, OPT_VINDEX, OPT_HDRTMO, OPT_BODYRATE };
  static const struct option longopts[] = {
      {"listen", required_argument, 0, OPT_LISTEN},
      {"db", required_argument, 0, OPT_DB},
      {"threads", required_argument, 0, OPT_THREADS},
      {"max-body", required_argument, 0, OPT_MAXBODY},
      {"max-json", required_argument, 0, OPT_MAXJSON},
      {"max-connections", required_argument, 0, OPT_MAXCONN},
      {"max-per-ip", required_argument, 0, OPT_MAXIP},
      {"timeout", required_argument, 0, OPT_TIMEOUT},
      {"tls-cert", required_argument, 0, OPT_CERT},
      {"tls-key", required_argument, 0, OPT_KEY},
      {"admin-key-file", required_argument, 0, OPT_KEYFILE},
      {"port-file", required_argument, 0, OPT_PORTFILE},
      {"policy", required_argument, 0, OPT_POLICY},
      {"evidence-dir", required_argument, 0, OPT_EVIDENCE},
      {"hma-anonymous", required_argument, 0, OPT_HMAANON},
      {"session-idle", required_argument, 0, OPT_SESSIDLE},
      {"session-max", required_argument, 0, OPT_SESSMAX},
      {"sso-header", required_argument, 0, OPT_SSOHDR},
      {"sso-proxies", required_argument, 0, OPT_SSOPROXY},
      {"group-sightings", no_argument, 0, OPT_GROUP}, /* the default now; kept for scripts that say it */
      {"no-group-sightings", no_argument, 0, OPT_NOGROUP},
      {"report-config", required_argument, 0, OPT_REPORTCFG},
      {"quiet", no_argument, 0, OPT_QUIET},
      {"init", no_argument, 0, OPT_INIT},
      {"max-decodes", required_argument, 0, OPT_DECODES},
      {"decode-queue", required_argument, 0, OPT_DQUEUE},
      {"decode-memory", required_argument, 0, OPT_DMEM},
      {"max-video", required_argument, 0, OPT_MAXVIDEO},
      {"spool-dir", required_argument, 0, OPT_SPOOL},
      {"video-workers", required_argument, 0, OPT_VWORKERS},
      {"video-queue", required_argument, 0, OPT_VQUEUE},
      {"job-queue", required_argument, 0, OPT_JQUEUE},
      {"job-keep", required_argument, 0, OPT_JKEEP},
      {"jobs-dir", required_argument, 0, OPT_JDIR},
      {"vpdq-index", required_argument, 0, OPT_VINDEX},
      {"header-timeout", required_argument, 0, OPT_HDRTMO},
      {"body-min-rate", required_argument, 0, OPT_BODYRATE},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.db_path = cli_default_db();
  cfg.log = stderr;
  const char *key_file = NULL, *port_file = NULL;
  long v;
  int c, init = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_LISTEN: cfg.listen = optarg; break;
    case OPT_DB: cfg.db_path = optarg; break;
    case OPT_THREADS:
      if ((v = cli_parse_long("--threads", optarg, 1, 1024)) < 0) return CLI_USAGE;
      cfg.threads = (unsigned)v;
      break;
    case OPT_MAXBODY:
      if ((v = cli_parse_long("--max-body", optarg, 1024, 1L << 40)) < 0) return CLI_USAGE;
      cfg.max_body = (uint64_t)v;
      break;
    case OPT_MAXJSON:
      if ((v = cli_parse_long("--max-json", optarg, 1024, 1L << 30)) < 0) return CLI_USAGE;
      cfg.max_json = (uint64_t)v;
      break;
    case OPT_MAXCONN:
      if ((v = cli_parse_long("--max-connections", optarg, 1, 1000000)) < 0) return CLI_USAGE;
      cfg.max_connections = (unsigned)v;
      break;
    case OPT_MAXIP:
      if ((v = cli_parse_long("--max-per-ip", optarg, 0, 1000000)) < 0) return CLI_USAGE;
      cfg.max_per_ip = (unsigned)v;
      break;
    case OPT_TIMEOUT:
      if ((v = cli_parse_long("--timeout", optarg, 1, 86400)) < 0) return CLI_USAGE;
      cfg.timeout_s = (unsigned)v;
      break;
    case OPT_CERT: cfg.tls_cert = optarg; break;
    case OPT_KEY: cfg.tls_key = optarg; break;
    case OPT_KEYFILE: key_file = optarg; break;
    case OPT_PORTFILE: port_file = optarg; break;
    case OPT_POLICY: cfg.policy_path = optarg; break;
    case OPT_EVIDENCE: cfg.evidence_dir = optarg; break;
    case OPT_HMAANON: cfg.hma_anonymous = optarg; break;
    case OPT_SESSIDLE:
      if ((v = cli_parse_long("--session-idle", optarg, 1, 86400L * 7)) < 0) return CLI_USAGE;
      cfg.session_idle_s = (unsigned)v;
      break;
    case OPT_SSOHDR: cfg.sso_header = optarg; break;
    case OPT_SSOPROXY: cfg.sso_proxies = optarg; break;
    case OPT_GROUP: cfg.separate_sightings = 0; break;
    case OPT_NOGROUP: cfg.separate_sightings = 1; break;
    case OPT_SESSMAX:
      if ((v = cli_parse_long("--session-max", optarg, 1, 86400L * 30)) < 0) return CLI_USAGE;
      cfg.session_max_s = (unsigned)v;
      break;
    case OPT_REPORTCFG: cfg.report_config = optarg; break;
    case OPT_QUIET: cfg.log = NULL; break;
    case OPT_INIT: init = 1; break;
    case OPT_DECODES:
      if ((v = cli_parse_long("--max-decodes", optarg, 1, 1024)) < 0) return CLI_USAGE;
      cfg.max_decodes = (unsigned)v;
      break;
    case OPT_DQUEUE:
      if ((v = cli_parse_long("--decode-queue", optarg, 0, 100000)) < 0) return CLI_USAGE;
      cfg.decode_queue = (unsigned)v;
      break;
    case OPT_DMEM:
      if ((v = cli_parse_long("--decode-memory", optarg, 16L << 20, 1L << 40)) < 0) return CLI_USAGE;
      cfg.decode_memory = (uint64_t)v;
      break;
    case OPT_MAXVIDEO:
      if ((v = cli_parse_long("--max-video", optarg, 1024, 1L << 42)) < 0) return CLI_USAGE;
      cfg.max_video = (uint64_t)v;
      break;
    case OPT_SPOOL: cfg.spool_dir = optarg; break;
    case OPT_VWORKERS:
      if ((v = cli_parse_long("--video-workers", optarg, 1, 256)) < 0) return CLI_USAGE;
      cfg.video_workers = (unsigned)v;
      break;
    case OPT_VQUEUE:
      if ((v = cli_parse_long("--video-queue", optarg, 0, 100000)) < 0) return CLI_USAGE;
      cfg.video_queue = (unsigned)v;
      break;
    case OPT_JQUEUE:
      if ((v = cli_parse_long("--job-queue", optarg, 1, 1000000)) < 0) return CLI_USAGE;
      cfg.job_queue = (unsigned)v;
      break;
    case OPT_JKEEP:
      if ((v = cli_parse_long("--job-keep", optarg, 1, 86400L * 365)) < 0) return CLI_USAGE;
      cfg.job_keep_s = (unsigned)v;
      break;
    case OPT_JDIR: cfg.jobs_dir = optarg; break;
    case OPT_VINDEX: cfg.vpdq_index = optarg; break;
    case OPT_HDRTMO:
      if ((v = cli_parse_long("--header-timeout", optarg, 0, 3600)) < 0) return CLI_USAGE;
      cfg.header_timeout_s = (unsigned)v;
      break;
    case OPT_BODYRATE:
      if ((v = cli_parse_long("--body-min-rate", optarg, 0, 1L << 30)) < 0) return CLI_USAGE;
      cfg.body_min_rate = (unsigned)v;
      break;
    case 'h': fputs(serve_help, stdout); return CLI_OK;
    default: fputs(serve_help, stderr); return CLI_USAGE;
    }
  }
  if (optind < argc) {
    cli_error("serve: unexpected argument '%s'", argv[optind]);
    return CLI_USAGE;
  }
  if (!cfg.sso_header != !cfg.sso_proxies) {
    cli_error("serve: --sso-header and --sso-proxies go together (the header is trusted only from the proxies)");
    return CLI_USAGE;
  }
  if (!init && cli_store_missing(cfg.db_path)) return CLI_USAGE;
  if (bootstrap(cfg.db_path, key_file) != 0) return CLI_USAGE;

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  vigil_server *srv;
  vigil_error err;
  if (vigil_server_start(&srv, &cfg, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  char addr[300], port[16];
  snprintf(port, sizeof port, "%d", vigil_server_port(srv));
  const char *colon = strrchr(cfg.listen, ':');
  snprintf(addr, sizeof addr, "%.*s:%s", (int)(colon - cfg.listen), cfg.listen, port);
  log_line(cfg.tls_cert ? "listening (https)" : "listening (http)", addr);
  if (port_file) {
    char tmp[4096], line[20];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    snprintf(line, sizeof line, "%s\n", port);
    if (write_file(tmp, line, 0644) != 0 || rename(tmp, port_file) != 0)
      cli_error("--port-file %s: %s", port_file, strerror(errno));
  }
  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  log_line(sig == SIGTERM ? "SIGTERM: finishing requests in flight" : "SIGINT: finishing requests in flight", addr);
  vigil_server_stop(srv);
  log_line("stopped", addr);
  return CLI_OK;
}
