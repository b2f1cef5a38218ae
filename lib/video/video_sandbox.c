/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_sandbox.c - decoding untrusted video in a worker process that cannot
 * hurt its caller.
 *
 * The worker dies with the process that forked it.  Its wall time is kept
 * by the parent, so a worker orphaned by a SIGKILL of `vigil serve` or
 * `vigil hash` would run on, holding a core and the input, until its CPU
 * limit, or for ever while it waits on a stalled input.  First thing after
 * the fork the worker asks for SIGKILL at its parent's death
 * (PR_SET_PDEATHSIG), then compares getppid() with the pid the parent took
 * before the fork: a parent that died in between sends no signal, so the
 * worker leaves by itself (exit status VIGIL__VIDEO_ORPHAN_EXIT).
 * The signal comes when the *thread* that forked ends, not its process.
 * That is what is wanted here because the thread that forks is the thread
 * that waits: vigil__video_decode_sandboxed forks, reads the pipe and reaps
 * the worker before it returns, so that thread outlives its worker on every
 * path (the server's request and job threads end only after the call has
 * returned; the library cancels no thread).  It ends first only when the
 * process dies, or when a caller cancels it or leaves it from a callback;
 * no one would reap the worker then either, and killing it is right too.
 * Rejected: end of file on the result pipe tells the worker nothing until
 * it writes (SIGPIPE), and a worker blocked on a stalled input or deep in
 * one huge frame writes nothing for its whole limit; noticing sooner would
 * take a watching thread in every worker.  Forking from one long-lived
 * thread would add a hand-off between threads and gain nothing.
 *
 * FFmpeg's demuxers and decoders are a large attack surface and uploads are
 * hostile, so each video is decoded by a forked child:
 *   - it keeps only three descriptors: the input (3), the result pipe (4) and
 *     stderr; every other descriptor the caller had (sockets, databases) is
 *     closed before any hostile byte is read;
 *   - limits: address space (RLIMIT_AS; not under AddressSanitizer, whose
 *     shadow memory needs terabytes of address space), CPU time (RLIMIT_CPU,
 *     SIGXCPU then SIGKILL), no core files, no file writes (RLIMIT_FSIZE);
 *     wall time is kept by the parent, which kills a worker that overstays;
 *   - seccomp-bpf (libseccomp) allows only what decoding needs: read, write,
 *     seeking, memory management, futex, clocks and exit.  No open, socket,
 *     exec, fork or clone: a decoder that is taken over can compute and
 *     write to the pipe and stderr, nothing else.  Opening a file fails with
 *     EACCES; any other system call kills the worker (SIGSYS).
 * The worker sends fixed-size records over the pipe (frames, then one info
 * or error record); the parent calls the user's callback for each frame in
 * its own thread.  A worker that dies without its final record (a crash, a
 * forbidden call, a limit) is an error of this one video.
 *
 * fork() in a threaded program: only the calling thread continues in the
 * child; glibc makes malloc usable after fork, and the child touches nothing
 * else of the parent's (it opens its own FFmpeg contexts and exits with
 * _exit, running no atexit handler).
 */
#define _GNU_SOURCE
#include "video/video_internal.h"
#include "common/crypto.h"
#include "common/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#if defined(__SANITIZE_ADDRESS__)
#define VIGIL__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIGIL__ASAN 1
#endif
#endif

long vigil__video_test_forbidden_syscall;
int vigil__video_test_child_gate_fd = -1;

enum { REC_FRAME = 1, REC_INFO = 2, REC_ERROR = 3, REC_PROGRESS = 4 };

typedef struct rec_progress {
  uint64_t frames;
  double seconds, total;
} rec_progress;

/* A record is a header and the payload its type names (a frame is 56
 * bytes, so a video hashed at every frame does not push kilobytes a frame). */
typedef struct rec_head {
  uint32_t type;
  int32_t code;
} rec_head;

typedef struct rec {
  rec_head h;
  union {
    vigil_video_frame frame;
    vigil_video_info info;
    char message[VIGIL_ERROR_MAX];
    rec_progress progress;
  } u;
} rec;

static size_t payload_size(uint32_t type) {
  switch (type) {
  case REC_FRAME: return sizeof(vigil_video_frame);
  case REC_INFO: return sizeof(vigil_video_info);
  case REC_ERROR: return VIGIL_ERROR_MAX;
  case REC_PROGRESS: return sizeof(rec_progress);
  default: return 0;
  }
}

#define IN_FD 3
#define OUT_FD 4

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_frame(void *ctx, const vigil_video_frame *f) {
  (void)ctx;
  rec r;
  memset(&r, 0, sizeof r);
  r.h.type = REC_FRAME;
  r.u.frame = *f;
  return write_all(OUT_FD, &r, sizeof r.h + payload_size(REC_FRAME)) ? VIGIL_EIO : VIGIL_OK;
}

/* The caller's progress function lives in the parent: the worker sends the
 * numbers and the parent calls it. */
static void send_progress(void *ctx, uint64_t frames, double seconds, double total) {
  (void)ctx;
  rec r;
  memset(&r, 0, sizeof r);
  r.h.type = REC_PROGRESS;
  r.u.progress.frames = frames;
  r.u.progress.seconds = seconds;
  r.u.progress.total = total;
  (void)write_all(OUT_FD, &r, sizeof r.h + payload_size(REC_PROGRESS));
}

static int install_filter(void *ctx, vigil_error *err) {
  (void)ctx; /* the same filter whatever the options */
  scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!f) return vigil__seterr(err, VIGIL_EINTERNAL, "seccomp_init failed");
  static const int allowed[] = {
      SCMP_SYS(read),          SCMP_SYS(pread64),        SCMP_SYS(write),          SCMP_SYS(lseek),
      SCMP_SYS(mmap),          SCMP_SYS(munmap),         SCMP_SYS(mremap),         SCMP_SYS(brk),
      SCMP_SYS(madvise),       SCMP_SYS(futex),          SCMP_SYS(exit),           SCMP_SYS(exit_group),
      SCMP_SYS(rt_sigreturn),  SCMP_SYS(rt_sigprocmask), SCMP_SYS(clock_gettime),  SCMP_SYS(gettimeofday),
      SCMP_SYS(getpid),        SCMP_SYS(gettid),         SCMP_SYS(sched_yield),    SCMP_SYS(fstat),
      SCMP_SYS(newfstatat),    SCMP_SYS(getrandom),      SCMP_SYS(sched_getaffinity), SCMP_SYS(sysinfo),
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof *allowed; i++)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
  /* Memory may be made read-only or writable, never executable. */
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  /* Opening a file fails (EACCES) rather than killing: the MPEG-TS demuxer
   * asks iconv for a charset converter, which would load a module; without
   * it only a programme's name stays unconverted, and the frames are the same. */
  if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
  if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
  if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat2), 0);
  /* Decoder threads (frame threads with threads > 1; with one, the slice
   * threads a damaged video is decoded again with, video_decode.c): clone
   * only as pthread_create makes it (a thread of this process,
   * CLONE_THREAD), never a new process; clone3 passes its flags in memory
   * the filter cannot read, so it fails (ENOSYS) and glibc falls back to
   * clone. */
  if (rc == 0) {
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    static const int thread_calls[] = {SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_setaffinity),
                                       SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack)};
    for (size_t i = 0; rc == 0 && i < sizeof thread_calls / sizeof *thread_calls; i++)
      rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, thread_calls[i], 0);
    /* dav1d (the AV1 decoder) names each worker thread it starts; naming a
     * thread is all prctl may do here. */
    if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
  }
  if (rc == 0) rc = seccomp_load(f);
  seccomp_release(f);
  if (rc) return vigil__seterr(err, VIGIL_EINTERNAL, "cannot install the seccomp filter (%d)", rc);
  /* The test hook: a call that should be refused; one that succeeds (an open
   * that opened) ends the worker with status 99 so the test sees it. */
  if (vigil__video_test_forbidden_syscall) {
    long r = vigil__video_test_forbidden_syscall == SYS_openat
                 ? syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY)
                 : syscall(vigil__video_test_forbidden_syscall, 0, 0, 0);
    if (r >= 0) _exit(99);
  }
  return VIGIL_OK;
}

/* Moves in and out to IN_FD and OUT_FD and closes everything else but stderr.
 * Before the worker does anything else than tie its life to its parent's: a
 * descriptor it kept would also keep whatever the parent holds through it,
 * such as the server's flock on its jobs directory (server/jobs.c). */
static int keep_fds(int in, int out) {
  int hi = (in > out ? in : out) + 1;
  if (hi < OUT_FD + 1) hi = OUT_FD + 1;
  int in2 = fcntl(in, F_DUPFD, hi), out2 = fcntl(out, F_DUPFD, hi);
  if (in2 < 0 || out2 < 0) return -1;
  if (dup2(in2, IN_FD) < 0 || dup2(out2, OUT_FD) < 0) return -1;
  close(0);
  close(1);
  if (syscall(SYS_close_range, OUT_FD + 1, ~0U, 0) != 0)
    for (int fd = OUT_FD + 1; fd < 65536; fd++) close(fd);
  return 0;
}

static void set_limit(int which, rlim_t soft, rlim_t hard) {
  struct rlimit rl = {soft, hard};
  setrlimit(which, &rl);
}

/* Ties the worker's life to its parent's (the design comment says why this
 * way); parent is the parent's pid, taken before the fork. */
static void die_with_parent(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(VIGIL__VIDEO_ORPHAN_EXIT);
  /* a parent that died before the prctl sends no signal: the worker was
   * already handed to init (or a subreaper) */
  if (getppid() != parent) _exit(VIGIL__VIDEO_ORPHAN_EXIT);
}

static void child(pid_t parent, int in, int out, const char *url, const vigil_video_opts *o) {
  if (vigil__video_test_child_gate_fd >= 0) {
    char c;
    while (read(vigil__video_test_child_gate_fd, &c, 1) < 0 && errno == EINTR) {
    }
  }
  die_with_parent(parent);
  rec r;
  memset(&r, 0, sizeof r);
  vigil_error e;
  vigil_error_clear(&e);
  int rc;
  if (keep_fds(in, out) != 0) _exit(120);
  signal(SIGPIPE, SIG_DFL);
  set_limit(RLIMIT_CORE, 0, 0);
  set_limit(RLIMIT_FSIZE, 0, 0);
  set_limit(RLIMIT_CPU, o->max_cpu_seconds, (rlim_t)o->max_cpu_seconds + 1);
#ifndef VIGIL__ASAN
  set_limit(RLIMIT_AS, (rlim_t)o->max_memory, (rlim_t)o->max_memory);
#endif
  av_log_set_level(AV_LOG_QUIET);
  vigil__video_hooks hooks = {install_filter, (void *)o};
  vigil_video_info info;
  vigil_video_opts co = *o;
  co.progress = o->progress ? send_progress : NULL;
  co.progress_ctx = NULL;
  rc = vigil__video_decode(IN_FD, url, &co, &hooks, send_frame, NULL, &info, &e);
  r.h.type = rc ? REC_ERROR : REC_INFO;
  r.h.code = rc;
  if (rc) memcpy(r.u.message, e.message, sizeof r.u.message);
  else r.u.info = info;
  int wrc = write_all(OUT_FD, &r, sizeof r.h + payload_size(r.h.type));
  _exit(wrc ? 121 : 0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads n bytes; 1 read, 0 end of file before any, -1 error, short read or
 * timeout (*timed_out). */
static int read_exact(int fd, void *p, size_t want, double deadline, int *timed_out) {
  size_t got = 0;
  while (got < want) {
    double left = deadline - now_s();
    if (left <= 0) {
      *timed_out = 1;
      return -1;
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return -1;
    if (pr == 0) continue;
    ssize_t n = read(fd, (char *)p + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return got ? -1 : 0;
    got += (size_t)n;
  }
  return 1;
}

static int read_rec(int fd, rec *r, double deadline, int *timed_out) {
  int got = read_exact(fd, &r->h, sizeof r->h, deadline, timed_out);
  if (got <= 0) return got;
  size_t n = payload_size(r->h.type);
  if (!n) return -1;
  return read_exact(fd, &r->u, n, deadline, timed_out) == 1 ? 1 : -1;
}

static int reap(pid_t pid, int kill_it) {
  if (kill_it) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

static int death_error(int status, const vigil_video_opts *o, vigil_error *err) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGSYS)
      return vigil__seterr(err, VIGIL_ECORRUPT,
                           "the decoder made a forbidden system call and was stopped (hostile or broken input)");
    if (sig == SIGXCPU || (sig == SIGKILL))
      return vigil__seterr(err, VIGIL_ELIMIT, "the decoder was stopped at its CPU time limit of %u s",
                           o->max_cpu_seconds);
    return vigil__seterr(err, VIGIL_ECORRUPT, "the decoder crashed (signal %d, %s) on this input", sig,
                         strsignal(sig));
  }
  return vigil__seterr(err, VIGIL_ECORRUPT, "the decoder worker stopped without a result (exit status %d)",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int vigil__video_decode_sandboxed(int fd, const char *url, const vigil_video_opts *o, vigil_video_frame_fn fn,
                                  void *ctx, vigil_video_info *info, vigil_error *err) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return vigil__seterr(err, VIGIL_EIO, "pipe: %s", strerror(errno));
  rec *r = malloc(sizeof *r);
  if (!r) {
    close(p[0]);
    close(p[1]);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  vigil__crypto_init(); /* no OpenSSL lock held by another thread in the child (common/crypto.h) */
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    free(r);
    return vigil__seterr(err, VIGIL_EIO, "cannot start the decoder worker: %s", strerror(e));
  }
  if (pid == 0) child(parent, fd, p[1], url, o); /* never returns */
  close(p[1]);
  double deadline = now_s() + o->max_wall_seconds;
  int rc = VIGIL_OK, done = 0, timed_out = 0;
  while (rc == VIGIL_OK && !done) {
    int got = read_rec(p[0], r, deadline, &timed_out);
    if (got <= 0) break;
    if (r->h.type == REC_FRAME) {
      if (fn) rc = fn(ctx, &r->u.frame);
    } else if (r->h.type == REC_PROGRESS) {
      if (o->progress) o->progress(o->progress_ctx, r->u.progress.frames, r->u.progress.seconds, r->u.progress.total);
    } else if (r->h.type == REC_INFO) {
      if (info) *info = r->u.info;
      done = 1;
    } else if (r->h.type == REC_ERROR) {
      r->u.message[VIGIL_ERROR_MAX - 1] = 0;
      int code = r->h.code < 0 && r->h.code >= VIGIL_EINTERNAL ? r->h.code : VIGIL_EINTERNAL;
      if (code == VIGIL_ENOMEM)
        rc = vigil__seterr(err, VIGIL_ELIMIT, "%s (the decoder's memory limit is %llu MiB)", r->u.message,
                           (unsigned long long)(o->max_memory >> 20));
      else
        rc = vigil__seterr(err, code, "%s", r->u.message);
      done = 1;
    } else {
      rc = vigil__seterr(err, VIGIL_EINTERNAL, "the decoder worker sent a bad record");
    }
  }
  close(p[0]);
  int status = reap(pid, !done || rc != VIGIL_OK);
  free(r);
  if (rc == VIGIL_OK && !done) {
    if (timed_out)
      return vigil__seterr(err, VIGIL_ELIMIT, "the decoder was stopped at its wall time limit of %u s",
                           o->max_wall_seconds);
    return death_error(status, o, err);
  }
  if (rc && info) memset(info, 0, sizeof *info);
  return rc;
}
