#include "brisk/core.h"
#include "brisk/io.h"

#include <math.h>
#include <png.h>
#include <string.h>

int brisk_png_write_rgb(const char *path, const uint8_t *rgb, size_t width, size_t height) {
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, path);
    if (rc) return rc;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        brisk_atomic_abort(&f);
        return brisk_error(BRISK_ENOMEM, "%s: libpng initialisation failed", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        brisk_atomic_abort(&f);
        return brisk_error(BRISK_EIO, "%s: PNG encoding failed", path);
    }
    png_init_io(png, f.fp);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgb + y * width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return brisk_atomic_commit(&f);
}

int brisk_png_write_grid(const char *path, const float *x, size_t n, size_t c, size_t h,
                         size_t w, size_t cols, float lo, float hi) {
    if (c != 1 && c != 3)
        return brisk_error(BRISK_EINVAL, "%s: PNG grid needs 1 or 3 channels, got %zu", path, c);
    if (n == 0) return brisk_error(BRISK_EINVAL, "%s: no images to write", path);
    if (cols == 0) cols = (size_t)ceil(sqrt((double)n));
    size_t rows = (n + cols - 1) / cols, border = 2;
    size_t W = cols * (w + border) + border, H = rows * (h + border) + border;
    uint8_t *img = brisk_malloc(W * H * 3);
    if (!img) return BRISK_ENOMEM;
    memset(img, 255, W * H * 3);
    float scale = hi > lo ? 255.0f / (hi - lo) : 1.0f;
    for (size_t k = 0; k < n; k++) {
        size_t oy = border + (k / cols) * (h + border), ox = border + (k % cols) * (w + border);
        for (size_t y = 0; y < h; y++)
            for (size_t xx = 0; xx < w; xx++)
                for (size_t ch = 0; ch < 3; ch++) {
                    float v = x[((k * c + (c == 3 ? ch : 0)) * h + y) * w + xx];
                    float s = (v - lo) * scale;
                    if (!(s >= 0)) s = 0; /* NaN -> 0 */
                    if (s > 255) s = 255;
                    img[((oy + y) * W + ox + xx) * 3 + ch] = (uint8_t)lrintf(s);
                }
    }
    int rc = brisk_png_write_rgb(path, img, W, H);
    brisk_free(img);
    return rc;
}
