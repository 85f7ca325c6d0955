/* Multistep exponential integrators in log-SNR lambda = log(alpha_t / sigma_t):
 * DPM-Solver++ (Lu et al. 2022, "DPM-Solver++", Algorithm 2 (2M) and sec. 4; diffusers
 * DPMSolverMultistepScheduler, algorithm_type dpmsolver++) and UniPC (Zhao et al. 2023,
 * "UniPC", Algorithms 2-3, B(h) = h (bh1) or e^h - 1 (bh2); diffusers
 * UniPCMultistepScheduler). */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <string.h>

int brisk__plan_multistep(brisk_scheduler *s, int n) {
    const brisk_scheduler_config *c = &s->cfg;
    int T = s->T, f32 = c->schedule_float32;
    const double *ac = s->ns.alphas_cumprod;
    int last = T;
    if (c->kind == BRISK_SAMPLER_DPMPP_2M) {
        /* clipped_idx = searchsorted(flip(lambda_t), lambda_min_clipped) */
        int clipped = 0;
        for (int j = 0; j < T; j++) {
            double lam = log(sqrt(ac[j])) - log(sqrt(1 - ac[j]));
            if (lam < c->lambda_min_clipped) clipped++;
        }
        last = T - clipped;
        if (last < 1)
            return brisk_error(BRISK_EINVAL, "lambda_min_clipped %g clips every timestep",
                               c->lambda_min_clipped);
    }
    s->t_calls = brisk_malloc(((size_t)n + 1) * sizeof(double));
    if (!s->t_calls) return BRISK_ENOMEM;
    size_t m = brisk__ms_timesteps(c, n, last, s->t_calls);
    int rc = brisk__check_timesteps(s, s->t_calls, m);
    if (rc) return rc;
    s->n_calls = m;
    s->n_sigmas = m + 1;
    s->sigmas = brisk_malloc(s->n_sigmas * sizeof(double));
    s->a_calls = brisk_malloc(m * sizeof(double));
    s->grid = brisk_malloc((m + 1) * sizeof(double));
    if (!s->sigmas || !s->a_calls || !s->grid) return BRISK_ENOMEM;
    for (size_t i = 0; i < m; i++) {
        int t = (int)s->t_calls[i];
        double a = ac[t];
        double sg = f32 ? (double)sqrtf((1.0f - (float)a) / (float)a) : sqrt((1 - a) / a);
        s->sigmas[i] = f32 ? (double)(float)sg : sg;
        s->a_calls[i] = a;
        s->grid[i] = t;
    }
    double sl = 0;
    if (c->final_sigmas_type == BRISK_FINAL_SIGMA_MIN)
        sl = f32 ? (double)sqrtf((1.0f - (float)ac[0]) / (float)ac[0]) : sqrt((1 - ac[0]) / ac[0]);
    s->sigmas[m] = sl;
    s->grid[m] = -1;
    s->n_grid = m + 1;
    s->init_noise_sigma = 1;
    s->ode_a_start = brisk__sigma_alpha(s->sigmas[0]);
    s->ode_a_end = brisk__sigma_alpha(sl);
    s->ode_x_start = s->ode_x_end = 1;
    return BRISK_OK;
}

/* _sigma_to_alpha_sigma_t and lambda */
static void ab_of(double sigma, double *alpha, double *sig, double *lambda) {
    double a = 1 / sqrt(sigma * sigma + 1);
    double sg = sigma * a;
    *alpha = a;
    *sig = sg;
    *lambda = log(a) - log(sg);
}

/* Model output -> the solver's prediction (x0 for DPM-Solver++ / UniPC predict_x0, else
 * epsilon), with dynamic thresholding on x0 (convert_model_output). */
static void convert(brisk_scheduler *s, const double *mo, const double *x, size_t batch,
                    int want_x0, double *out) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim;
    double a = brisk__sigma_alpha(s->sigmas[s->k]);
    if (want_x0) {
        brisk__to_x0(c->prediction_type, mo, x, a, n, out);
        if (c->thresholding)
            brisk__threshold(out, batch, s->dim, c->dynamic_thresholding_ratio,
                             c->sample_max_value, s->work);
    } else {
        brisk__to_eps(c->prediction_type, mo, x, a, n, out);
    }
}

int brisk__step_dpmpp(brisk_scheduler *s, const double *mo, const double *x, double *out,
                      size_t batch) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim, k = s->k, len = s->n_calls;
    int order = c->solver_order;
    int lof = k == len - 1 && (c->euler_at_final || (c->lower_order_final && len < 15) ||
                               c->final_sigmas_type == BRISK_FINAL_SIGMA_ZERO);
    int los = k + 2 == len && c->lower_order_final && len < 15;
    double *m0 = brisk__hist_push(s);
    convert(s, mo, x, batch, 1, m0);
    double at, st, lt, a0, s0, l0;
    ab_of(s->sigmas[k + 1], &at, &st, &lt);
    ab_of(s->sigmas[k], &a0, &s0, &l0);
    double h = lt - l0;
    double ratio = st / s0, emh = exp(-h) - 1;
    if (order == 1 || s->lower_order_nums < 1 || lof) {
        /* first order (DDIM in data prediction): x_t = (s_t/s_s) x - a_t (e^-h - 1) x0 */
        for (size_t i = 0; i < n; i++) out[i] = ratio * x[i] - at * emh * m0[i];
    } else if (order == 2 || s->lower_order_nums < 2 || los) {
        double a1, s1, l1;
        ab_of(s->sigmas[k - 1], &a1, &s1, &l1);
        double r0 = (l0 - l1) / h;
        const double *m1 = s->hist[1];
        for (size_t i = 0; i < n; i++) {
            double D0 = m0[i], D1 = (1.0 / r0) * (m0[i] - m1[i]);
            double v = ratio * x[i] - at * emh * D0;
            if (c->solver_type == BRISK_SOLVER_HEUN) v += at * (emh / h + 1.0) * D1;
            else v -= 0.5 * at * emh * D1; /* midpoint */
            out[i] = v;
        }
    } else {
        double a1, s1, l1, a2, s2, l2;
        ab_of(s->sigmas[k - 1], &a1, &s1, &l1);
        ab_of(s->sigmas[k - 2], &a2, &s2, &l2);
        double h0 = l0 - l1, h1 = l1 - l2, r0 = h0 / h, r1 = h1 / h;
        const double *m1 = s->hist[1], *m2 = s->hist[2];
        for (size_t i = 0; i < n; i++) {
            double D1_0 = (1.0 / r0) * (m0[i] - m1[i]), D1_1 = (1.0 / r1) * (m1[i] - m2[i]);
            double D1 = D1_0 + (r0 / (r0 + r1)) * (D1_0 - D1_1);
            double D2 = (1.0 / (r0 + r1)) * (D1_0 - D1_1);
            out[i] = ratio * x[i] - at * emh * m0[i] + at * (emh / h + 1.0) * D1 -
                     at * ((exp(-h) - 1.0 + h) / (h * h) - 0.5) * D2;
        }
    }
    if (s->lower_order_nums < order) s->lower_order_nums++;
    return BRISK_OK;
}

/* Solves A z = b (m <= 4) by Gaussian elimination with partial pivoting. */
static void solve(double A[4][4], double *b, int m, double *z) {
    for (int col = 0; col < m; col++) {
        int piv = col;
        for (int r = col + 1; r < m; r++)
            if (fabs(A[r][col]) > fabs(A[piv][col])) piv = r;
        if (piv != col) {
            for (int j = 0; j < m; j++) {
                double t = A[col][j];
                A[col][j] = A[piv][j];
                A[piv][j] = t;
            }
            double t = b[col];
            b[col] = b[piv];
            b[piv] = t;
        }
        for (int r = col + 1; r < m; r++) {
            double f = A[r][col] / A[col][col];
            for (int j = col; j < m; j++) A[r][j] -= f * A[col][j];
            b[r] -= f * b[col];
        }
    }
    for (int r = m - 1; r >= 0; r--) {
        double v = b[r];
        for (int j = r + 1; j < m; j++) v -= A[r][j] * z[j];
        z[r] = v / A[r][r];
    }
}

/* The UniPC B(h) system: R[i] = rks^i, b[i] = h_phi_{i+1} * (i+1)! / B(h)
 * (diffusers multistep_uni_p/c_bh_update). */
static void unipc_system(int order, const double *rks, double hh, int bh1, double R[4][4],
                         double *b, double *h_phi_1, double *B_h) {
    *h_phi_1 = expm1(hh);
    double h_phi_k = *h_phi_1 / hh - 1;
    double fact = 1;
    *B_h = bh1 ? hh : expm1(hh);
    for (int i = 1; i <= order; i++) {
        for (int j = 0; j < order; j++) R[i - 1][j] = pow(rks[j], i - 1);
        b[i - 1] = h_phi_k * fact / *B_h;
        fact *= i + 1;
        h_phi_k = h_phi_k / hh - 1 / fact;
    }
}

/* UniP predictor (multistep_uni_p_bh_update) from x with history hist[0..order-1] (newest
 * first, hist[0] the current converted output) at step k. */
static void uni_p(brisk_scheduler *s, const double *x, double *out, size_t n, int order) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t k = s->k;
    double at, st, lt, a0, s0, l0;
    ab_of(s->sigmas[k + 1], &at, &st, &lt);
    ab_of(s->sigmas[k], &a0, &s0, &l0);
    double h = lt - l0;
    double rks[4];
    for (int i = 1; i < order; i++) {
        double ai, si, li;
        ab_of(s->sigmas[k - (size_t)i], &ai, &si, &li);
        rks[i - 1] = (li - l0) / h;
    }
    rks[order - 1] = 1.0;
    double hh = c->predict_x0 ? -h : h;
    double R[4][4], b[4], h_phi_1, B_h, rhos[4] = {0};
    unipc_system(order, rks, hh, c->solver_type == BRISK_SOLVER_BH1, R, b, &h_phi_1, &B_h);
    if (order == 2) rhos[0] = 0.5;
    else if (order > 2) solve(R, b, order - 1, rhos);
    /* x_t = cx x - cm m0 - cb sum_i rho_i (m_i - m0) / r_i */
    double cx = c->predict_x0 ? st / s0 : at / a0;
    double cm = (c->predict_x0 ? at : st) * h_phi_1;
    double cb = (c->predict_x0 ? at : st) * B_h;
    double w[4] = {0};
    for (int i = 1; i < order; i++) w[i] = cb * rhos[i - 1] / rks[i - 1];
    const double *m0 = s->hist[0];
    for (size_t e = 0; e < n; e++) {
        double v = cx * x[e] - cm * m0[e];
        for (int i = 1; i < order; i++) v -= w[i] * (s->hist[i][e] - m0[e]);
        out[e] = v;
    }
}

/* UniC corrector (multistep_uni_c_bh_update): refines the state at step k from the last
 * state s->cur using the new output mt; history hist[0..] is still the previous one. */
static void uni_c(brisk_scheduler *s, const double *mt, double *out, size_t n, int order) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t k = s->k;
    double at, st, lt, a0, s0, l0;
    ab_of(s->sigmas[k], &at, &st, &lt);
    ab_of(s->sigmas[k - 1], &a0, &s0, &l0);
    double h = lt - l0;
    double rks[4];
    for (int i = 1; i < order; i++) {
        double ai, si, li;
        ab_of(s->sigmas[k - (size_t)(i + 1)], &ai, &si, &li);
        rks[i - 1] = (li - l0) / h;
    }
    rks[order - 1] = 1.0;
    double hh = c->predict_x0 ? -h : h;
    double R[4][4], b[4], h_phi_1, B_h, rhos[4] = {0};
    unipc_system(order, rks, hh, c->solver_type == BRISK_SOLVER_BH1, R, b, &h_phi_1, &B_h);
    if (order == 1) rhos[0] = 0.5;
    else solve(R, b, order, rhos);
    double cx = c->predict_x0 ? st / s0 : at / a0;
    double cm = (c->predict_x0 ? at : st) * h_phi_1;
    double cb = (c->predict_x0 ? at : st) * B_h;
    double w[4] = {0};
    for (int i = 1; i < order; i++) w[i] = cb * rhos[i - 1] / rks[i - 1];
    double wt = cb * rhos[order - 1];
    const double *m0 = s->hist[0], *x = s->cur;
    for (size_t e = 0; e < n; e++) {
        double v = cx * x[e] - cm * m0[e] - wt * (mt[e] - m0[e]);
        for (int i = 1; i < order; i++) v -= w[i] * (s->hist[i][e] - m0[e]);
        out[e] = v;
    }
}

int brisk__step_unipc(brisk_scheduler *s, const double *mo, const double *x, double *out,
                      size_t batch) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim, k = s->k;
    int use_corrector = k > 0 && s->have_last;
    for (int i = 0; i < c->n_disable_corrector && use_corrector; i++)
        if ((size_t)c->disable_corrector[i] == k - 1) use_corrector = 0;
    double *conv = s->tmp;
    convert(s, mo, x, batch, c->predict_x0, conv);
    const double *xs = x;
    if (use_corrector) {
        uni_c(s, conv, s->tmp2, n, s->this_order);
        xs = s->tmp2;
    }
    memcpy(brisk__hist_push(s), conv, n * sizeof *conv);
    int order = c->solver_order;
    int this_order = order;
    if (c->lower_order_final && (int)(s->n_calls - k) < this_order) this_order = (int)(s->n_calls - k);
    if (this_order > s->lower_order_nums + 1) this_order = s->lower_order_nums + 1;
    s->this_order = this_order;
    memcpy(s->cur, xs, n * sizeof *xs); /* last_sample */
    s->have_last = 1;
    uni_p(s, s->cur, out, n, this_order);
    if (s->lower_order_nums < order) s->lower_order_nums++;
    return BRISK_OK;
}
