/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_align_samples.c - clip localisation measured on real frame
 * hashes: ThreatExchange's chair clip (../shared/vpdq/sample-hashes, every
 * frame of a 22 s, 30 fps video) as the bank video, and queries cut from its
 * transformed copies (greyscale, sepia, small and large logo, HD and full HD
 * without the bars) by edit lists with known answers: a trimmed start, a cut
 * from the middle, an inserted intro (another clip, the doorknob), sped-up
 * (1.5x) and slowed-down (0.75x) copies.  Hashes are taken at one per second
 * of the query's own timeline, as exchanged lists are; the bank at one per
 * second, and again at every frame.
 *
 * Prints a table per edit (docs/video.md quotes it): segment precision and
 * recall (a segment counts when it overlaps its true query interval by at
 * least half) and the boundary error in seconds (mean and max over the four
 * boundaries of each found segment), over the three copies whose frames PDQ
 * matches (greyscale, sepia, small logo).  The large logo and the copies
 * without the bars (a crop) leave (almost) no frame within distance 31, so
 * there is nothing to align: their recall is printed apart, as a limit of
 * PDQ frames, not of alignment.  Asserts recall and precision of at least
 * 0.9 and a mean boundary error of at most 1.5 s per edit on the three.
 *
 * Then the seven Debian-FFmpeg clips (../shared/vpdq/debian-ffmpeg, 5-10 s,
 * H.264, VP9, MPEG-4; pan, zoom, crossfade): each clip hashed at every frame
 * at its size is the bank, queries are cut from the same clip hashed at
 * 128x128 (a rescaled copy) by edits in proportion to its length, the intro
 * taken from the next clip.  Asserts precision and recall of at least 0.8
 * and a mean boundary error of at most 1 s per edit.  Skips (exit 77)
 * without ../shared.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/video.h"

static char dir[4096];

typedef struct list {
  vigil_video_frame f[1024];
  size_t n;
} list;

static void load_path(const char *path, list *l) {
  char line[256];
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  l->n = 0;
  while (fgets(line, sizeof line, fp) && l->n < 1024) {
    long long fn;
    int q;
    char hex[65];
    double ts;
    assert_int_equal(sscanf(line, "%lld,%d,%64[0-9a-f],%lf", &fn, &q, hex, &ts), 4);
    vigil_video_frame *f = &l->f[l->n++];
    f->frame_number = fn;
    f->quality = q;
    f->timestamp = ts;
    assert_int_equal(vigil_pdq_from_hex(hex, 64, &f->hash, NULL), VIGIL_OK);
  }
  fclose(fp);
}

static void load(const char *name, list *l) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.txt", dir, name);
  load_path(path, l);
}

#define FPS 30.0

/* The frame of l shown at source second s (nearest frame). */
static const vigil_video_frame *at(const list *l, double s) {
  long k = lround(s * FPS);
  if (k < 0) k = 0;
  if ((size_t)k >= l->n) k = (long)l->n - 1;
  return &l->f[k];
}

typedef struct part {
  double len, src_start, speed; /* speed 0: the intro clip */
} part;

typedef struct edit {
  const char *name;
  part parts[3];
  int nparts;
} edit;

static const edit edits[] = {
    {"trimmed start", {{13, 5, 1}}, 1},
    {"middle cut", {{7, 0, 1}, {9, 12, 1}}, 2},
    {"inserted intro", {{4, 0, 0}, {15, 2, 1}}, 2},
    {"sped up 1.5x", {{13, 1, 1.5}}, 1},
    {"slowed 0.75x", {{20, 3, 0.75}}, 1},
};

static const char *const variants[] = {"chair-22-sd-grey-bar",         "chair-22-sd-sepia-bar",
                                       "chair-22-with-small-logo-bar", "chair-22-with-large-logo-bar",
                                       "chair-orig-22-hd-no-bar",      "chair-orig-22-fhd-no-bar"};

static list bank_all, intro, var[6];

static void test_localisation(void **state) {
  (void)state;
  load("chair-orig-22-sd-bar", &bank_all);
  load("doorknob-hd-no-bar", &intro);
  for (int v = 0; v < 6; v++) load(variants[v], &var[v]);
  static list bank1;
  bank1.n = 0;
  for (size_t i = 0; i < bank_all.n; i += 30) bank1.f[bank1.n++] = bank_all.f[i];

  print_message("%-16s %-11s %9s %6s %10s %10s %13s\n", "edit", "bank", "precision", "recall", "mean err s",
                "max err s", "recall (hard)");
  for (int b = 0; b < 2; b++) {
    const list *bank = b ? &bank_all : &bank1;
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
      const edit *ed = &edits[e];
      size_t found = 0, correct = 0, truth = 0, truth_found = 0, nerr = 0, hard_truth = 0, hard_found = 0;
      double sum_err = 0, max_err = 0;
      for (int v = 0; v < 6; v++) {
        vigil_video_frame q[64];
        size_t nq = 0;
        double t0 = 0;
        for (int p = 0; p < ed->nparts; p++) {
          const part *pt = &ed->parts[p];
          for (double t = 0; t < pt->len - 1e-9 && nq < 64; t += 1.0) {
            q[nq] = pt->speed > 0 ? *at(&var[v], pt->src_start + pt->speed * t) : *at(&intro, t);
            q[nq].timestamp = t0 + t;
            q[nq].frame_number = (int64_t)nq;
            nq++;
          }
          t0 += pt->len;
        }
        vigil_vpdq_opts o;
        vigil_vpdq_opts_default(&o);
        vigil_vpdq_result r;
        assert_int_equal(vigil_vpdq_compare(q, nq, bank->f, bank->n, &o, &r, NULL), VIGIL_OK);
        int hard = v >= 3; /* large logo, no bars: PDQ frames do not match */
        if (!hard) found += r.nsegments;
        if (getenv("VIGIL_TEST_VERBOSE")) {
          print_message("  %s q%%=%.0f:", variants[v], r.query_pct);
          for (size_t s = 0; s < r.nsegments; s++)
            print_message(" [%.0f-%.0f <-> %.2f-%.2f x%.2f %.2f]", r.segments[s].query_start, r.segments[s].query_end,
                          r.segments[s].bank_start, r.segments[s].bank_end, r.segments[s].speed, r.segments[s].share);
          print_message("\n");
        }
        t0 = 0;
        for (int p = 0; p < ed->nparts; p++) {
          const part *pt = &ed->parts[p];
          double qs = t0, qe = t0 + pt->len - 1, bs = pt->src_start, be = pt->src_start + pt->speed * (pt->len - 1);
          t0 += pt->len;
          if (pt->speed == 0) continue;
          if (hard) {
            hard_truth++;
            for (size_t s = 0; s < r.nsegments; s++)
              if (fmin(qe, r.segments[s].query_end) - fmax(qs, r.segments[s].query_start) >= 0.5 * (qe - qs)) {
                hard_found++;
                break;
              }
            continue;
          }
          truth++;
          for (size_t s = 0; s < r.nsegments; s++) {
            const vigil_vpdq_segment *g = &r.segments[s];
            double ov = fmin(qe, g->query_end) - fmax(qs, g->query_start);
            if (ov < 0.5 * (qe - qs)) continue;
            truth_found++;
            correct++;
            double errs[4] = {fabs(g->query_start - qs), fabs(g->query_end - qe), fabs(g->bank_start - bs),
                              fabs(g->bank_end - be)};
            for (int k = 0; k < 4; k++) {
              sum_err += errs[k];
              nerr++;
              if (errs[k] > max_err) max_err = errs[k];
            }
            break;
          }
        }
        free(r.segments);
      }
      double prec = found ? (double)correct / (double)found : 0, rec = (double)truth_found / (double)truth;
      double mean = nerr ? sum_err / (double)nerr : 0;
      print_message("%-16s %-11s %9.2f %6.2f %10.2f %10.2f %13.2f\n", ed->name, b ? "every frame" : "1 per s", prec,
                    rec, mean, max_err, (double)hard_found / (double)hard_truth);
      assert_true(rec >= 0.9);
      assert_true(prec >= 0.9);
      assert_true(mean <= 1.5);
    }
  }
}

/* The Debian-FFmpeg clips (5-10 s, every frame): the bank is the clip hashed
 * at its size, queries are cut from the same clip hashed downsampled to
 * 128x128 (a rescaled copy), one hash per frame of the query's timeline. */
static const char *const clips[] = {"c01_h264_640x360_25_pan",           "c02_h264_1280x720_30_zoom",
                                    "c04_h264_640x360_2997_xfade_audio", "c07_vp9_853x479_25_odd",
                                    "c09_mpeg4_640x360_25_bframes",      "c10_h264_640x360_25_audiofirst",
                                    "c13_h264_1280x720_25_yuvj420p"};

static const vigil_video_frame *at_fps(const list *l, double fps, double s) {
  long k = lround(s * fps);
  if (k < 0) k = 0;
  if ((size_t)k >= l->n) k = (long)l->n - 1;
  return &l->f[k];
}

static void test_debian_clips(void **state) {
  (void)state;
  static list bank, small, other;
  char path[4200];
  const size_t nclips = sizeof clips / sizeof *clips;
  /* edits as fractions of the clip's duration D: {len, src_start, speed} */
  struct {
    const char *name;
    double parts[2][3];
    int nparts;
  } ed[] = {
      {"trimmed start", {{0.7, 0.3, 1}}, 1},
      {"middle cut", {{0.35, 0, 1}, {0.35, 0.6, 1}}, 2},
      {"inserted intro", {{0.2, 0, 0}, {0.8, 0.1, 1}}, 2},
      {"sped up 1.5x", {{0.6, 0.05, 1.5}}, 1},
      {"slowed 0.75x", {{0.9, 0.2, 0.75}}, 1},
  };
  print_message("Debian-FFmpeg clips, bank every frame at native size, queries from the 128x128 hashes:\n");
  print_message("%-16s %9s %6s %10s %10s\n", "edit", "precision", "recall", "mean err s", "max err s");
  for (size_t e = 0; e < sizeof ed / sizeof *ed; e++) {
    size_t found = 0, correct = 0, truth = 0, nerr = 0;
    double sum_err = 0, max_err = 0;
    for (size_t c = 0; c < nclips; c++) {
      snprintf(path, sizeof path, "%s/../debian-ffmpeg/expected/%s.r0.txt", dir, clips[c]);
      load_path(path, &bank);
      snprintf(path, sizeof path, "%s/../debian-ffmpeg/expected/%s.r0s128.txt", dir, clips[c]);
      load_path(path, &small);
      snprintf(path, sizeof path, "%s/../debian-ffmpeg/expected/%s.r0.txt", dir, clips[(c + 1) % nclips]);
      load_path(path, &other);
      double fps = 1.0 / bank.f[1].timestamp, dur = (double)bank.n / fps, ofps = 1.0 / other.f[1].timestamp;
      static vigil_video_frame q[1024];
      size_t nq = 0;
      double t0 = 0;
      for (int p = 0; p < ed[e].nparts; p++) {
        double len = ed[e].parts[p][0] * dur, src = ed[e].parts[p][1] * dur, sp = ed[e].parts[p][2];
        for (double t = 0; t < len - 1e-9 && nq < 1024; t += 1.0 / fps) {
          q[nq] = sp > 0 ? *at_fps(&small, fps, src + sp * t) : *at_fps(&other, ofps, t);
          q[nq].timestamp = t0 + t;
          q[nq].frame_number = (int64_t)nq;
          nq++;
        }
        t0 += len;
      }
      vigil_vpdq_opts o;
      vigil_vpdq_opts_default(&o);
      vigil_vpdq_result r;
      assert_int_equal(vigil_vpdq_compare(q, nq, bank.f, bank.n, &o, &r, NULL), VIGIL_OK);
      if (getenv("VIGIL_TEST_VERBOSE")) {
        print_message("  %s %s q%%=%.0f:", ed[e].name, clips[c], r.query_pct);
        for (size_t s = 0; s < r.nsegments; s++)
          print_message(" [%.2f-%.2f <-> %.2f-%.2f x%.2f %.2f]", r.segments[s].query_start, r.segments[s].query_end,
                        r.segments[s].bank_start, r.segments[s].bank_end, r.segments[s].speed, r.segments[s].share);
        print_message("\n");
      }
      found += r.nsegments;
      t0 = 0;
      for (int p = 0; p < ed[e].nparts; p++) {
        double len = ed[e].parts[p][0] * dur, src = ed[e].parts[p][1] * dur, sp = ed[e].parts[p][2];
        double qs = t0, qe = t0 + len - 1.0 / fps, bs = src, be = src + sp * (len - 1.0 / fps);
        t0 += len;
        if (sp == 0) continue;
        truth++;
        for (size_t s = 0; s < r.nsegments; s++) {
          const vigil_vpdq_segment *g = &r.segments[s];
          if (fmin(qe, g->query_end) - fmax(qs, g->query_start) < 0.5 * (qe - qs)) continue;
          correct++;
          double errs[4] = {fabs(g->query_start - qs), fabs(g->query_end - qe), fabs(g->bank_start - bs),
                            fabs(g->bank_end - be)};
          for (int k = 0; k < 4; k++) {
            sum_err += errs[k];
            nerr++;
            if (errs[k] > max_err) max_err = errs[k];
          }
          break;
        }
      }
      free(r.segments);
    }
    double prec = found ? (double)correct / (double)found : 0, rec = (double)correct / (double)truth;
    double mean = nerr ? sum_err / (double)nerr : 0;
    print_message("%-16s %9.2f %6.2f %10.2f %10.2f\n", ed[e].name, prec, rec, mean, max_err);
    assert_true(rec >= 0.8);
    assert_true(prec >= 0.8);
    assert_true(mean <= 1.0);
  }
}

int main(void) {
  if (!tu_shared("vpdq/sample-hashes", dir, sizeof dir)) return 77;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_localisation), cmocka_unit_test(test_debian_clips)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
