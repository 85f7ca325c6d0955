/* Refined schedules from observed gradient norms (Defazio, Cutkosky, Mehta, Mishchenko,
 * "When, Why and How Much? Adaptive Learning Rate Scheduling by Refinement", 2023).
 *
 * Closed form (find_schedule.py, find_closed_form_schedule): with weights w_t = G_t^-2
 * (SGD, l2 norms) or G_t^-1 (Adam-like, l1 norms),
 *     lr_t  proportional to  w_t * sum_{p > t} w_p,   lr_{T-1} = 0,
 * normalised by its maximum. Smoothing (visual.py, REFERENCES.md section 5): drop inf,
 * drop 2 values at each end, linearly resample to 10,000 points if shorter, median filter
 * of width 2*floor(0.1*10000/2)+1 = 1001 (scipy.ndimage.median_filter, mode 'nearest')
 * applied after reflect-padding the end only by 2*width, crop the padding, resample to
 * 10,000 points. numpy's linspace/interp arithmetic is reproduced. */
#include "lr_impl.h"

#include "brisk/core.h"
#include "brisk/io.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void brisk_lr_refine_params_default(brisk_lr_refine_params *p) {
    p->weight_power = 2.0;
    p->drop_inf = 1;
    p->trim_each_end = 2;
    p->min_len = 10000;
    p->filter_width = 2 * ((size_t)(0.1 * 10000) / 2) + 1; /* 1001 */
    p->pad_widths = 2;
    p->resample_to = 10000;
}

/* numpy.linspace(start, stop, n): i * step + start, last element = stop. */
void lr_linspace(double start, double stop, size_t n, double *out) {
    if (n == 0) return;
    if (n == 1) {
        out[0] = start;
        return;
    }
    double step = (stop - start) / (double)(n - 1);
    for (size_t i = 0; i < n; i++) out[i] = (double)i * step + start;
    out[n - 1] = stop;
}

/* numpy.interp(x, xp, fp) for increasing xp (left/right = fp[0]/fp[-1]). */
void lr_interp(const double *x, size_t nx, const double *xp, const double *fp, size_t np_,
               double *out) {
    size_t j = 0;
    for (size_t i = 0; i < nx; i++) {
        double v = x[i];
        if (np_ == 1 || v <= xp[0]) {
            out[i] = fp[0];
            continue;
        }
        if (v >= xp[np_ - 1]) {
            out[i] = fp[np_ - 1];
            continue;
        }
        /* xp[j] <= v < xp[j+1]; x is usually increasing, so search from the last j */
        if (!(xp[j] <= v)) j = 0;
        if (!(v < xp[j + 1])) {
            size_t lo = j, hi = np_ - 1; /* xp[lo] <= v < xp[hi] */
            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (xp[mid] <= v) lo = mid;
                else hi = mid;
            }
            j = lo;
        }
        double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        double r = slope * (v - xp[j]) + fp[j];
        if (isnan(r)) {
            r = slope * (v - xp[j + 1]) + fp[j + 1];
            if (isnan(r) && fp[j] == fp[j + 1]) r = fp[j];
        }
        out[i] = r;
    }
}

/* Linear resampling of f (n points) to m points on [0, 1] (np.interp over linspaces). */
static int resample(const double *f, size_t n, size_t m, double **out) {
    double *xs = brisk_malloc((m + n) * sizeof(double));
    double *r = brisk_malloc(m * sizeof(double));
    if (!xs || !r) {
        brisk_free(xs);
        brisk_free(r);
        return BRISK_ENOMEM;
    }
    lr_linspace(0.0, 1.0, m, xs);
    lr_linspace(0.0, 1.0, n, xs + m);
    lr_interp(xs, m, xs + m, f, n, r);
    brisk_free(xs);
    *out = r;
    return 0;
}

int brisk_lr_resample(const double *f, size_t n, size_t m, double *out) {
    if (n == 0) return brisk_error(BRISK_EINVAL, "nothing to resample");
    if (m == 0) return 0;
    double *r;
    int rc = resample(f, n, m, &r);
    if (rc) return brisk_error(rc, "out of memory resampling %zu values to %zu", n, m);
    memcpy(out, r, m * sizeof(double));
    brisk_free(r);
    return 0;
}

/* ---- CSV ------------------------------------------------------------------------ */

/* Splits one CSV line (RFC 4180 quotes) in place; returns the number of fields. */
static size_t csv_split(char *line, char **fields, size_t max) {
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w = p;
        if (*p == '"') {
            p++;
            start = w = p;
            for (;;) {
                if (!*p) break;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p && *p != ',') p++; /* ignore anything after the closing quote */
        } else {
            while (*p && *p != ',') *w++ = *p++;
        }
        char sep = *p;
        *w = '\0';
        if (n < max) fields[n] = start;
        n++;
        if (sep != ',') break;
        p++;
    }
    return n;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

int brisk_lr_grad_norms_read(const char *path, int l1, double **norms, size_t *count) {
    *norms = NULL;
    *count = 0;
    char *text;
    size_t len;
    int rc = brisk_read_file(path, &text, &len);
    if (rc) return rc;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        memmove(text, text + 3, len - 2); /* UTF-8 byte order mark */
    size_t cap = 1024, n = 0;
    double *g = brisk_malloc(cap * sizeof(double));
    if (!g) {
        brisk_free(text);
        return BRISK_ENOMEM;
    }
    char *fields[64];
    int col = -1;
    size_t need = 0;
    long lineno = 0;
    char *p = text;
    while (*p && !rc) {
        char *line = p;
        char *e = strchr(p, '\n');
        if (e) {
            *e = '\0';
            p = e + 1;
        } else {
            p += strlen(p);
        }
        lineno++;
        size_t L = strlen(line);
        if (L && line[L - 1] == '\r') line[--L] = '\0';
        if (!*trim(line)) continue; /* blank line */
        size_t nf = csv_split(line, fields, 64);
        size_t have = nf < 64 ? nf : 64;
        for (size_t i = 0; i < have; i++) fields[i] = trim(fields[i]);
        if (col < 0) { /* header */
            if (have >= 3 && !strcmp(fields[0], "step") && !strcmp(fields[1], "grad_norm_l2") &&
                !strcmp(fields[2], "grad_norm_l1")) {
                col = l1 ? 2 : 1; /* brisk's own training log */
                need = 3;
            } else if (have >= 2 && !strcmp(fields[0], "Step")) {
                col = 1; /* wandb export: Step, value, value__MIN, value__MAX */
                need = 2;
            } else {
                rc = brisk_error(BRISK_EPARSE,
                                 "%s: line %ld: unrecognised header '%s' (expected "
                                 "'step,grad_norm_l2,grad_norm_l1' or a wandb export "
                                 "'Step,<name>,...')", path, lineno, have ? fields[0] : "");
            }
            continue;
        }
        if (nf < need) {
            rc = brisk_error(BRISK_EPARSE, "%s: line %ld has %zu fields, expected %zu", path, lineno,
                             nf, need);
            break;
        }
        const char *cell = fields[col];
        if (!*cell) {
            rc = brisk_error(BRISK_EPARSE, "%s: line %ld, column %d: empty cell", path, lineno, col + 1);
            break;
        }
        char *end;
        errno = 0;
        double v = strtod(cell, &end);
        if (end == cell || *end) {
            rc = brisk_error(BRISK_EPARSE, "%s: line %ld, column %d: '%s' is not a number", path,
                             lineno, col + 1, cell);
            break;
        }
        if (isnan(v)) {
            rc = brisk_error(BRISK_EPARSE, "%s: line %ld, column %d: gradient norm is NaN", path,
                             lineno, col + 1);
            break;
        }
        if (v < 0) {
            rc = brisk_error(BRISK_EINVAL, "%s: line %ld, column %d: negative gradient norm %s", path,
                             lineno, col + 1, cell);
            break;
        }
        if (n == cap) {
            double *ng = brisk_realloc(g, 2 * cap * sizeof(double));
            if (!ng) {
                rc = BRISK_ENOMEM;
                break;
            }
            g = ng;
            cap *= 2;
        }
        g[n++] = v;
    }
    brisk_free(text);
    if (!rc && col < 0) rc = brisk_error(BRISK_EPARSE, "%s: empty file (no header, no gradient norms)", path);
    if (!rc && n == 0) rc = brisk_error(BRISK_EPARSE, "%s: no gradient norms after the header", path);
    if (rc) {
        brisk_free(g);
        return rc;
    }
    *norms = g;
    *count = n;
    return 0;
}

/* ---- smoothing ------------------------------------------------------------------ */

/* Index into x (length n) reflected at the end as numpy.pad(mode='reflect') does. */
static size_t reflect_index(size_t j, size_t n) {
    if (j < n) return j;
    if (n == 1) return 0;
    size_t period = 2 * (n - 1);
    size_t m = j % period;
    return m < n ? m : period - m;
}

static size_t lower_bound(const double *a, size_t n, double v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* out[i] = median of ext[clamp(i-h) .. clamp(i+h)] for i < n_out, where ext is x (n
 * values) reflect-padded at the end to length L and clamped at both ends (scipy's
 * mode='nearest'). A sorted window slides along: O(w) per output. */
static int median_filter_padded(const double *x, size_t n, size_t L, size_t w, size_t n_out,
                                double *out) {
    size_t h = w / 2;
    double *win = brisk_malloc(w * sizeof(double));
    if (!win) return BRISK_ENOMEM;
#define EXT(k) x[reflect_index((k) < 0 ? 0 : ((size_t)(k) >= L ? L - 1 : (size_t)(k)), n)]
    size_t m = 0;
    for (long k = -(long)h; k <= (long)h; k++) {
        double v = EXT(k);
        size_t pos = lower_bound(win, m, v);
        memmove(win + pos + 1, win + pos, (m - pos) * sizeof(double));
        win[pos] = v;
        m++;
    }
    for (size_t i = 0; i < n_out; i++) {
        out[i] = win[h];
        if (i + 1 == n_out) break;
        double old = EXT((long)i - (long)h), nw = EXT((long)i + 1 + (long)h);
        size_t pos = lower_bound(win, m, old); /* an element equal to old is there */
        memmove(win + pos, win + pos + 1, (m - pos - 1) * sizeof(double));
        m--;
        pos = lower_bound(win, m, nw);
        memmove(win + pos + 1, win + pos, (m - pos) * sizeof(double));
        win[pos] = nw;
        m++;
    }
#undef EXT
    brisk_free(win);
    return 0;
}

int brisk_lr_refine_smooth(const double *g, size_t n, const brisk_lr_refine_params *p,
                           double **out, size_t *out_n) {
    *out = NULL;
    *out_n = 0;
    if (p->filter_width > 1 && p->filter_width % 2 == 0)
        return brisk_error(BRISK_EINVAL, "median filter width %zu must be odd", p->filter_width);
    if (p->resample_to < 2) return brisk_error(BRISK_EINVAL, "resample_to must be >= 2");
    double *a = brisk_malloc((n ? n : 1) * sizeof(double));
    if (!a) return BRISK_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(g[i]) || g[i] < 0) {
            brisk_free(a);
            return brisk_error(BRISK_EINVAL, "gradient norm %zu is %s", i,
                               isnan(g[i]) ? "NaN" : "negative");
        }
        if (p->drop_inf && isinf(g[i])) continue;
        a[m++] = g[i];
    }
    if (m <= 2 * p->trim_each_end + 1) {
        brisk_free(a);
        return brisk_error(BRISK_EINVAL, "%zu finite gradient norms: need more than %zu after "
                                         "dropping %zu at each end", m, 2 * p->trim_each_end + 1,
                           p->trim_each_end);
    }
    size_t len = m - 2 * p->trim_each_end;
    memmove(a, a + p->trim_each_end, len * sizeof(double));
    int rc;
    if (len < p->min_len) { /* np.interp(linspace(0,1,nvals), linspace(0,1,glen), g) */
        double *r;
        rc = resample(a, len, p->min_len, &r);
        brisk_free(a);
        if (rc) return rc;
        a = r;
        len = p->min_len;
    }
    double *f = a;
    if (p->filter_width > 1) {
        f = brisk_malloc(len * sizeof(double));
        if (!f) {
            brisk_free(a);
            return BRISK_ENOMEM;
        }
        size_t pad = p->pad_widths * p->filter_width;
        rc = median_filter_padded(a, len, len + pad, p->filter_width, len, f);
        brisk_free(a);
        if (rc) {
            brisk_free(f);
            return rc;
        }
    }
    double *r;
    rc = resample(f, len, p->resample_to, &r);
    brisk_free(f);
    if (rc) return rc;
    *out = r;
    *out_n = p->resample_to;
    return 0;
}

int brisk_lr_refine_closed_form(const double *g, size_t n, double power, double *sched) {
    if (n < 2) return brisk_error(BRISK_EINVAL, "refined schedule needs at least 2 norms, got %zu", n);
    if (!(power > 0)) return brisk_error(BRISK_EINVAL, "weight power %g must be > 0", power);
    for (size_t t = 0; t < n; t++)
        if (!(g[t] > 0) || !isfinite(g[t]))
            return brisk_error(BRISK_ENUMERIC, "gradient norm at position %zu is %g; weights "
                                               "g^-%g need positive finite norms", t, g[t], power);
    /* sched doubles as the weights, tail holds sum_{p >= t} w_p (np.flip(np.cumsum(np.flip))) */
    double *tail = brisk_malloc(n * sizeof(double));
    if (!tail) return BRISK_ENOMEM;
    for (size_t t = 0; t < n; t++) sched[t] = pow(g[t], -power);
    tail[n - 1] = sched[n - 1];
    for (size_t t = n - 1; t-- > 0;) tail[t] = tail[t + 1] + sched[t];
    double last = tail[n - 1], mx = 0;
    for (size_t t = 0; t + 1 < n; t++) {
        sched[t] = sched[t] * tail[t + 1] / last;
        if (sched[t] > mx) mx = sched[t];
    }
    sched[n - 1] = 0;
    brisk_free(tail);
    if (!(mx > 0) || !isfinite(mx))
        return brisk_error(BRISK_ENUMERIC, "refined schedule has no positive finite maximum");
    for (size_t t = 0; t < n; t++) sched[t] = sched[t] / mx;
    return 0;
}

int brisk_lr_refine(const double *g, size_t n, const brisk_lr_refine_params *p, size_t steps,
                    double **sched) {
    *sched = NULL;
    if (steps < 2) return brisk_error(BRISK_EINVAL, "refined schedule needs steps >= 2, got %zu", steps);
    double *sm;
    size_t m;
    int rc = brisk_lr_refine_smooth(g, n, p, &sm, &m);
    if (rc) return rc;
    double *r;
    rc = resample(sm, m, steps, &r);
    brisk_free(sm);
    if (rc) return rc;
    rc = brisk_lr_refine_closed_form(r, steps, p->weight_power, r);
    if (rc) {
        brisk_free(r);
        return rc;
    }
    *sched = r;
    return 0;
}
