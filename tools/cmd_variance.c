/* brisk variance: evaluation variance (Madaan et al. 2024) over real evaluation output.
 * A thin shell over brisk/stats.h: parse arguments, call the library, print. */
#include "cli.h"

#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } out_format;

typedef struct common_opts {
    out_format fmt;
    const char *output; /* NULL: stdout */
    int per_item;
    int series;
} common_opts;

/* Output is assembled in memory and written at the end (stdout, or atomically to --output),
 * so an error never leaves a partial result behind. */
static char *out_buf;
static size_t out_len;
static FILE *out_fp;

static void out_begin(void) {
    out_fp = open_memstream(&out_buf, &out_len);
    if (!out_fp) cli_die("cannot allocate the output buffer");
}

static void out_end(const common_opts *c) {
    fclose(out_fp);
    out_fp = NULL;
    if (c->output) {
        int rc = brisk_write_file_atomic(c->output, out_buf, out_len);
        if (rc) cli_die_status(rc, c->output);
    } else {
        fwrite(out_buf, 1, out_len, stdout);
        fflush(stdout);
    }
    free(out_buf);
    out_buf = NULL;
}

static void out_json(cJSON *doc) {
    if (!doc) cli_die("out of memory building the JSON output");
    char *s = cJSON_Print(doc);
    if (!s) cli_die("out of memory printing the JSON output");
    fprintf(out_fp, "%s\n", s);
    cJSON_free(s);
}

/* CSV field: numbers as %.17g (nan as empty), strings quoted when needed. */
static void csv_num(double v, int last) {
    if (isnan(v) || isinf(v))
        fputs(last ? "\n" : ",", out_fp);
    else
        fprintf(out_fp, "%.17g%s", v, last ? "\n" : ",");
}

static void csv_str(const char *s, int last) {
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', out_fp);
        for (const char *p = s; *p; p++) {
            if (*p == '"') fputc('"', out_fp);
            fputc(*p, out_fp);
        }
        fputc('"', out_fp);
    } else
        fputs(s, out_fp);
    fputs(last ? "\n" : ",", out_fp);
}

static const char *fmtd(char *buf, size_t n, const char *fmt, double v) {
    if (isnan(v)) snprintf(buf, n, "-");
    else snprintf(buf, n, fmt, v);
    return buf;
}

static int parse_common(int argc, char **argv, int *i, common_opts *c) {
    const char *v;
    if (cli_opt(argc, argv, i, "--format", &v)) {
        if (!strcmp(v, "table")) c->fmt = FMT_TABLE;
        else if (!strcmp(v, "csv")) c->fmt = FMT_CSV;
        else if (!strcmp(v, "json")) c->fmt = FMT_JSON;
        else cli_die("--format: '%s' is not one of table, csv, json", v);
        return 1;
    }
    if (cli_opt(argc, argv, i, "--output", &v) || cli_opt(argc, argv, i, "-o", &v)) {
        c->output = v;
        return 1;
    }
    if (cli_opt(argc, argv, i, "--threads", &v)) {
        long n = cli_long("--threads", v);
        if (n < 1) cli_die("--threads: must be at least 1");
        brisk_set_num_threads((int)n);
        return 1;
    }
    if (cli_flag(argv, *i, "--per-item")) {
        c->per_item = 1;
        return 1;
    }
    if (cli_flag(argv, *i, "--series")) {
        c->series = 1;
        return 1;
    }
    return 0;
}

static int yes_no(const char *opt, const char *v) {
    if (!strcmp(v, "yes")) return 1;
    if (!strcmp(v, "no")) return 0;
    if (!strcmp(v, "auto")) return -1;
    cli_die("%s: '%s' is not yes, no or auto", opt, v);
}

static int parse_csv_opts(int argc, char **argv, int *i, brisk_csv_options *o) {
    const char *v;
    if (cli_opt(argc, argv, i, "--layout", &v)) {
        if (brisk_layout_from_name(v, &o->layout)) cli_die("--layout: %s", brisk_last_error());
        return 1;
    }
    if (cli_opt(argc, argv, i, "--header", &v)) {
        o->header = yes_no("--header", v);
        return 1;
    }
    if (cli_opt(argc, argv, i, "--index-column", &v)) {
        o->index_column = yes_no("--index-column", v);
        return 1;
    }
    return 0;
}

static void read_matrix(const char *path, const brisk_csv_options *o, brisk_matrix *m,
                        double *seconds) {
    double t0 = cli_now();
    int rc = brisk_matrix_read_csv(path, o, m);
    if (rc) cli_die_status(rc, NULL);
    *seconds = cli_now() - t0;
}

static void print_matrix_line(const char *path, const brisk_matrix *m, double secs) {
    fprintf(out_fp, "matrix %s: %zu models x %zu items (%s, header %s, index column %s, %s), read in %.3f s\n",
            path, m->n_models, m->n_items, brisk_layout_name(m->layout), m->header ? "yes" : "no",
            m->index_column ? "yes" : "no", m->binary ? "0/1 scores" : "continuous scores", secs);
}

static size_t name_width(char **names, size_t n, size_t min) {
    size_t w = min;
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) > w) w = strlen(names[i]);
    return w > 40 ? 40 : w;
}

/* ------------------------------------------------------------------ items */

static void items_help(void) {
    printf("usage: brisk variance items MATRIX.csv [options]\n\n"
           "Per-model mean, stderr (ddof 1 / sqrt(N), as lm-eval), analytic 95%% CI half-width\n"
           "1.96 sqrt(p(1-p)/N), percentile bootstrap CI and bootstrap stderr; per-item difficulty\n"
           "and item-rest point-biserial discrimination (null when item or rest is constant).\n\n"
           "  --layout auto|models-by-items|items-by-models   (auto: the smaller dimension = models)\n"
           "  --header yes|no|auto   --index-column yes|no|auto\n"
           "  --bootstrap B        resamples (default 1000; 0 = off)\n"
           "  --seed S             bootstrap seed (default 0)   --level L (0.95)\n"
           "  --low-disc T         flag items with discrimination below T (0.2)\n"
           "  --per-item           table/csv list the items instead of the models\n"
           "  --format table|csv|json   --output FILE   --threads N\n");
}

static int cmd_items(int argc, char **argv) {
    common_opts c = {FMT_TABLE, NULL, 0, 0};
    brisk_csv_options co;
    brisk_csv_options_default(&co);
    brisk_items_params p;
    brisk_items_params_default(&p);
    const char *path = NULL, *v;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) { items_help(); return 0; }
        if (parse_common(argc, argv, &i, &c) || parse_csv_opts(argc, argv, &i, &co)) continue;
        if (cli_opt(argc, argv, &i, "--bootstrap", &v)) {
            unsigned long long b = cli_u64("--bootstrap", v);
            p.bootstrap = b > 0;
            if (b == 1) cli_die("--bootstrap: need at least 2 resamples (or 0 to skip)");
            if (b) p.boot.n_resamples = (size_t)b;
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) p.boot.seed = cli_u64("--seed", v);
        else if (cli_opt(argc, argv, &i, "--level", &v)) {
            p.boot.level = cli_double("--level", v);
            if (!(p.boot.level > 0 && p.boot.level < 1)) cli_die("--level: must lie in (0, 1)");
        } else if (cli_opt(argc, argv, &i, "--low-disc", &v)) p.low_discrimination = cli_double("--low-disc", v);
        else if (argv[i][0] == '-' && argv[i][1]) cli_unknown_option("variance items", argv[i]);
        else if (!path) path = argv[i];
        else cli_die("variance items: one matrix expected, got '%s' too", argv[i]);
    }
    if (!path) cli_die("variance items: missing MATRIX.csv (see 'brisk variance items --help')");
    brisk_matrix m;
    double t_read;
    read_matrix(path, &co, &m, &t_read);
    brisk_items_result r;
    int rc = brisk_items_analyze(&m, &p, &r);
    if (rc) cli_die_status(rc, path);
    out_begin();
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    if (c.fmt == FMT_JSON) {
        cJSON *d = brisk_items_to_json(&m, &r, &p);
        cJSON_AddNumberToObject(cJSON_GetObjectItem(d, "timings"), "read_s", t_read);
        out_json(d);
        cJSON_Delete(d);
    } else if (c.fmt == FMT_CSV && !c.per_item) {
        fputs("name,mean,stderr,ci95_half_width,sd,bootstrap_lo,bootstrap_hi,bootstrap_stderr,mean_without_low\n", out_fp);
        for (size_t j = 0; j < m.n_models; j++) {
            const brisk_model_summary *s = &r.models[j];
            csv_str(m.model_names[j], 0);
            csv_num(s->mean, 0); csv_num(s->se, 0); csv_num(s->ci95_half_width, 0); csv_num(s->sd, 0);
            csv_num(s->boot_lo, 0); csv_num(s->boot_hi, 0); csv_num(s->boot_se, 0);
            csv_num(s->mean_without_low, 1);
        }
    } else if (c.fmt == FMT_CSV) {
        fputs("item,name,difficulty,discrimination,low_discrimination\n", out_fp);
        for (size_t i = 0; i < m.n_items; i++) {
            fprintf(out_fp, "%zu,", i);
            csv_str(m.item_names ? m.item_names[i] : "", 0);
            csv_num(r.items[i].difficulty, 0);
            csv_num(r.items[i].discrimination, 0);
            fprintf(out_fp, "%d\n", r.items[i].low_discrimination);
        }
    } else {
        print_matrix_line(path, &m, t_read);
        if (c.per_item) {
            fprintf(out_fp, "%8s  %-24s %10s %14s  %s\n", "item", "name", "difficulty", "discrimination", "low");
            for (size_t i = 0; i < m.n_items; i++)
                fprintf(out_fp, "%8zu  %-24.24s %10.4f %14s  %s\n", i, m.item_names ? m.item_names[i] : "",
                        r.items[i].difficulty, fmtd(b1, sizeof b1, "%.4f", r.items[i].discrimination),
                        r.items[i].low_discrimination ? "yes" : "");
        } else {
            int w = (int)name_width(m.model_names, m.n_models, 5);
            fprintf(out_fp, "%-*s %9s %9s %9s   %-21s %9s\n", w, "model", "mean", "stderr", "ci95 +-",
                    p.bootstrap ? "bootstrap CI" : "", p.bootstrap ? "boot se" : "");
            for (size_t j = 0; j < m.n_models; j++) {
                const brisk_model_summary *s = &r.models[j];
                char ci[80] = "";
                if (p.bootstrap) snprintf(ci, sizeof ci, "[%s, %s]", fmtd(b4, sizeof b4, "%.4f", s->boot_lo), fmtd(b5, sizeof b5, "%.4f", s->boot_hi));
                fprintf(out_fp, "%-*.*s %9s %9s %9s   %-21s %9s\n", w, w, m.model_names[j], fmtd(b1, sizeof b1, "%.4f", s->mean),
                        fmtd(b2, sizeof b2, "%.4f", s->se), fmtd(b3, sizeof b3, "%.4f", s->ci95_half_width), ci,
                        p.bootstrap ? fmtd(b6, sizeof b6, "%.4f", s->boot_se) : "");
            }
        }
        fprintf(out_fp, "items: %zu; discrimination (item-rest r): mean %s, null (constant item or rest) %zu, "
                "low (< %g) %zu\n", m.n_items, fmtd(b1, sizeof b1, "%.4f", r.mean_discrimination),
                r.n_null_discrimination, p.low_discrimination, r.n_low_discrimination);
        fprintf(out_fp, "ranking kendall tau-b, all items vs low-discrimination items dropped: %s\n",
                fmtd(b1, sizeof b1, "%.4f", r.ranking_tau_without_low));
        fprintf(out_fp, "timings: read %.3f s, item statistics %.4f s", t_read, r.seconds_items);
        if (p.bootstrap) fprintf(out_fp, ", bootstrap (%zu resamples, seed %llu) %.3f s", p.boot.n_resamples,
                                 (unsigned long long)p.boot.seed, r.seconds_bootstrap);
        fputc('\n', out_fp);
    }
    out_end(&c);
    brisk_items_result_free(&r);
    brisk_matrix_free(&m);
    return 0;
}

/* ------------------------------------------------------------------ irt */

static void irt_help(void) {
    printf("usage: brisk variance irt MATRIX.csv [--model 1pl|2pl] [options]\n\n"
           "IRT, P(correct) = sigmoid(a_i theta_j - b_i), by joint MAP with weak priors\n"
           "theta ~ N(0, 1), b ~ N(0, 3^2), a ~ N(1, 1) (2PL); abilities, item parameters,\n"
           "held-out cell log-likelihood, and leave-one-model-out p-IRT from anchor items.\n\n"
           "  --model 1pl|2pl      (default 2pl)\n"
           "  --holdout F          fraction of cells held out (0.1; 0 = skip)\n"
           "  --anchors K          p-IRT anchor items (100; 0 = skip)\n"
           "  --seed S             held-out cells and anchors (0)\n"
           "  --prior-theta-sd S --prior-b-sd S --prior-a-mean M --prior-a-sd S\n"
           "  --max-iter N (500 Newton iterations)   --tol T (1e-10 per cell)\n"
           "  --layout/--header/--index-column as for 'items'\n"
           "  --per-item   --format table|csv|json   --output FILE   --threads N\n");
}

static int cmd_irt(int argc, char **argv) {
    common_opts c = {FMT_TABLE, NULL, 0, 0};
    brisk_csv_options co;
    brisk_csv_options_default(&co);
    brisk_irt_report_params p;
    brisk_irt_report_params_default(&p);
    const char *path = NULL, *v;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) { irt_help(); return 0; }
        if (parse_common(argc, argv, &i, &c) || parse_csv_opts(argc, argv, &i, &co)) continue;
        if (cli_opt(argc, argv, &i, "--model", &v)) {
            if (brisk_irt_model_from_name(v, &p.irt.model)) cli_die("--model: %s", brisk_last_error());
        } else if (cli_opt(argc, argv, &i, "--holdout", &v)) {
            p.holdout = cli_double("--holdout", v);
            if (!(p.holdout >= 0 && p.holdout < 1)) cli_die("--holdout: must lie in [0, 1)");
        } else if (cli_opt(argc, argv, &i, "--anchors", &v)) p.n_anchors = (size_t)cli_u64("--anchors", v);
        else if (cli_opt(argc, argv, &i, "--seed", &v)) p.seed = cli_u64("--seed", v);
        else if (cli_opt(argc, argv, &i, "--prior-theta-sd", &v)) p.irt.prior_theta_sd = cli_double("--prior-theta-sd", v);
        else if (cli_opt(argc, argv, &i, "--prior-b-sd", &v)) p.irt.prior_b_sd = cli_double("--prior-b-sd", v);
        else if (cli_opt(argc, argv, &i, "--prior-a-mean", &v)) p.irt.prior_a_mean = cli_double("--prior-a-mean", v);
        else if (cli_opt(argc, argv, &i, "--prior-a-sd", &v)) p.irt.prior_a_sd = cli_double("--prior-a-sd", v);
        else if (cli_opt(argc, argv, &i, "--max-iter", &v)) {
            long n = cli_long("--max-iter", v);
            if (n < 1) cli_die("--max-iter: must be at least 1");
            p.irt.max_iter = (int)n;
        } else if (cli_opt(argc, argv, &i, "--tol", &v)) p.irt.tol = cli_double("--tol", v);
        else if (argv[i][0] == '-' && argv[i][1]) cli_unknown_option("variance irt", argv[i]);
        else if (!path) path = argv[i];
        else cli_die("variance irt: one matrix expected, got '%s' too", argv[i]);
    }
    if (!path) cli_die("variance irt: missing MATRIX.csv (see 'brisk variance irt --help')");
    brisk_matrix m;
    double t_read;
    read_matrix(path, &co, &m, &t_read);
    brisk_irt_report r;
    int rc = brisk_irt_report_run(&m, &p, &r);
    if (rc) cli_die_status(rc, path);
    out_begin();
    char b1[32], b2[32], b3[32], b4[32];
    if (c.fmt == FMT_JSON) {
        cJSON *d = brisk_irt_report_to_json(&m, &r, &p);
        out_json(d);
        cJSON_Delete(d);
    } else if (c.fmt == FMT_CSV && !c.per_item) {
        fputs("name,theta,mean,anchor_mean,pirt_estimate\n", out_fp);
        for (size_t j = 0; j < m.n_models; j++) {
            csv_str(m.model_names[j], 0);
            csv_num(r.fit.theta[j], 0); csv_num(r.models[j].observed_mean, 0);
            csv_num(r.models[j].anchor_mean, 0); csv_num(r.models[j].pirt_estimate, 1);
        }
    } else if (c.fmt == FMT_CSV) {
        fputs("item,name,a,b\n", out_fp);
        for (size_t i = 0; i < m.n_items; i++) {
            fprintf(out_fp, "%zu,", i);
            csv_str(m.item_names ? m.item_names[i] : "", 0);
            csv_num(r.fit.a[i], 0); csv_num(r.fit.b[i], 1);
        }
    } else {
        print_matrix_line(path, &m, t_read);
        fprintf(out_fp, "IRT %s: log-likelihood %.4f (%.5f per cell), log posterior %.4f, %d Newton iterations%s, %.3f s\n",
                brisk_irt_model_name(r.fit.model), r.fit.log_lik, r.fit.log_lik / (double)(m.n_models * m.n_items),
                r.fit.log_post, r.fit.iterations, r.fit.converged ? "" : " (NOT converged)", r.seconds_fit);
        if (p.holdout > 0)
            fprintf(out_fp, "held-out %zu cells (%.0f%%): log-likelihood per cell %s (item-mean baseline %s), "
                    "accuracy %s, %.3f s\n", r.n_heldout, 100 * p.holdout, fmtd(b1, sizeof b1, "%.5f", r.heldout_log_lik),
                    fmtd(b2, sizeof b2, "%.5f", r.heldout_log_lik_baseline), fmtd(b3, sizeof b3, "%.4f", r.heldout_accuracy),
                    r.seconds_heldout);
        if (r.n_anchors)
            fprintf(out_fp, "p-IRT from %zu anchors, %zu-fold over models: MAE %s (anchor mean alone %s), %.3f s\n",
                    r.n_anchors, r.n_folds, fmtd(b1, sizeof b1, "%.5f", r.pirt_mae), fmtd(b2, sizeof b2, "%.5f", r.anchor_mae),
                    r.seconds_pirt);
        if (c.per_item) {
            fprintf(out_fp, "%8s  %-24s %10s %10s\n", "item", "name", "a", "b");
            for (size_t i = 0; i < m.n_items; i++)
                fprintf(out_fp, "%8zu  %-24.24s %10.4f %10.4f\n", i, m.item_names ? m.item_names[i] : "",
                        r.fit.a[i], r.fit.b[i]);
        } else {
            int w = (int)name_width(m.model_names, m.n_models, 5);
            fprintf(out_fp, "%-*s %9s %9s %12s %14s\n", w, "model", "theta", "mean", "anchor mean", "p-IRT estimate");
            for (size_t j = 0; j < m.n_models; j++)
                fprintf(out_fp, "%-*.*s %9.4f %9.4f %12s %14s\n", w, w, m.model_names[j], r.fit.theta[j],
                        r.models[j].observed_mean, fmtd(b3, sizeof b3, "%.4f", r.models[j].anchor_mean),
                        fmtd(b4, sizeof b4, "%.4f", r.models[j].pirt_estimate));
        }
    }
    out_end(&c);
    brisk_irt_report_free(&r);
    brisk_matrix_free(&m);
    return 0;
}

/* ------------------------------------------------------------------ compare */

static void compare_help(void) {
    printf("usage: brisk variance compare MATRIX.csv --a MODEL --b MODEL [options]\n"
           "       brisk variance compare A.jsonl B.jsonl [--metric M] [options]\n"
           "       brisk variance compare A.json B.json --task T --metric M [options]\n\n"
           "Paired comparison of two models on the same items: mean difference, paired stderr\n"
           "sd(a-b, ddof 1)/sqrt(N), 95%% CI, z test, and the minimum detectable difference at\n"
           "this N and the given seed variance. Matrix rows are chosen by name or 0-based index;\n"
           "JSONL logs are paired by doc_id; results JSON give an unpaired comparison.\n\n"
           "  --a MODEL --b MODEL  (matrix input)\n"
           "  --metric M           (logs: default acc; 'acc,FILTER' picks a filter)   --task T\n"
           "  --seed-sd S          seed standard deviation of the metric (0)\n"
           "  --seeds K            seeds averaged per model (1)   --seeds-a K --seeds-b K\n"
           "  --alpha A (0.05)     --power P (0.8)\n"
           "  --bootstrap B        also a percentile bootstrap CI of the difference (0 = off)\n"
           "  --seed S             bootstrap seed\n"
           "  --layout/--header/--index-column as for 'items'\n"
           "  --format table|csv|json   --output FILE   --threads N\n");
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void print_compare(const common_opts *c, const char *na, const char *nb,
                          const brisk_compare_result *r, const brisk_compare_params *p) {
    char b1[32], b2[32];
    if (c->fmt == FMT_JSON) {
        cJSON *d = brisk_compare_to_json(na, nb, r, p);
        out_json(d);
        cJSON_Delete(d);
        return;
    }
    if (c->fmt == FMT_CSV) {
        fputs("a,b,paired,n,mean_a,mean_b,mean_diff,stderr,stderr_unpaired,ci95_lo,ci95_hi,z,p_value,"
              "seed_sd,mdd,bootstrap_lo,bootstrap_hi\n", out_fp);
        csv_str(na, 0);
        csv_str(nb, 0);
        fprintf(out_fp, "%d,", r->n > 0);
        csv_num(r->n ? (double)r->n : NAN, 0);
        csv_num(r->mean_a, 0); csv_num(r->mean_b, 0); csv_num(r->mean_diff, 0); csv_num(r->se, 0);
        csv_num(r->se_unpaired, 0); csv_num(r->ci95_lo, 0); csv_num(r->ci95_hi, 0); csv_num(r->z, 0);
        csv_num(r->p_value, 0); csv_num(p->seed_sd, 0); csv_num(r->mdd, 0); csv_num(r->boot_lo, 0);
        csv_num(r->boot_hi, 1);
        return;
    }
    fprintf(out_fp, "a: %s (mean %.4f)   b: %s (mean %.4f)   ", na, r->mean_a, nb, r->mean_b);
    if (r->n) fprintf(out_fp, "%zu items, paired (correlation %s)\n", r->n, fmtd(b1, sizeof b1, "%.3f", r->correlation));
    else fputs("unpaired (summary values only)\n", out_fp);
    fprintf(out_fp, "mean difference a - b: %.4f   stderr %.4f", r->mean_diff, r->se);
    if (r->n) fprintf(out_fp, " (unpaired would be %.4f)", r->se_unpaired);
    fprintf(out_fp, "\n95%% CI [%.4f, %.4f]", r->ci95_lo, r->ci95_hi);
    if (p->bootstrap && r->n)
        fprintf(out_fp, "   bootstrap %zu: [%s, %s]", p->boot.n_resamples, fmtd(b1, sizeof b1, "%.4f", r->boot_lo),
                fmtd(b2, sizeof b2, "%.4f", r->boot_hi));
    fprintf(out_fp, "\nz %.3f   p %.3g   significant at 5%%: %s\n", r->z, r->p_value,
            fabs(r->z) > 1.959963984540054 ? "yes" : "no");
    fprintf(out_fp, "minimum detectable difference (alpha %g, power %g, seed sd %g, %zu/%zu seeds): %.4f\n",
            p->alpha, p->power, p->seed_sd, p->n_seeds_a, p->n_seeds_b, r->mdd);
}

static int cmd_compare(int argc, char **argv) {
    common_opts c = {FMT_TABLE, NULL, 0, 0};
    brisk_csv_options co;
    brisk_csv_options_default(&co);
    brisk_compare_params p;
    brisk_compare_params_default(&p);
    const char *pos[2] = {NULL, NULL}, *ka = NULL, *kb = NULL, *metric = NULL, *task = NULL, *v;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) { compare_help(); return 0; }
        if (parse_common(argc, argv, &i, &c) || parse_csv_opts(argc, argv, &i, &co)) continue;
        if (cli_opt(argc, argv, &i, "--a", &v)) ka = v;
        else if (cli_opt(argc, argv, &i, "--b", &v)) kb = v;
        else if (cli_opt(argc, argv, &i, "--metric", &v)) metric = v;
        else if (cli_opt(argc, argv, &i, "--task", &v)) task = v;
        else if (cli_opt(argc, argv, &i, "--seed-sd", &v)) {
            p.seed_sd = cli_double("--seed-sd", v);
            if (p.seed_sd < 0) cli_die("--seed-sd: must not be negative");
        } else if (cli_opt(argc, argv, &i, "--seeds", &v)) {
            long k = cli_long("--seeds", v);
            if (k < 1) cli_die("--seeds: must be at least 1");
            p.n_seeds_a = p.n_seeds_b = (size_t)k;
        } else if (cli_opt(argc, argv, &i, "--seeds-a", &v)) {
            long k = cli_long("--seeds-a", v);
            if (k < 1) cli_die("--seeds-a: must be at least 1");
            p.n_seeds_a = (size_t)k;
        } else if (cli_opt(argc, argv, &i, "--seeds-b", &v)) {
            long k = cli_long("--seeds-b", v);
            if (k < 1) cli_die("--seeds-b: must be at least 1");
            p.n_seeds_b = (size_t)k;
        } else if (cli_opt(argc, argv, &i, "--alpha", &v)) {
            p.alpha = cli_double("--alpha", v);
            if (!(p.alpha > 0 && p.alpha < 1)) cli_die("--alpha: must lie in (0, 1)");
        } else if (cli_opt(argc, argv, &i, "--power", &v)) {
            p.power = cli_double("--power", v);
            if (!(p.power > 0 && p.power < 1)) cli_die("--power: must lie in (0, 1)");
        } else if (cli_opt(argc, argv, &i, "--bootstrap", &v)) {
            unsigned long long b = cli_u64("--bootstrap", v);
            if (b == 1) cli_die("--bootstrap: need at least 2 resamples (or 0 to skip)");
            p.bootstrap = b > 0;
            if (b) p.boot.n_resamples = (size_t)b;
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) p.boot.seed = cli_u64("--seed", v);
        else if (argv[i][0] == '-' && argv[i][1]) cli_unknown_option("variance compare", argv[i]);
        else if (npos < 2) pos[npos++] = argv[i];
        else cli_die("variance compare: at most two inputs, got '%s' too", argv[i]);
    }
    if (!npos) cli_die("variance compare: missing input (see 'brisk variance compare --help')");
    brisk_compare_result r;
    int rc;
    if (npos == 1) {
        if (!ka || !kb) cli_die("variance compare: a matrix needs --a MODEL and --b MODEL");
        brisk_matrix m;
        double t_read;
        read_matrix(pos[0], &co, &m, &t_read);
        size_t ia, ib;
        if ((rc = brisk_matrix_find_model(&m, ka, &ia))) cli_die_status(rc, pos[0]);
        if ((rc = brisk_matrix_find_model(&m, kb, &ib))) cli_die_status(rc, pos[0]);
        if ((rc = brisk_compare_paired(m.x + ia * m.n_items, m.x + ib * m.n_items, m.n_items, &p, &r)))
            cli_die_status(rc, pos[0]);
        out_begin();
        print_compare(&c, m.model_names[ia], m.model_names[ib], &r, &p);
        out_end(&c);
        brisk_matrix_free(&m);
        return 0;
    }
    if (ka || kb) cli_die("variance compare: --a/--b select rows of a matrix; two files were given");
    if (ends_with(pos[0], ".jsonl") && ends_with(pos[1], ".jsonl")) {
        brisk_lm_samples sa, sb;
        const char *filt = metric ? strchr(metric, ',') : NULL;
        if ((rc = brisk_lmeval_read_samples(pos[0], filt ? filt + 1 : NULL, &sa))) cli_die_status(rc, NULL);
        if ((rc = brisk_lmeval_read_samples(pos[1], filt ? filt + 1 : NULL, &sb))) cli_die_status(rc, NULL);
        const char *met = metric ? metric : "acc";
        const double *va, *vb;
        if ((rc = brisk_lm_samples_metric(&sa, pos[0], met, &va))) cli_die_status(rc, NULL);
        if ((rc = brisk_lm_samples_metric(&sb, pos[1], met, &vb))) cli_die_status(rc, NULL);
        if (sa.n_docs != sb.n_docs)
            cli_die("%s has %zu docs but %s has %zu: the logs must cover the same items", pos[0], sa.n_docs,
                    pos[1], sb.n_docs);
        /* align b to a by doc_id (quadratic only in the worst case; logs are usually in order) */
        double *vb2 = malloc(sa.n_docs * sizeof *vb2);
        if (!vb2) cli_die("out of memory");
        size_t hint = 0;
        for (size_t i = 0; i < sa.n_docs; i++) {
            size_t k, found = 0;
            for (k = 0; k < sb.n_docs; k++) {
                size_t q = (hint + k) % sb.n_docs;
                if (sb.doc_id[q] == sa.doc_id[i]) {
                    vb2[i] = vb[q];
                    hint = q + 1;
                    found = 1;
                    break;
                }
            }
            if (!found) cli_die("%s: doc_id %ld of %s is missing", pos[1], sa.doc_id[i], pos[0]);
        }
        if ((rc = brisk_compare_paired(va, vb2, sa.n_docs, &p, &r))) cli_die_status(rc, NULL);
        out_begin();
        print_compare(&c, pos[0], pos[1], &r, &p);
        out_end(&c);
        free(vb2);
        brisk_lm_samples_free(&sa);
        brisk_lm_samples_free(&sb);
        return 0;
    }
    /* two results JSON: unpaired */
    if (!task || !metric) cli_die("variance compare: results JSON files need --task T and --metric M");
    brisk_lm_results ra, rb;
    const brisk_lm_metric *ma, *mb;
    if ((rc = brisk_lmeval_read_results(pos[0], &ra))) cli_die_status(rc, NULL);
    if ((rc = brisk_lmeval_read_results(pos[1], &rb))) cli_die_status(rc, NULL);
    if ((rc = brisk_lm_results_find(&ra, pos[0], task, metric, &ma))) cli_die_status(rc, NULL);
    if ((rc = brisk_lm_results_find(&rb, pos[1], task, metric, &mb))) cli_die_status(rc, NULL);
    brisk_compare_summary(ma->value, ma->se, mb->value, mb->se, &p, &r);
    out_begin();
    print_compare(&c, pos[0], pos[1], &r, &p);
    out_end(&c);
    brisk_lm_results_free(&ra);
    brisk_lm_results_free(&rb);
    return 0;
}

/* ------------------------------------------------------------------ checkpoints / report */

static double jnum(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_runs(const common_opts *c, const cJSON *doc) {
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks"), *t, *mb, *m;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    if (c->fmt == FMT_CSV) {
        if (c->series)
            fputs("task,metric,model,seed,step,value,stderr,n\n", out_fp);
        else
            fputs("task,metric,kind,model,n_seeds,seed_sd,snr,monotonicity,kendall_tau_b,final_step,final_mean,"
                  "final_stderr,final_ci95_half_width\n", out_fp);
        cJSON_ArrayForEach(t, tasks) {
            cJSON_ArrayForEach(mb, cJSON_GetObjectItemCaseSensitive(t, "metrics")) {
                if (c->series) {
                    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(mb, "series")) {
                        csv_str(t->string, 0); csv_str(mb->string, 0); csv_str(jstr(m, "model"), 0);
                        csv_num(jnum(m, "seed"), 0); csv_num(jnum(m, "step"), 0); csv_num(jnum(m, "value"), 0);
                        csv_num(jnum(m, "stderr"), 0); csv_num(jnum(m, "n"), 1);
                    }
                    continue;
                }
                cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(mb, "models")) {
                    const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "final");
                    csv_str(t->string, 0); csv_str(mb->string, 0); csv_str(jstr(mb, "kind"), 0);
                    csv_str(jstr(m, "model"), 0); csv_num(jnum(m, "n_seeds"), 0); csv_num(jnum(m, "seed_sd"), 0);
                    csv_num(jnum(m, "snr"), 0); csv_num(jnum(m, "monotonicity"), 0); csv_num(jnum(m, "kendall_tau_b"), 0);
                    csv_num(jnum(f, "step"), 0); csv_num(jnum(f, "mean"), 0); csv_num(jnum(f, "stderr"), 0);
                    csv_num(jnum(f, "ci95_half_width"), 1);
                }
            }
        }
        return;
    }
    cJSON_ArrayForEach(t, tasks) {
        fprintf(out_fp, "== task %s", t->string);
        const cJSON *grp = cJSON_GetObjectItemCaseSensitive(t, "group_of");
        if (grp) fprintf(out_fp, " (group of %d tasks: size-weighted mean, pooled stderr)", cJSON_GetArraySize(grp));
        fputc('\n', out_fp);
        fprintf(out_fp, "  %-12s %-10s %-22s %5s %9s %9s %9s %9s %10s  %s\n", "metric", "kind", "model", "seeds",
                "seed sd", "SNR", "monoton.", "tau-b", "final step", "final mean +- ci95");
        cJSON_ArrayForEach(mb, cJSON_GetObjectItemCaseSensitive(t, "metrics")) {
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(mb, "models")) {
                const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "final");
                fprintf(out_fp, "  %-12.12s %-10s %-22.22s %5.0f %9s %9s %9s %9s %10.0f  %s +- %s\n", mb->string,
                        jstr(mb, "kind"), jstr(m, "model"), jnum(m, "n_seeds"), fmtd(b1, sizeof b1, "%.4f", jnum(m, "seed_sd")),
                        fmtd(b2, sizeof b2, "%.2f", jnum(m, "snr")), fmtd(b3, sizeof b3, "%.3f", jnum(m, "monotonicity")),
                        fmtd(b4, sizeof b4, "%.3f", jnum(m, "kendall_tau_b")), jnum(f, "step"),
                        fmtd(b5, sizeof b5, "%.4f", jnum(f, "mean")), fmtd(b6, sizeof b6, "%.4f", jnum(f, "ci95_half_width")));
            }
            if (c->series) {
                const char *prev_model = NULL;
                double prev_seed = NAN;
                cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(mb, "series")) {
                    if (!prev_model || strcmp(prev_model, jstr(m, "model")) || prev_seed != jnum(m, "seed")) {
                        if (prev_model) fputc('\n', out_fp);
                        fprintf(out_fp, "    %s %s seed %.0f:", mb->string, jstr(m, "model"), jnum(m, "seed"));
                        prev_model = jstr(m, "model");
                        prev_seed = jnum(m, "seed");
                    }
                    fprintf(out_fp, " %.0f=%s", jnum(m, "step"), fmtd(b1, sizeof b1, "%.4f", jnum(m, "value")));
                }
                if (prev_model) fputc('\n', out_fp);
            }
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(mb, "comparisons")) {
                const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci95");
                fprintf(out_fp, "    %s: %s - %s at step %.0f: %+.4f, stderr %.4f (%s), 95%% CI [%s, %s], p %.3g%s, MDD %s\n",
                        mb->string, jstr(m, "a"), jstr(m, "b"), jnum(m, "step"), jnum(m, "mean_diff"), jnum(m, "stderr"),
                        cJSON_IsTrue(cJSON_GetObjectItem(m, "paired")) ? "paired" : "unpaired",
                        fmtd(b1, sizeof b1, "%.4f", cJSON_GetArrayItem(ci, 0) ? cJSON_GetArrayItem(ci, 0)->valuedouble : NAN),
                        fmtd(b2, sizeof b2, "%.4f", cJSON_GetArrayItem(ci, 1) ? cJSON_GetArrayItem(ci, 1)->valuedouble : NAN),
                        jnum(m, "p_value"), cJSON_IsTrue(cJSON_GetObjectItem(m, "significant")) ? " *" : "",
                        fmtd(b3, sizeof b3, "%.4f", jnum(m, "mdd")));
            }
        }
    }
}

static int parse_runs_opt(int argc, char **argv, int *i, brisk_runs_params *p) {
    const char *v;
    if (cli_opt(argc, argv, i, "--task", &v) || cli_opt(argc, argv, i, "--tasks", &v)) p->tasks = v;
    else if (cli_opt(argc, argv, i, "--metric", &v) || cli_opt(argc, argv, i, "--metrics", &v)) p->metrics = v;
    else if (cli_opt(argc, argv, i, "--filter", &v)) p->filter = v;
    else if (cli_opt(argc, argv, i, "--group", &v)) p->group = v;
    else if (cli_opt(argc, argv, i, "--ddof", &v)) {
        long d = cli_long("--ddof", v);
        if (d < 0 || d > 1) cli_die("--ddof: must be 0 or 1");
        p->ddof = (int)d;
    } else if (cli_opt(argc, argv, i, "--lower-is-better", &v)) p->lower_is_better = yes_no("--lower-is-better", v);
    else if (cli_opt(argc, argv, i, "--seed-sd", &v)) p->cmp.seed_sd = cli_double("--seed-sd", v);
    else if (cli_flag(argv, *i, "--no-compare")) p->compare = 0;
    else return 0;
    return 1;
}

static void runs_help(const char *cmd) {
    if (!strcmp(cmd, "checkpoints"))
        printf("usage: brisk variance checkpoints FILES... --task T --metric M [options]\n\n"
               "FILES are lm-eval results JSON (one per checkpoint) or per-sample JSONL logs. The step\n"
               "comes from '_step<N>' in the file name (or --steps); files are grouped into models by\n"
               "the name before '_step', else the nearest folder that is not step<N>/seed<N> (or\n"
               "--model); a folder seed<N> gives the seed (else 0). For each task: the series over\n"
               "checkpoints and Kendall tau-b against checkpoint order (monotonicity).\n\n"
               "  --task T[,T2|PATTERN]   tasks (fnmatch patterns allowed, e.g. 'hendrycksTest-*')\n"
               "  --metric M[,M2]         metrics (first is primary; default: all)\n"
               "  --steps S1,S2,...       steps of the files, in order\n"
               "  --model NAME            one model name for all files\n");
    else
        printf("usage: brisk variance report MANIFEST [options]\n\n"
               "Everything at once over the runs of a manifest (CSV: file,model,seed,step[,task] or\n"
               "JSON {\"runs\": [...]}; see docs/variance.md): per task and metric, discrete and\n"
               "continuous side by side, each model's series, seed sd (averaged over checkpoints),\n"
               "SNR, monotonicity (Kendall tau-b, averaged over seeds), final-checkpoint CI, and\n"
               "pairwise comparisons at the final checkpoint with the minimum detectable difference.\n\n"
               "  --task T[,..|PATTERN]   --metric M[,M2]   (default: all)\n");
    printf("  --group NAME            also aggregate the selected tasks as an lm-eval group\n"
           "  --filter F              filter of JSONL logs (default: the first)\n"
           "  --ddof 0|1              ddof of the seed sd (1)\n"
           "  --lower-is-better yes|no|auto   (auto: by metric name, e.g. perplexity)\n"
           "  --seed-sd S             seed sd for the MDD when the runs have one seed\n"
           "  --no-compare            skip pairwise comparisons\n"
           "  --series                table/csv list every point of the series\n"
           "  --format table|csv|json   --output FILE   --threads N\n");
}

/* 1 when the path component [s, e) is "<prefix><digits>". */
static int is_numbered(const char *s, const char *e, const char *prefix) {
    size_t n = strlen(prefix);
    if ((size_t)(e - s) <= n || strncmp(s, prefix, n)) return 0;
    for (const char *p = s + n; p < e; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

/* Model of a checkpoint file: the file name before "_step" (160m_step1000.json -> 160m),
 * else the nearest folder that is not "step<N>" or "seed<N>"
 * (out/A/seed0/step1000/samples_x.jsonl -> A). *seed gets N of a "seed<N>" folder. */
static char *model_from_path(const char *path, long *seed) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *st = strstr(base, "_step");
    *seed = 0;
    const char *end = base > path ? base - 1 : NULL, *found = NULL, *found_end = NULL;
    while (end && end > path) {
        const char *beg = end;
        while (beg > path && beg[-1] != '/') beg--;
        if (is_numbered(beg, end, "seed")) *seed = strtol(beg + 4, NULL, 10);
        else if (!is_numbered(beg, end, "step") && !found) { found = beg; found_end = end; }
        end = beg > path ? beg - 1 : NULL;
    }
    const char *s = "model", *e = s + 5;
    if (st && st > base) { s = base; e = st; }
    else if (found && found_end > found) { s = found; e = found_end; }
    char *out = malloc((size_t)(e - s) + 1);
    if (!out) cli_die("out of memory");
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return out;
}

static int cmd_runs(int argc, char **argv, const char *cmd) {
    common_opts c = {FMT_TABLE, NULL, 0, 0};
    brisk_runs_params p;
    brisk_runs_params_default(&p);
    int is_report = !strcmp(cmd, "report");
    if (!is_report) p.compare = 0;
    const char *steps = NULL, *model = NULL, *v;
    const char **pos = calloc((size_t)argc, sizeof *pos);
    int npos = 0;
    if (!pos) cli_die("out of memory");
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) { runs_help(cmd); free(pos); return 0; }
        if (parse_common(argc, argv, &i, &c) || parse_runs_opt(argc, argv, &i, &p)) continue;
        if (!is_report && cli_opt(argc, argv, &i, "--steps", &v)) steps = v;
        else if (!is_report && cli_opt(argc, argv, &i, "--model", &v)) model = v;
        else if (!is_report && cli_flag(argv, i, "--compare")) p.compare = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            char name[32];
            snprintf(name, sizeof name, "variance %s", cmd);
            cli_unknown_option(name, argv[i]);
        } else pos[npos++] = argv[i];
    }
    brisk_manifest man = {0};
    int rc;
    if (is_report) {
        if (npos != 1) cli_die("variance report: expected one MANIFEST (see 'brisk variance report --help')");
        if ((rc = brisk_manifest_read(pos[0], &man))) cli_die_status(rc, NULL);
    } else {
        if (!npos) cli_die("variance checkpoints: no input files (see 'brisk variance checkpoints --help')");
        int nsteps = 0;
        long *sv = calloc((size_t)npos, sizeof *sv);
        if (!sv) cli_die("out of memory");
        if (steps) {
            const char *s = steps;
            while (*s) {
                char *end;
                long x = strtol(s, &end, 10);
                if (end == s || (*end && *end != ',') || x < 0) cli_die("--steps: '%s' is not a list of steps", steps);
                if (nsteps == npos) cli_die("--steps: %d or more steps for %d files", nsteps + 1, npos);
                sv[nsteps++] = x;
                s = *end ? end + 1 : end;
            }
            if (nsteps != npos) cli_die("--steps: %d steps for %d files", nsteps, npos);
        }
        for (int k = 0; k < npos; k++) {
            long st = steps ? sv[k] : brisk_step_from_path(pos[k]);
            if (st < 0) cli_die("%s: no checkpoint step in the file name (name it ..._step<N>... or pass --steps)", pos[k]);
            long seed;
            char *mn = model_from_path(pos[k], &seed);
            if ((rc = brisk_manifest_add(&man, pos[k], model ? model : mn, seed, st, NULL))) cli_die_status(rc, NULL);
            free(mn);
        }
        free(sv);
    }
    free(pos);
    cJSON *doc;
    if ((rc = brisk_runs_analyze(&man, &p, cmd, &doc))) cli_die_status(rc, NULL);
    out_begin();
    if (c.fmt == FMT_JSON)
        out_json(doc);
    else
        print_runs(&c, doc);
    out_end(&c);
    cJSON_Delete(doc);
    brisk_manifest_free(&man);
    return 0;
}

/* ------------------------------------------------------------------ dispatch */

static void variance_help(FILE *fp) {
    fprintf(fp, "usage: brisk variance COMMAND [options]   (brisk variance COMMAND --help)\n\n"
                "  items MATRIX.csv                      per-model CIs, item difficulty and discrimination\n"
                "  checkpoints FILES... --task T --metric M   series and monotonicity over checkpoints\n"
                "  compare MATRIX.csv --a X --b Y | A.jsonl B.jsonl | A.json B.json   paired comparison\n"
                "  irt MATRIX.csv --model 1pl|2pl        IRT abilities, item parameters, p-IRT\n"
                "  report MANIFEST                       everything over the runs of a manifest\n\n"
                "Definitions, ddof and tie handling, JSON keys: docs/variance.md\n");
}

int cmd_variance(int argc, char **argv) {
    if (argc < 2) {
        variance_help(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (cli_is_help(sub)) {
        variance_help(stdout);
        return 0;
    }
    if (!strcmp(sub, "items")) return cmd_items(argc - 1, argv + 1);
    if (!strcmp(sub, "irt")) return cmd_irt(argc - 1, argv + 1);
    if (!strcmp(sub, "compare")) return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(sub, "checkpoints")) return cmd_runs(argc - 1, argv + 1, "checkpoints");
    if (!strcmp(sub, "report")) return cmd_runs(argc - 1, argv + 1, "report");
    fprintf(stderr, "brisk variance: unknown command '%s' (items, checkpoints, compare, irt, report)\n", sub);
    return 2;
}
