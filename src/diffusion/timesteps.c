/* Time grids exactly as numpy / diffusers compute them (diffusers schedulers'
 * set_timesteps; "Common Diffusion Noise Schedules and Sample Steps are Flawed",
 * Lin et al. 2024, Table 2 for leading / linspace / trailing). */
#include "diffusion/diffusion_impl.h"

#include <math.h>

double brisk__np_linspace(double start, double stop, size_t num, size_t i) {
    if (num <= 1) return start;
    if (i == num - 1) return stop;
    double step = (stop - start) / (double)(num - 1);
    return (double)i * step + start;
}

size_t brisk__np_arange_len(double start, double stop, double step) {
    double len = ceil((stop - start) / step);
    return len > 0 ? (size_t)len : 0;
}

double brisk__np_arange_at(double start, double step, size_t i) {
    /* numpy fills x0 = start, x1 = start + step, then x_i = x0 + i * (x1 - x0). */
    if (i == 0) return start;
    double delta = (start + step) - start;
    return start + (double)i * delta;
}

double brisk__np_round(double x) { return nearbyint(x); }

double brisk__np_interp_index(double x, const double *fp, size_t n) {
    if (!(x > 0)) return fp[0];
    if (x >= (double)(n - 1)) return fp[n - 1];
    size_t j = (size_t)x;
    double f = x - (double)j;
    if (f == 0) return fp[j];
    /* numpy: slope * (x - xp[j]) + fp[j] */
    return (fp[j + 1] - fp[j]) * f + fp[j];
}

size_t brisk__dd_timesteps(const brisk_scheduler_config *c, int n, double *out) {
    int T = c->num_train_timesteps;
    switch (c->timestep_spacing) {
    case BRISK_SPACING_LINSPACE:
        for (int i = 0; i < n; i++)
            out[i] = brisk__np_round(brisk__np_linspace(0, T - 1, (size_t)n, (size_t)(n - 1 - i)));
        break;
    case BRISK_SPACING_TRAILING: {
        double r = (double)T / n;
        size_t len = brisk__np_arange_len(T, 0, -r);
        if (len > (size_t)n + 1) len = (size_t)n + 1;
        for (size_t i = 0; i < len; i++) out[i] = brisk__np_round(brisk__np_arange_at(T, -r, i)) - 1;
        return len;
    }
    default: { /* leading */
        int ratio = T / n;
        for (int i = 0; i < n; i++) out[i] = (double)(n - 1 - i) * ratio + c->steps_offset;
        break;
    }
    }
    return (size_t)n;
}

/* Drops repeated timesteps, keeping each value's first position, as diffusers' multistep
 * schedulers do (np.unique(..., return_index=True), indices sorted): with N close to T the
 * rounded linspace grid repeats values, and a zero-length step would divide by zero. */
static size_t dedup_keep_first(double *t, size_t m) {
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        int seen = 0;
        for (size_t j = 0; j < k && !seen; j++) seen = t[j] == t[i];
        if (!seen) t[k++] = t[i];
    }
    return k;
}

static size_t ms_timesteps_raw(const brisk_scheduler_config *c, int n, int last, double *out);

size_t brisk__ms_timesteps(const brisk_scheduler_config *c, int n, int last, double *out) {
    return dedup_keep_first(out, ms_timesteps_raw(c, n, last, out));
}

static size_t ms_timesteps_raw(const brisk_scheduler_config *c, int n, int last, double *out) {
    int T = c->num_train_timesteps;
    switch (c->timestep_spacing) {
    case BRISK_SPACING_LINSPACE:
        for (int i = 0; i < n; i++)
            out[i] = brisk__np_round(brisk__np_linspace(0, last - 1, (size_t)n + 1, (size_t)(n - i)));
        break;
    case BRISK_SPACING_TRAILING: {
        double r = (double)T / n;
        size_t len = brisk__np_arange_len(last, 0, -r);
        if (len > (size_t)n + 1) len = (size_t)n + 1;
        for (size_t i = 0; i < len; i++) out[i] = brisk__np_round(brisk__np_arange_at(last, -r, i)) - 1;
        return len;
    }
    default: {
        int ratio = last / (n + 1);
        for (int i = 0; i < n; i++) out[i] = (double)(n - i) * ratio + c->steps_offset;
        break;
    }
    }
    return (size_t)n;
}

size_t brisk__euler_timesteps(const brisk_scheduler_config *c, int n, double *out) {
    int T = c->num_train_timesteps;
    switch (c->timestep_spacing) {
    case BRISK_SPACING_LINSPACE:
        /* np.linspace(0, T-1, n, dtype=float32)[::-1] */
        for (int i = 0; i < n; i++)
            out[i] = (float)brisk__np_linspace(0, T - 1, (size_t)n, (size_t)(n - 1 - i));
        break;
    case BRISK_SPACING_TRAILING: {
        double r = (double)T / n;
        size_t len = brisk__np_arange_len(T, 0, -r);
        if (len > (size_t)n + 1) len = (size_t)n + 1;
        for (size_t i = 0; i < len; i++)
            out[i] = (double)((float)brisk__np_round(brisk__np_arange_at(T, -r, i)) - 1.0f);
        return len;
    }
    default: {
        int ratio = T / n;
        for (int i = 0; i < n; i++) out[i] = (double)((float)((n - 1 - i) * ratio) + (float)c->steps_offset);
        break;
    }
    }
    return (size_t)n;
}
