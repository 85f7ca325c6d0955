/* Line plots of schedules: PNG (a small rasteriser with a built-in 3x5 font) or SVG. */
#include "lr_impl.h"

#include "brisk/core.h"
#include "brisk/io.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PW 900
#define PH 540
#define ML 86 /* margins: left, right, top, bottom */
#define MR 24
#define MT 40
#define MB 60

static const uint8_t palette[][3] = {
    {31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {255, 127, 14}, {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};
#define N_PALETTE (sizeof palette / sizeof palette[0])

/* 3x5 glyphs, one row per entry, bit 2 = left column. */
static const struct {
    char c;
    uint8_t rows[5];
} font[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}},
    {'+', {0, 2, 7, 2, 0}}, {'A', {2, 5, 7, 5, 5}}, {'B', {6, 5, 6, 5, 6}}, {'C', {3, 4, 4, 4, 3}},
    {'D', {6, 5, 5, 5, 6}}, {'E', {7, 4, 6, 4, 7}}, {'F', {7, 4, 6, 4, 4}}, {'G', {3, 4, 5, 5, 3}},
    {'H', {5, 5, 7, 5, 5}}, {'I', {7, 2, 2, 2, 7}}, {'J', {1, 1, 1, 5, 2}}, {'K', {5, 5, 6, 5, 5}},
    {'L', {4, 4, 4, 4, 7}}, {'M', {5, 7, 7, 5, 5}}, {'N', {6, 5, 5, 5, 5}}, {'O', {2, 5, 5, 5, 2}},
    {'P', {6, 5, 6, 4, 4}}, {'Q', {2, 5, 5, 6, 3}}, {'R', {6, 5, 6, 5, 5}}, {'S', {3, 4, 2, 1, 6}},
    {'T', {7, 2, 2, 2, 2}}, {'U', {5, 5, 5, 5, 7}}, {'V', {5, 5, 5, 5, 2}}, {'W', {5, 5, 7, 7, 5}},
    {'X', {5, 5, 2, 5, 5}}, {'Y', {5, 5, 2, 2, 2}}, {'Z', {7, 1, 2, 4, 7}}, {'(', {1, 2, 2, 2, 1}},
    {')', {4, 2, 2, 2, 4}}, {',', {0, 0, 0, 2, 4}}, {'=', {0, 7, 0, 7, 0}}, {'_', {0, 0, 0, 0, 7}},
    {':', {0, 2, 0, 2, 0}}, {'/', {1, 1, 2, 4, 4}}, {'[', {3, 2, 2, 2, 3}}, {']', {6, 2, 2, 2, 6}},
    {'%', {5, 1, 2, 4, 5}}, {'*', {0, 5, 2, 5, 0}}, {'^', {2, 5, 0, 0, 0}}, {'\'', {2, 2, 0, 0, 0}},
    {'"', {5, 5, 0, 0, 0}}, {'<', {1, 2, 4, 2, 1}}, {'>', {4, 2, 1, 2, 4}}, {'|', {2, 2, 2, 2, 2}},
};

typedef struct canvas {
    uint8_t *px;
    int w, h;
} canvas;

static void put(canvas *c, int x, int y, const uint8_t *rgb) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, const uint8_t *rgb) {
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) put(c, x, y, rgb);
}

/* Bresenham line, `thick` pixels wide (square pen). */
static void line(canvas *c, int x0, int y0, int x1, int y1, const uint8_t *rgb, int thick) {
    int dx = x1 > x0 ? x1 - x0 : x0 - x1, sx = x0 < x1 ? 1 : -1;
    int dy = y1 > y0 ? y0 - y1 : y1 - y0, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    int lo = -(thick - 1) / 2, hi = thick / 2;
    for (;;) {
        for (int a = lo; a <= hi; a++)
            for (int b = lo; b <= hi; b++) put(c, x0 + a, y0 + b, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

#define FS 2 /* font scale */
#define ADV (4 * FS)

static void text(canvas *c, int x, int y, const char *s, const uint8_t *rgb) {
    for (; *s; s++, x += ADV) {
        char ch = (char)toupper((unsigned char)*s);
        for (size_t g = 0; g < sizeof font / sizeof font[0]; g++) {
            if (font[g].c != ch) continue;
            for (int r = 0; r < 5; r++)
                for (int col = 0; col < 3; col++)
                    if (font[g].rows[r] & (4 >> col))
                        fill_rect(c, x + col * FS, y + r * FS, x + col * FS + FS - 1,
                                  y + r * FS + FS - 1, rgb);
            break;
        }
    }
}

static int text_width(const char *s) { return (int)strlen(s) * ADV - FS; }

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about `want` ticks. */
static double nice_step(double range, int want) {
    if (!(range > 0)) return 1;
    double raw = range / want, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void fmt_tick(char *buf, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0;
    snprintf(buf, n, "%.4g", v);
}

typedef struct frame {
    double x0, x1, y0, y1;
} frame;

static double xv(const brisk_lr_series *s, size_t k) { return s->x ? s->x[k] : (double)k; }

static void compute_frame(const brisk_lr_series *s, size_t ns, frame *f) {
    double ymin = 0, ymax = 0, xmax = 1, xmin = 0;
    int any = 0, anyx = 0, all_x = ns > 0;
    for (size_t i = 0; i < ns; i++) {
        if (s[i].x) {
            for (size_t k = 0; k < s[i].n; k++) {
                if (!anyx || s[i].x[k] > xmax) xmax = s[i].x[k];
                if (!anyx || s[i].x[k] < xmin) xmin = s[i].x[k];
                anyx = 1;
            }
        } else {
            all_x = 0;
            if (s[i].n > 1 && (double)(s[i].n - 1) > xmax) xmax = (double)(s[i].n - 1);
            if (anyx && xmin > 0) xmin = 0;
        }
        for (size_t k = 0; k < s[i].n; k++) {
            double v = s[i].y[k];
            if (!isfinite(v)) continue;
            if (!any || v > ymax) ymax = v;
            if (!any || v < ymin) ymin = v;
            any = 1;
        }
    }
    /* schedules start the y axis at 0; metric curves (every series with x values) span
     * their own range */
    if (ymin > 0 && !all_x) ymin = 0;
    if (!(ymax > ymin)) ymax = ymin + 1;
    if (!(xmax > xmin)) xmax = xmin + 1;
    f->x0 = xmin;
    f->x1 = xmax;
    f->y0 = all_x ? ymin - 0.05 * (ymax - ymin) : ymin;
    f->y1 = ymax + 0.05 * (ymax - ymin);
}

static double map_x(const frame *f, double x) { return ML + (x - f->x0) / (f->x1 - f->x0) * (PW - ML - MR); }
static double map_y(const frame *f, double y) { return PH - MB - (y - f->y0) / (f->y1 - f->y0) * (PH - MT - MB); }


/* Legend box of width w, height h in the corner (of four) that covers the fewest data
 * points; writes its top-left corner. */
static void legend_place(const brisk_lr_series *s, size_t ns, const frame *f, int w, int h, int *x0,
                         int *y0) {
    int cx[4] = {PW - MR - 6 - w, ML + 6, PW - MR - 6 - w, ML + 6};
    int cy[4] = {MT + 6, MT + 6, PH - MB - 6 - h, PH - MB - 6 - h};
    size_t best = (size_t)-1;
    for (int c = 0; c < 4; c++) {
        size_t hits = 0;
        for (size_t i = 0; i < ns; i++) {
            size_t stride = s[i].n > 4000 ? s[i].n / 4000 : 1;
            for (size_t k = 0; k < s[i].n; k += stride) {
                if (!isfinite(s[i].y[k])) continue;
                double x = map_x(f, xv(&s[i], k)), y = map_y(f, s[i].y[k]);
                hits += x >= cx[c] - 4 && x <= cx[c] + w + 4 && y >= cy[c] - 4 && y <= cy[c] + h + 4;
            }
        }
        if (hits < best) {
            best = hits;
            *x0 = cx[c];
            *y0 = cy[c];
        }
    }
}

static int write_png(const char *path, const brisk_lr_series *s, size_t ns, const char *title,
                     const char *xlabel, const frame *f) {
    canvas c = {brisk_malloc((size_t)PW * PH * 3), PW, PH};
    if (!c.px) return BRISK_ENOMEM;
    memset(c.px, 255, (size_t)PW * PH * 3);
    const uint8_t black[3] = {0, 0, 0}, grid[3] = {225, 225, 225}, gray[3] = {90, 90, 90};
    char buf[64];
    double xs = nice_step(f->x1 - f->x0, 8), ys = nice_step(f->y1 - f->y0, 6);
    for (double v = ceil(f->y0 / ys) * ys; v <= f->y1 + 1e-12 * ys; v += ys) {
        int y = (int)lround(map_y(f, v));
        line(&c, ML, y, PW - MR, y, grid, 1);
        line(&c, ML - 5, y, ML, y, black, 1);
        fmt_tick(buf, sizeof buf, v, ys);
        text(&c, ML - 9 - text_width(buf), y - 5, buf, black);
    }
    for (double v = ceil(f->x0 / xs) * xs; v <= f->x1 + 1e-12 * xs; v += xs) {
        int x = (int)lround(map_x(f, v));
        line(&c, x, MT, x, PH - MB, grid, 1);
        line(&c, x, PH - MB, x, PH - MB + 5, black, 1);
        fmt_tick(buf, sizeof buf, v, xs);
        text(&c, x - text_width(buf) / 2, PH - MB + 10, buf, black);
    }
    line(&c, ML, MT, ML, PH - MB, black, 1);
    line(&c, ML, PH - MB, PW - MR, PH - MB, black, 1);
    if (title) text(&c, (PW - text_width(title)) / 2, 14, title, black);
    if (xlabel) text(&c, (ML + PW - MR - text_width(xlabel)) / 2, PH - 22, xlabel, gray);
    for (size_t i = 0; i < ns; i++) {
        const uint8_t *col = palette[i % N_PALETTE];
        int px = 0, py = 0, have = 0;
        for (size_t k = 0; k < s[i].n; k++) {
            if (!isfinite(s[i].y[k])) {
                have = 0;
                continue;
            }
            int x = (int)lround(map_x(f, xv(&s[i], k))), y = (int)lround(map_y(f, s[i].y[k]));
            if (have) line(&c, px, py, x, y, col, 2);
            else put(&c, x, y, col);
            if (s[i].x) fill_rect(&c, x - 3, y - 3, x + 3, y + 3, col);
            px = x;
            py = y;
            have = 1;
        }
    }
    /* legend in the emptiest corner */
    int lw = 0;
    for (size_t i = 0; i < ns; i++) {
        int w = text_width(s[i].label ? s[i].label : "");
        if (w > lw) lw = w;
    }
    if (ns) {
        int bx0, by0;
        legend_place(s, ns, f, lw + 40, 8 + (int)ns * 16, &bx0, &by0);
        int bx1 = bx0 + lw + 40, by1 = by0 + 8 + (int)ns * 16;
        const uint8_t bg[3] = {250, 250, 250};
        fill_rect(&c, bx0, by0, bx1, by1, bg);
        line(&c, bx0, by0, bx1, by0, gray, 1);
        line(&c, bx0, by1, bx1, by1, gray, 1);
        line(&c, bx0, by0, bx0, by1, gray, 1);
        line(&c, bx1, by0, bx1, by1, gray, 1);
        for (size_t i = 0; i < ns; i++) {
            int y = by0 + 6 + (int)i * 16;
            line(&c, bx0 + 6, y + 5, bx0 + 28, y + 5, palette[i % N_PALETTE], 3);
            text(&c, bx0 + 34, y, s[i].label ? s[i].label : "", black);
        }
    }
    int rc = brisk_png_write_rgb(path, c.px, PW, PH);
    brisk_free(c.px);
    return rc;
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)k + 1;
        char *np = brisk_realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

static void sb_escaped(sbuf *b, const char *s) {
    for (; s && *s; s++) {
        if (*s == '&') sb_printf(b, "&amp;");
        else if (*s == '<') sb_printf(b, "&lt;");
        else if (*s == '>') sb_printf(b, "&gt;");
        else if (*s == '"') sb_printf(b, "&quot;");
        else sb_printf(b, "%c", *s);
    }
}

static int write_svg(const char *path, const brisk_lr_series *s, size_t ns, const char *title,
                     const char *xlabel, const frame *f) {
    sbuf b = {0};
    char buf[64];
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", PW, PH, PW, PH);
    double xs = nice_step(f->x1 - f->x0, 8), ys = nice_step(f->y1 - f->y0, 6);
    for (double v = ceil(f->y0 / ys) * ys; v <= f->y1 + 1e-12 * ys; v += ys) {
        double y = map_y(f, v);
        fmt_tick(buf, sizeof buf, v, ys);
        sb_printf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e1e1e1\"/>"
                      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                  ML, y, PW - MR, y, ML - 8, y + 4, buf);
    }
    for (double v = ceil(f->x0 / xs) * xs; v <= f->x1 + 1e-12 * xs; v += xs) {
        double x = map_x(f, v);
        fmt_tick(buf, sizeof buf, v, xs);
        sb_printf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e1e1e1\"/>"
                      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                  x, MT, x, PH - MB, x, PH - MB + 18, buf);
    }
    sb_printf(&b, "<polyline points=\"%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"black\"/>\n", ML,
              MT, ML, PH - MB, PW - MR, PH - MB);
    if (title) {
        sb_printf(&b, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">", PW / 2);
        sb_escaped(&b, title);
        sb_printf(&b, "</text>\n");
    }
    if (xlabel) {
        sb_printf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ML + PW - MR) / 2, PH - 16);
        sb_escaped(&b, xlabel);
        sb_printf(&b, "</text>\n");
    }
    size_t cols = PW - ML - MR;
    for (size_t i = 0; i < ns; i++) {
        const uint8_t *c = palette[i % N_PALETTE];
        sb_printf(&b, "<polyline fill=\"none\" stroke=\"#%02x%02x%02x\" stroke-width=\"2\" points=\"",
                  c[0], c[1], c[2]);
        size_t n = s[i].n;
        if (n <= 4 * cols) {
            for (size_t k = 0; k < n; k++)
                if (isfinite(s[i].y[k]))
                    sb_printf(&b, "%.2f,%.2f ", map_x(f, xv(&s[i], k)), map_y(f, s[i].y[k]));
        } else { /* per pixel column: first, min, max, last in index order */
            size_t k = 0;
            while (k < n) {
                size_t col = (size_t)(map_x(f, xv(&s[i], k)) - ML);
                size_t e = k, kmin = k, kmax = k;
                while (e < n && (size_t)(map_x(f, xv(&s[i], e)) - ML) == col) {
                    if (s[i].y[e] < s[i].y[kmin]) kmin = e;
                    if (s[i].y[e] > s[i].y[kmax]) kmax = e;
                    e++;
                }
                size_t pick[4] = {k, kmin < kmax ? kmin : kmax, kmin < kmax ? kmax : kmin, e - 1};
                for (int q = 0; q < 4; q++)
                    if ((q == 0 || pick[q] != pick[q - 1]) && isfinite(s[i].y[pick[q]]))
                        sb_printf(&b, "%.2f,%.2f ", map_x(f, xv(&s[i], pick[q])), map_y(f, s[i].y[pick[q]]));
                k = e;
            }
        }
        sb_printf(&b, "\"/>\n");
    }
    int lw = 0;
    for (size_t i = 0; i < ns; i++) {
        int w = (int)strlen(s[i].label ? s[i].label : "") * 7;
        if (w > lw) lw = w;
    }
    int lx, ly;
    legend_place(s, ns, f, lw + 40, 8 + (int)ns * 18, &lx, &ly);
    sb_printf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
                  "stroke=\"#5a5a5a\"/>\n", lx, ly, lw + 40, 8 + (int)ns * 18);
    for (size_t i = 0; i < ns; i++) {
        const uint8_t *c = palette[i % N_PALETTE];
        int y = ly + 18 + (int)i * 18;
        sb_printf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%02x%02x%02x\" "
                      "stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">", lx + 6, y - 4,
                  lx + 30, y - 4, c[0], c[1], c[2], lx + 36, y);
        sb_escaped(&b, s[i].label);
        sb_printf(&b, "</text>\n");
    }
    sb_printf(&b, "</svg>\n");
    int rc;
    if (b.oom) rc = brisk_error(BRISK_ENOMEM, "%s: out of memory building the SVG", path);
    else rc = brisk_write_file_atomic(path, b.p, b.n);
    brisk_free(b.p);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[n - m + i]) != suf[i]) return 0;
    return 1;
}

int brisk_lr_plot_write(const char *path, const brisk_lr_series *series, size_t n_series,
                        const char *title, const char *xlabel) {
    if (!path) return brisk_error(BRISK_EINVAL, "plot path is NULL");
    if (n_series == 0) return brisk_error(BRISK_EINVAL, "%s: nothing to plot", path);
    frame f;
    compute_frame(series, n_series, &f);
    if (ends_with(path, ".png")) return write_png(path, series, n_series, title, xlabel, &f);
    if (ends_with(path, ".svg")) return write_svg(path, series, n_series, title, xlabel, &f);
    return brisk_error(BRISK_EUNSUPPORTED, "%s: plot format must be .png or .svg", path);
}
