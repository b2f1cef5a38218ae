/* SPDX-License-Identifier: Apache-2.0 */
/*
 * make-samples.c - writes the synthetic pictures in samples/ (used by
 * `make demo` and as fuzzing seeds).  Build and run by hand:
 *   cc -O2 scripts/make-samples.c -o /tmp/mk -ljpeg -lpng -lwebp -lgif -lm && /tmp/mk samples
 */
#include <stdio.h>
#include <gif_lib.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/encode.h>

static unsigned char *scene(int w, int h, int variant, int mirror) {
  unsigned char *p = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x0 = 0; x0 < w; x0++) {
      int x = mirror ? w - 1 - x0 : x0;
      double u = (double)x / w, v = (double)y / h;
      double r = sqrt((u - 0.35) * (u - 0.35) + (v - 0.4) * (v - 0.4));
      double a = 0.5 + 0.5 * sin(40 * r + variant);
      double b = 0.5 + 0.5 * cos(9 * u * (1 + variant) + 5 * v * v);
      double c = (u + v) / 2;
      unsigned char *q = p + ((size_t)y * w + x0) * 3;
      q[0] = (unsigned char)(255 * (0.6 * a + 0.4 * c));
      q[1] = (unsigned char)(255 * (0.5 * b + 0.5 * (1 - c)));
      q[2] = (unsigned char)(255 * (0.3 * a + 0.7 * b * (1 - u)));
    }
  return p;
}

static void jpeg(const char *path, unsigned char *rgb, int w, int h) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  FILE *f = fopen(path, "wb");
  jpeg_stdio_dest(&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 85, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = rgb + (size_t)c.next_scanline * w * 3;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(f);
}

static void png(const char *path, unsigned char *px, int w, int h, int grey) {
  FILE *f = fopen(path, "wb");
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop i = png_create_info_struct(p);
  png_init_io(p, f);
  png_set_IHDR(p, i, w, h, 8, grey ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(p, i);
  for (int y = 0; y < h; y++) png_write_row(p, px + (size_t)y * w * (grey ? 1 : 3));
  png_write_end(p, i);
  png_destroy_write_struct(&p, &i);
  fclose(f);
}

static void bmp(const char *path, unsigned char *rgb, int w, int h) {
  int stride = (w * 3 + 3) & ~3;
  unsigned char hdr[54] = {'B', 'M'};
  unsigned size = 54 + stride * h;
  memcpy(hdr + 2, &size, 4);
  unsigned v = 54;
  memcpy(hdr + 10, &v, 4);
  v = 40;
  memcpy(hdr + 14, &v, 4);
  memcpy(hdr + 18, &w, 4);
  memcpy(hdr + 22, &h, 4);
  hdr[26] = 1;
  hdr[28] = 24;
  FILE *f = fopen(path, "wb");
  fwrite(hdr, 1, 54, f);
  unsigned char *row = calloc(1, stride);
  for (int y = h - 1; y >= 0; y--) {
    for (int x = 0; x < w; x++) {
      row[3 * x] = rgb[((size_t)y * w + x) * 3 + 2];
      row[3 * x + 1] = rgb[((size_t)y * w + x) * 3 + 1];
      row[3 * x + 2] = rgb[((size_t)y * w + x) * 3];
    }
    fwrite(row, 1, stride, f);
  }
  free(row);
  fclose(f);
}

static void gif(const char *path, unsigned char *rgb, int w, int h) {
  int err;
  GifFileType *g = EGifOpenFileName(path, 0, &err);
  GifColorType colors[256];
  for (int i = 0; i < 256; i++) {
    colors[i].Red = (GifByteType)((i >> 5) * 255 / 7);
    colors[i].Green = (GifByteType)(((i >> 2) & 7) * 255 / 7);
    colors[i].Blue = (GifByteType)((i & 3) * 255 / 3);
  }
  ColorMapObject *cm = GifMakeMapObject(256, colors);
  EGifPutScreenDesc(g, w, h, 8, 0, cm);
  EGifPutImageDesc(g, 0, 0, w, h, 0, NULL);
  GifByteType *line = malloc(w);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      unsigned char *q = rgb + ((size_t)y * w + x) * 3;
      line[x] = (GifByteType)(((q[0] * 7 + 127) / 255) << 5 | ((q[1] * 7 + 127) / 255) << 2 | ((q[2] * 3 + 127) / 255));
    }
    EGifPutLine(g, line, w);
  }
  free(line);
  GifFreeMapObject(cm);
  EGifCloseFile(g, &err);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "samples";
  char path[512];
  unsigned char *a = scene(1024, 768, 0, 0), *am = scene(1024, 768, 0, 1), *b = scene(640, 480, 2, 0);
  snprintf(path, sizeof path, "%s/rings.jpg", dir);
  jpeg(path, a, 1024, 768);
  snprintf(path, sizeof path, "%s/rings-mirrored.jpg", dir);
  jpeg(path, am, 1024, 768);
  snprintf(path, sizeof path, "%s/waves.png", dir);
  png(path, b, 640, 480, 0);
  unsigned char *grey = malloc(640 * 480);
  for (int i = 0; i < 640 * 480; i++) grey[i] = (unsigned char)((b[3 * i] * 3 + b[3 * i + 1] * 6 + b[3 * i + 2]) / 10);
  snprintf(path, sizeof path, "%s/waves-grey.png", dir);
  png(path, grey, 640, 480, 1);
  unsigned char *c = scene(400, 300, 5, 0);
  uint8_t *out;
  size_t n = WebPEncodeRGB(c, 400, 300, 1200, 80, &out);
  snprintf(path, sizeof path, "%s/swirl.webp", dir);
  FILE *f = fopen(path, "wb");
  fwrite(out, 1, n, f);
  fclose(f);
  WebPFree(out);
  unsigned char *d = scene(320, 240, 7, 0);
  snprintf(path, sizeof path, "%s/tiles.gif", dir);
  gif(path, d, 320, 240);
  unsigned char *e = scene(256, 256, 3, 0);
  snprintf(path, sizeof path, "%s/square.bmp", dir);
  bmp(path, e, 256, 256);
  free(a); free(am); free(b); free(grey); free(c); free(d); free(e);
  return 0;
}
