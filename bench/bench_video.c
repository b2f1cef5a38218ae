/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_video.c - what vPDQ hashing costs on top of decoding, one thread.
 *
 * For each clip (../shared/vpdq/debian-ffmpeg's 360p and 720p H.264 clips,
 * one IDR period each, ThreatExchange's chair-orig-22 sample, 12 of them,
 * plus H.264 clips with B-frames encoded here with libx264 when Debian's
 * libavcodec has it: 1920x1080 with an IDR every 2 s, and 1280x720 with six
 * 2 s IDR periods, as phones record) it measures in one run, each the median of
 * --reps repetitions taken in turns (so a busy machine slows all alike), as
 * CPU time (user + system, this process or the worker), one thread:
 *   decode  - demux + decode every frame with the same libavcodec, thread
 *             count 1, frames discarded (what `ffmpeg -threads 1 -f null`
 *             does): the baseline
 *   slices  - the same decode with two slice threads (CPU time), as the
 *             reference decodes and vigil decodes a damaged video again
 *             (docs/video.md): what watching with a plain decoder saves
 *   every   - vigil_video_hash_file, every frame (seconds_per_hash 0)
 *   1/s     - one hash per second (the default: unselected non-reference
 *             H.264 pictures are not decoded), and skipped, the frames so
 *             left undecoded
 *   1/s all - one hash per second decoding every frame (skip_nonref 0, as
 *             before the skip; VIGIL_VIDEO_SKIP=0)
 *   sandbox - every frame again, in the sandboxed worker (the default path)
 * and prints each as a ratio to decode, and the worker's peak RSS; then,
 * sandboxed, every frame, threads 1 and 2 (an IDR period per decoder where
 * the video has several, else two decoder frame threads and the hashing
 * thread beside them):
 *   2 thr   - the wall-clock speed-up of two threads over one, which needs
 *             two idle cores to mean anything (the load average is printed);
 *   cpu 2/1 - the CPU time of the two-thread run over the one-thread run
 *             (what threads cost in synchronisation and lost locality);
 *   bound   - 2 / (cpu 2/1): the speed-up two idle cores give when both are
 *             kept busy, which a loaded machine cannot show in wall time.
 *
 *   bench_video [--smoke] [--reps N] [clip...]
 *   bench_video --hour      (a one-hour 1080p video: time and peak memory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include "vigil/video.h"

/* CPU seconds of this process and of its waited-for children. */
static double cpu(void) {
  struct rusage a, b;
  getrusage(RUSAGE_SELF, &a);
  getrusage(RUSAGE_CHILDREN, &b);
  return a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec +
         (a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec + b.ru_stime.tv_usec) * 1e-6;
}

/* The baseline: every frame decoded, nothing else (slices: with two slice
 * threads, as vigil decodes a video again once damage is met, and as the
 * reference always decodes).  Returns frames or -1. */
static long decode_only(const char *path, int slices) {
  AVFormatContext *fc = NULL;
  if (avformat_open_input(&fc, path, NULL, NULL) < 0) return -1;
  long frames = -1;
  AVCodecContext *cc = NULL;
  AVPacket *pkt = av_packet_alloc();
  AVFrame *f = av_frame_alloc();
  if (avformat_find_stream_info(fc, NULL) < 0) goto out;
  int vi = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (vi < 0) goto out;
  const AVCodec *c = avcodec_find_decoder(fc->streams[vi]->codecpar->codec_id);
  cc = avcodec_alloc_context3(c);
  avcodec_parameters_to_context(cc, fc->streams[vi]->codecpar);
  cc->thread_count = slices ? 2 : 1;
  if (slices) cc->thread_type = FF_THREAD_SLICE;
  if (avcodec_open2(cc, c, NULL) < 0) goto out;
  frames = 0;
  for (int eof = 0; !eof;) {
    int e = av_read_frame(fc, pkt);
    if (e < 0) eof = 1;
    else if (pkt->stream_index != vi) {
      av_packet_unref(pkt);
      continue;
    }
    avcodec_send_packet(cc, eof ? NULL : pkt);
    av_packet_unref(pkt);
    while (avcodec_receive_frame(cc, f) == 0) frames++;
  }
out:
  av_frame_free(&f);
  av_packet_free(&pkt);
  avcodec_free_context(&cc);
  avformat_close_input(&fc);
  return frames;
}

/* A w x h H.264 clip with B-frames, nframes at fps, an IDR every gop
 * frames, of texture whose first `band` rows move (the rest stays, which
 * encodes and decodes fast); returns 0 when written. */
static int make_clip_band(const char *path, int w, int h, int nframes, int gop, int fps, int band) {
  const AVCodec *c = avcodec_find_encoder_by_name("libx264");
  if (!c) return -1;
  AVFormatContext *oc = NULL;
  if (avformat_alloc_output_context2(&oc, NULL, NULL, path) < 0) return -1;
  AVStream *st = avformat_new_stream(oc, NULL);
  AVCodecContext *cc = avcodec_alloc_context3(c);
  cc->width = w;
  cc->height = h;
  cc->time_base = (AVRational){1, fps};
  cc->framerate = (AVRational){fps, 1};
  cc->pix_fmt = AV_PIX_FMT_YUV420P;
  cc->gop_size = gop;
  cc->max_b_frames = 3;
  cc->bit_rate = 6000000;
  cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(cc->priv_data, "preset", "veryfast", 0);
  int rc = -1;
  if (avcodec_open2(cc, c, NULL) < 0) goto out;
  avcodec_parameters_from_context(st->codecpar, cc);
  st->time_base = cc->time_base;
  if (avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0) goto out;
  if (avformat_write_header(oc, NULL) < 0) goto out;
  AVFrame *f = av_frame_alloc();
  AVPacket *pkt = av_packet_alloc();
  f->format = cc->pix_fmt;
  f->width = cc->width;
  f->height = cc->height;
  av_frame_get_buffer(f, 0);
  for (int t = 0; t <= nframes; t++) {
    if (t < nframes) {
      av_frame_make_writable(f);
      for (int y = 0; y < (t ? band : h); y++)
        for (int x = 0; x < w; x++)
          f->data[0][y * f->linesize[0] + x] = (uint8_t)((x * x / 97 + y * 3 + t * 6) ^ (y * y / 211 + x / 7));
      for (int p = 1; p < 3; p++)
        for (int y = 0; y < (t ? band : h) / 2; y++)
          for (int x = 0; x < w / 2; x++) f->data[p][y * f->linesize[p] + x] = (uint8_t)(128 + ((x + y * p + t) & 31));
      f->pts = t;
    }
    avcodec_send_frame(cc, t < nframes ? f : NULL);
    while (avcodec_receive_packet(cc, pkt) == 0) {
      av_packet_rescale_ts(pkt, cc->time_base, st->time_base);
      pkt->stream_index = 0;
      av_interleaved_write_frame(oc, pkt);
    }
  }
  av_write_trailer(oc);
  avio_closep(&oc->pb);
  av_packet_free(&pkt);
  av_frame_free(&f);
  rc = 0;
out:
  avcodec_free_context(&cc);
  avformat_free_context(oc);
  return rc;
}

static int make_clip(const char *path, int w, int h, int nframes, int gop) {
  return make_clip_band(path, w, h, nframes, gop, 30, h);
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return v[n / 2];
}

/* CPU seconds of vigil on path with the given rate; -1 on error.  The frames
 * the skip left undecoded go to *skipped when given. */
static double time_vigil(const char *path, double sph, int sandbox, int skip, unsigned long long *skipped) {
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = sph;
  o.sandbox = sandbox;
  o.skip_nonref = skip;
  vigil_video_info info;
  vigil_error e;
  double t0 = cpu();
  if (vigil_video_hash_file(path, &o, NULL, NULL, &info, &e) != 0) {
    fprintf(stderr, "%s: %s\n", path, e.message);
    return -1;
  }
  if (skipped) *skipped = info.skipped;
  return cpu() - t0;
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Wall seconds, sandboxed, every frame, with `threads` threads; *cpus gets
 * the CPU seconds (the worker's, all its threads). */
static double time_threads(const char *path, int threads, double *cpus) {
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  o.threads = threads;
  double c0 = cpu(), t0 = wall();
  if (vigil_video_hash_file(path, &o, NULL, NULL, NULL, NULL) != 0) return -1;
  double t = wall() - t0;
  *cpus = cpu() - c0;
  return t;
}

/* --hour: a one-hour 1920x1080 video (2 fps, an IDR every 30 s, a moving
 * band over a still picture, so that making and decoding it take minutes,
 * not an hour), hashed sandboxed as the service does it, one hash per second
 * and every frame, 1 and 2 threads: the wall time and the worker's peak RSS,
 * each run in a child process of its own so that the peak is that run's. */
static int hour(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/bench_video_hour_%d.mp4", (int)getpid());
  double t0 = wall();
  if (make_clip_band(path, 1920, 1080, 7200, 60, 2, 64) != 0) {
    fprintf(stderr, "bench_video: cannot make the one-hour clip (libx264?)\n");
    return -1;
  }
  printf("one hour of 1920x1080 at 2 fps (7200 frames), made in %.0f s\n", wall() - t0);
  static const struct {
    double sph;
    int threads;
  } runs[] = {{1, 1}, {1, 2}, {0, 1}, {0, 2}};
  int rc = 0;
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      vigil_video_opts o;
      vigil_video_opts_default(&o);
      o.seconds_per_hash = runs[i].sph;
      o.threads = runs[i].threads;
      vigil_video_info info;
      vigil_error e;
      double t = wall();
      int r = vigil_video_hash_file(path, &o, NULL, NULL, &info, &e);
      t = wall() - t;
      struct rusage ru;
      getrusage(RUSAGE_CHILDREN, &ru);
      if (r) printf("%s: %s\n", path, e.message);
      else
        printf("%-14s %d thread%s  %7.1f s wall  frames %6llu  hashed %6llu  worker peak RSS %6.1f MiB\n",
               runs[i].sph > 0 ? "one per second" : "every frame", runs[i].threads, runs[i].threads > 1 ? "s" : " ",
               t, (unsigned long long)info.frames, (unsigned long long)info.hashed, ru.ru_maxrss / 1024.0);
      fflush(stdout);
      _exit(r ? 1 : 0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = -1;
  }
  remove(path);
  return rc;
}

static int bench(const char *path, int reps) {
  double t[10][32];
  long frames = 0;
  unsigned long long skipped = 0;
  for (int r = 0; r < reps; r++) {
    double t0 = cpu();
    frames = decode_only(path, 0);
    t[0][r] = cpu() - t0;
    if (frames < 0) {
      fprintf(stderr, "%s: cannot decode\n", path);
      return -1;
    }
    t0 = cpu();
    if (decode_only(path, 1) != frames) return -1;
    t[9][r] = cpu() - t0;
    t[1][r] = time_vigil(path, 0, 0, 1, NULL);
    t[2][r] = time_vigil(path, 1, 0, 1, &skipped);
    t[6][r] = time_vigil(path, 1, 0, 0, NULL);
    t[3][r] = time_vigil(path, 0, 1, 1, NULL);
    t[4][r] = time_threads(path, 1, &t[7][r]);
    t[5][r] = time_threads(path, 2, &t[8][r]);
    if (t[1][r] < 0 || t[2][r] < 0 || t[3][r] < 0 || t[4][r] < 0 || t[5][r] < 0 || t[6][r] < 0) return -1;
  }
  double w1 = median(t[4], reps), w2 = median(t[5], reps), c1 = median(t[7], reps), c2 = median(t[8], reps);
  double dec = median(t[0], reps), all = median(t[1], reps), one = median(t[2], reps), sb = median(t[3], reps);
  double one_all = median(t[6], reps), slices = median(t[9], reps);
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  printf("%-40s %6ld %8.3f %6.2fx %8.3f %6.2fx %8.3f %6.2fx %7llu %8.3f %6.2fx %8.3f %6.2fx %7.1f %6.2fx %7.2f %6.2fx\n",
         name, frames, dec, slices / dec, all, all / dec, one, one / dec, skipped, one_all, one_all / dec, sb, sb / dec,
         ru.ru_maxrss / 1024.0, w1 / w2, c2 / c1, 2 * c1 / c2);
  return 0;
}

int main(int argc, char **argv) {
  int smoke = 0, reps = 3, nclips = 0;
  const char *clips[64];
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("usage: bench_video [--reps N] [--smoke] [--hour] [CLIP...]\n"
             "  vPDQ hashing against decoding alone, one thread, and two threads against one;\n"
             "  CLIP... instead of the default clips; --reps N: medians of N (default 3);\n"
             "  --smoke: one short clip once (make check); --hour: a one-hour 1080p video\n"
             "  (docs/performance.md#video-hashing-benchbench_video)\n");
      return 0;
    }
    if (argv[i][0] == '-' && strcmp(argv[i], "--smoke") && strcmp(argv[i], "--hour") && strcmp(argv[i], "--reps")) {
      fprintf(stderr, "bench_video: unknown option %s (--help)\n", argv[i]);
      return 2;
    }
    if (!strcmp(argv[i], "--smoke")) smoke = 1;
    else if (!strcmp(argv[i], "--hour")) return hour() ? 1 : 0;
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (nclips < 60) clips[nclips++] = argv[i];
  }
  if (reps < 1 || reps > 31) reps = 3;
  av_log_set_level(AV_LOG_ERROR); /* in-process runs: no per-frame scaler notices */
  char gen[64] = "", gen2[64] = "";
  if (smoke) {
    reps = 1;
    clips[nclips++] = VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/h264-bframes.mp4";
    clips[nclips++] = VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/mpeg4-bframes.avi";
  } else if (nclips == 0) {
    clips[nclips++] = VIGIL_SHARED_DIR "/vpdq/debian-ffmpeg/videos/c01_h264_640x360_25_pan.mp4";
    clips[nclips++] = VIGIL_SHARED_DIR "/vpdq/debian-ffmpeg/videos/c02_h264_1280x720_30_zoom.mp4";
    clips[nclips++] = VIGIL_SHARED_DIR "/vpdq/debian-ffmpeg/videos/c13_h264_1280x720_25_yuvj420p.mp4";
    /* ThreatExchange's sample: 673 frames in 12 IDR periods */
    clips[nclips++] = VIGIL_SHARED_DIR "/vpdq/videos/chair-orig-22-sd-bar.mp4";
    snprintf(gen, sizeof gen, "/tmp/bench_video_1080p_%d.mp4", (int)getpid());
    if (make_clip(gen, 1920, 1080, 120, 60) == 0) clips[nclips++] = gen;
    else gen[0] = 0;
    /* as phones record: an IDR every 2 s, here 6 of them (the shared clips
     * and most short encodes have one: see docs/video.md, Threads) */
    snprintf(gen2, sizeof gen2, "/tmp/bench_video_720p_idr2s_%d.mp4", (int)getpid());
    if (make_clip(gen2, 1280, 720, 360, 60) == 0) clips[nclips++] = gen2;
    else gen2[0] = 0;
  }
  printf("CPU seconds, one thread, medians of %d; ratios are to decoding alone; RSS: the workers' peak, MiB;\n"
         "slices: decoding with two slice threads; 2 thr: wall-clock speed-up of threads 2 over 1;\n"
         "cpu 2/1: their CPU times; bound: 2 / (cpu 2/1)\n", reps);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = load[1] = load[2] = -1;
  printf("load average %.2f %.2f %.2f on %ld cores (2 thr is wall clock: it needs two idle cores)\n", load[0], load[1],
         load[2], sysconf(_SC_NPROCESSORS_ONLN));
  printf("%-40s %6s %8s %7s %8s %7s %8s %7s %7s %8s %7s %8s %7s %7s %7s %7s %7s\n", "clip", "frames", "decode",
         "slices", "every", "", "1/s", "", "skipped", "1/s all", "", "sandbox", "", "RSS", "2 thr", "cpu 2/1", "bound");
  int rc = 0;
  for (int i = 0; i < nclips; i++) rc |= bench(clips[i], reps);
  if (gen[0]) remove(gen);
  if (gen2[0]) remove(gen2);
  return rc ? 1 : 0;
}
