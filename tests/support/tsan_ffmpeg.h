/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsan_ffmpeg.h - for the video tests that run FFmpeg in several threads:
 * TSAN is defined under ThreadSanitizer, and FFmpeg's own accesses are
 * left unchecked.  libavcodec's frame threads hand packets and frames over
 * with C11 atomics in FFmpeg's code, which is not built with TSan, so TSan
 * sees the free() and memset() FFmpeg calls on both sides but not the
 * order between them.  Every access of vigil's own code is still checked.
 * Include it in one file of a test program (it defines the suppressions).
 */
#ifndef VIGIL_TSAN_FFMPEG_H
#define VIGIL_TSAN_FFMPEG_H

#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif

#ifdef TSAN
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void) {
  return "called_from_lib:libavcodec.so\ncalled_from_lib:libavutil.so\n";
}
#endif

#endif
