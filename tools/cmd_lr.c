/* brisk lr: print and plot learning-rate schedules; refine a schedule from gradient norms. */
#include "cli.h"

#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/lr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCHED 16

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: brisk lr NAME [--PARAM VALUE ...] [NAME2 [--PARAM VALUE ...] ...] --steps N [options]\n"
            "       brisk lr refine --grad-norms FILE.csv [--l1] --steps N [options]\n"
            "       brisk lr list\n"
            "       brisk lr NAME --help        parameters and defaults of one schedule\n"
            "\n"
            "Prints the learning rate (and momentum, where a schedule cycles it) the optimizer\n"
            "uses for updates 0..N-1, for one or several schedules side by side. NAME is a\n"
            "schedule (brisk lr list) or a whole spec such as 'OneCycleLR(max_lr=0.1, total_steps=100)'.\n"
            "torch.optim.lr_scheduler classes follow PyTorch 1.13 exactly.\n"
            "\n"
            "options:\n"
            "  --steps N               number of updates (required)\n"
            "  --steps-per-epoch K     epoch length: adds an epoch column; enables --sampling epoch\n"
            "  --base-lr X             the optimizer's lr (default 0.1; refine: 1, the multiplier)\n"
            "  --momentum M            SGD momentum or Adam beta1 (default 0.9)\n"
            "  --optimizer NAME        sgd, adam, adamw, rmsprop (default sgd)\n"
            "  --metrics FILE          one metric per line, for ReduceLROnPlateau\n"
            "  --format F              table (default), csv or json\n"
            "  --every K               print every K-th step (table and csv)\n"
            "  --plot FILE             write a plot: FILE.png or FILE.svg\n"
            "  --out FILE              write the output to FILE instead of stdout\n"
            "\n"
            "every schedule also takes --warmup W (linear warm-up in front) and\n"
            "--sampling iteration|epoch|K (read the value every K steps: REX's sampling rate).\n"
            "\n"
            "examples:\n"
            "  brisk lr rex --total_steps 100 cosine_clamped --T_max 100 --steps 100 --plot lr.png\n"
            "  brisk lr MultiStepLR --milestones 30,60,90 --steps 100 --format csv\n"
            "  brisk lr SequentialLR --milestones 5 --schedulers 'LinearLR(start_factor=0.01, total_iters=5), CosineAnnealingLR(T_max=45)' --steps 50\n"
            "  brisk lr refine --grad-norms run.csv --steps 1000 --plot refined.svg\n");
}

static void list_kinds(void) {
    printf("schedules (brisk lr NAME --help for parameters):\n");
    for (int k = 0; k < BRISK_LR_KIND_COUNT; k++)
        printf("  %-28s %s\n", brisk_lr_kind_name((brisk_lr_kind)k), brisk_lr_kind_summary((brisk_lr_kind)k));
    printf("\nAliases: cosine = CosineAnnealingLR, onecycle, cyclic, step, multistep, exponential,\n"
           "polynomial, warm_restarts, sequential, chained, plateau, linear = LinearLR.\n"
           "LambdaLR and MultiplicativeLR take Python callables and are not available.\n");
}

static void kind_help(brisk_lr_kind k) {
    const brisk_lr_param_info *p;
    size_t n = brisk_lr_kind_params(k, &p);
    printf("%s: %s\n\nparameters:\n", brisk_lr_kind_name(k), brisk_lr_kind_summary(k));
    if (!n) printf("  (none)\n");
    for (size_t i = 0; i < n; i++) {
        char head[80];
        snprintf(head, sizeof head, "--%s %s", p[i].name, p[i].type);
        printf("  %-30s default %-10s %s\n", head, p[i].def, p[i].help);
    }
    n = brisk_lr_common_params(&p);
    printf("\ncommon:\n");
    for (size_t i = 0; i < n; i++) {
        if (!brisk_lr_kind_is_torch(k) && (!strcmp(p[i].name, "last_epoch") || !strcmp(p[i].name, "verbose")))
            continue;
        char head[80];
        snprintf(head, sizeof head, "--%s %s", p[i].name, p[i].type);
        printf("  %-30s default %-10s %s\n", head, p[i].def, p[i].help);
    }
    printf("\nexample: brisk lr '%s' --steps 100\n", brisk_lr_kind_example(k));
}

/* ---- building spec text from NAME --param value ... ------------------------------ */

typedef struct sched_arg {
    char *text;   /* spec text being built: "Name(" or "Name(k=v, " ... */
    int n_kw;     /* keywords appended */
    int had_args; /* NAME came with "(...)" */
    brisk_lr_kind kind;
    const char *name; /* as typed */
} sched_arg;

static void append(char **s, const char *add) {
    size_t a = strlen(*s), b = strlen(add);
    char *n = realloc(*s, a + b + 1);
    if (!n) cli_die("out of memory");
    memcpy(n + a, add, b + 1);
    *s = n;
}

static int is_number(const char *v) {
    char *end;
    if (!*v) return 0;
    errno = 0;
    strtod(v, &end);
    return !*end && end != v;
}

static int is_word(const char *v) {
    if (!*v || !(isalpha((unsigned char)*v) || *v == '_')) return 0;
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && *v != '_') return 0;
    return 1;
}

/* A command-line value as spec text: numbers, words and bracketed text as they are,
 * "30,60,90" as a list, anything else quoted. */
static char *value_text(const char *key, const char *v) {
    char *out = strdup("");
    if (!out) cli_die("out of memory");
    if (!strcmp(key, "schedulers")) {
        if (v[0] == '[') append(&out, v);
        else {
            append(&out, "[");
            append(&out, v);
            append(&out, "]");
        }
        return out;
    }
    if (strchr("[({'\"", v[0]) || is_number(v) || is_word(v)) {
        append(&out, v);
        return out;
    }
    if (strchr(v, ',')) { /* a list of numbers */
        char *copy = strdup(v);
        int ok = copy != NULL;
        for (char *tok = copy ? strtok(copy, ",") : NULL; tok && ok; tok = strtok(NULL, ",")) {
            while (isspace((unsigned char)*tok)) tok++;
            char *e = tok + strlen(tok);
            while (e > tok && isspace((unsigned char)e[-1])) *--e = '\0';
            ok = is_number(tok);
        }
        free(copy);
        if (ok) {
            append(&out, "[");
            append(&out, v);
            append(&out, "]");
            return out;
        }
    }
    if (!strchr(v, '"')) {
        append(&out, "\"");
        append(&out, v);
        append(&out, "\"");
    } else if (!strchr(v, '\'')) {
        append(&out, "'");
        append(&out, v);
        append(&out, "'");
    } else {
        cli_die("--%s: value contains both kinds of quotes", key);
    }
    return out;
}

static void sched_start(sched_arg *a, const char *name) {
    memset(a, 0, sizeof *a);
    a->name = name;
    const char *paren = strchr(name, '(');
    if (paren) {
        size_t L = strlen(name);
        while (L && isspace((unsigned char)name[L - 1])) L--;
        if (!L || name[L - 1] != ')') cli_die("'%s': a spec must end with ')'", name);
        a->text = strndup(name, L - 1); /* reopen the argument list */
        if (!a->text) cli_die("out of memory");
        const char *q = paren + 1;
        while (isspace((unsigned char)*q)) q++;
        a->had_args = *q != ')';
        char cls[128];
        size_t n = (size_t)(paren - name);
        while (n && isspace((unsigned char)name[n - 1])) n--;
        if (n >= sizeof cls) cli_die("'%s': name too long", name);
        memcpy(cls, name, n);
        cls[n] = '\0';
        if (brisk_lr_kind_from_name(cls, &a->kind)) cli_die("%s", brisk_last_error());
    } else {
        if (brisk_lr_kind_from_name(name, &a->kind)) cli_die("%s", brisk_last_error());
        a->text = strdup(name);
        if (!a->text) cli_die("out of memory");
        append(&a->text, "(");
    }
}

static int known_param(brisk_lr_kind k, const char *key) {
    const brisk_lr_param_info *p;
    size_t n = brisk_lr_kind_params(k, &p);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].name, key)) return 1;
    if (!strcmp(key, "warmup") || !strcmp(key, "sampling")) return 1;
    if (brisk_lr_kind_is_torch(k) && (!strcmp(key, "last_epoch") || !strcmp(key, "verbose"))) return 1;
    return 0;
}

static void sched_add(sched_arg *a, const char *key, const char *value) {
    char *v = value_text(key, value);
    if (a->n_kw || a->had_args) append(&a->text, ", ");
    append(&a->text, key);
    append(&a->text, "=");
    append(&a->text, v);
    free(v);
    a->n_kw++;
}

/* ---- output ------------------------------------------------------------------------ */

typedef struct series_out {
    char label[96];
    char *spec;
    double *lr, *mom;
    int show_mom;
} series_out;

/* Shortest decimal text that reads back as exactly v. */
static const char *exact(char *buf, double v) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || isnan(v)) break;
    }
    if (isnan(v)) snprintf(buf, 32, "NaN");
    return buf;
}

static void json_string(FILE *fp, const char *s) {
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(fp, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(fp, "\\u%04x", *s);
        else fputc(*s, fp);
    }
    fputc('"', fp);
}

static void json_array(FILE *fp, const double *v, size_t n) {
    fputc('[', fp);
    char b[32];
    for (size_t k = 0; k < n; k++) {
        if (isfinite(v[k])) fprintf(fp, "%s%s", k ? ", " : "", exact(b, v[k]));
        else fprintf(fp, "%snull", k ? ", " : "");
    }
    fputc(']', fp);
}

static int colw(const char *label) {
    int n = (int)strlen(label);
    return n < 16 ? 16 : n;
}

static void print_output(FILE *fp, const char *format, const series_out *s, size_t ns, size_t steps,
                         long spe, long every, const char *extra_name, const double *extra) {
    if (!strcmp(format, "json")) {
        fprintf(fp, "{\n  \"steps\": %zu,\n", steps);
        if (spe > 0) fprintf(fp, "  \"steps_per_epoch\": %ld,\n", spe);
        if (extra) {
            fprintf(fp, "  ");
            json_string(fp, extra_name);
            fprintf(fp, ": ");
            json_array(fp, extra, steps);
            fprintf(fp, ",\n");
        }
        fprintf(fp, "  \"schedules\": [\n");
        for (size_t i = 0; i < ns; i++) {
            fprintf(fp, "    {\"name\": ");
            json_string(fp, s[i].label);
            fprintf(fp, ", \"spec\": %s,\n     \"lr\": ", s[i].spec ? s[i].spec : "null");
            json_array(fp, s[i].lr, steps);
            int any_mom = 0;
            for (size_t k = 0; k < steps && !any_mom; k++) any_mom = !isnan(s[i].mom[k]);
            if (any_mom) {
                fprintf(fp, ",\n     \"momentum\": ");
                json_array(fp, s[i].mom, steps);
            }
            fprintf(fp, "}%s\n", i + 1 < ns ? "," : "");
        }
        fprintf(fp, "  ]\n}\n");
        return;
    }
    int csv = !strcmp(format, "csv");
    const char *sep = csv ? "," : "  ";
    if (csv) fprintf(fp, "step");
    else fprintf(fp, "%8s", "step");
    if (spe > 0) fprintf(fp, csv ? ",epoch" : "%s%6s", csv ? "" : sep, "epoch");
    if (extra) {
        if (csv) fprintf(fp, ",%s", extra_name);
        else fprintf(fp, "%s%*s", sep, colw(extra_name), extra_name);
    }
    for (size_t i = 0; i < ns; i++) {
        if (csv) fprintf(fp, ",%s", s[i].label);
        else fprintf(fp, "%s%*s", sep, colw(s[i].label), s[i].label);
        if (s[i].show_mom) {
            char h[120];
            snprintf(h, sizeof h, "%s:mom", s[i].label);
            if (csv) fprintf(fp, ",%s", h);
            else fprintf(fp, "%s%*s", sep, colw(h), h);
        }
    }
    fputc('\n', fp);
    char b[32];
    for (size_t k = 0; k < steps; k++) {
        if (every > 1 && k % (size_t)every && k + 1 != steps) continue;
        if (csv) fprintf(fp, "%zu", k);
        else fprintf(fp, "%8zu", k);
        if (spe > 0) {
            if (csv) fprintf(fp, ",%zu", k / (size_t)spe);
            else fprintf(fp, "%s%6zu", sep, k / (size_t)spe);
        }
        if (extra) {
            if (csv) fprintf(fp, ",%s", exact(b, extra[k]));
            else fprintf(fp, "%s%*.9g", sep, colw(extra_name), extra[k]);
        }
        for (size_t i = 0; i < ns; i++) {
            if (csv) fprintf(fp, ",%s", exact(b, s[i].lr[k]));
            else fprintf(fp, "%s%*.9g", sep, colw(s[i].label), s[i].lr[k]);
            if (s[i].show_mom) {
                char h[120];
                snprintf(h, sizeof h, "%s:mom", s[i].label);
                if (csv) fprintf(fp, ",%s", exact(b, s[i].mom[k]));
                else fprintf(fp, "%s%*.9g", sep, colw(h), s[i].mom[k]);
            }
        }
        fputc('\n', fp);
    }
}

static void emit(const char *out_path, const char *format, const series_out *s, size_t ns,
                 size_t steps, long spe, long every, const char *extra_name, const double *extra) {
    if (!out_path) {
        print_output(stdout, format, s, ns, steps, spe, every, extra_name, extra);
        return;
    }
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, out_path);
    if (rc) cli_die_status(rc, NULL);
    print_output(f.fp, format, s, ns, steps, spe, every, extra_name, extra);
    if (ferror(f.fp)) {
        brisk_atomic_abort(&f);
        cli_die("%s: write error", out_path);
    }
    rc = brisk_atomic_commit(&f);
    if (rc) cli_die_status(rc, NULL);
}

static void plot(const char *path, const series_out *s, size_t ns, size_t steps, const char *title) {
    brisk_lr_series ser[MAX_SCHED + 1];
    for (size_t i = 0; i < ns; i++) {
        ser[i].label = s[i].label;
        ser[i].y = s[i].lr;
        ser[i].n = steps;
        ser[i].x = NULL;
    }
    int rc = brisk_lr_plot_write(path, ser, ns, title, "step");
    if (rc) cli_die_status(rc, NULL);
    fprintf(stderr, "brisk lr: wrote %s\n", path);
}

static double *read_metrics(const char *path, size_t *n) {
    char *text;
    size_t len;
    int rc = brisk_read_file(path, &text, &len);
    if (rc) cli_die_status(rc, NULL);
    size_t cap = 256, m = 0;
    double *v = malloc(cap * sizeof *v);
    if (!v) cli_die("out of memory");
    long line = 0;
    for (char *p = text, *e; p && *p; p = e ? e + 1 : NULL) {
        e = strchr(p, '\n');
        if (e) *e = '\0';
        line++;
        char *c = strrchr(p, ','); /* "step,metric" lines: the last field */
        char *f = c ? c + 1 : p;
        while (isspace((unsigned char)*f)) f++;
        if (!*f || *f == '#') continue;
        char *end;
        errno = 0;
        double x = strtod(f, &end);
        while (isspace((unsigned char)*end)) end++;
        if (end == f || *end) {
            if (m == 0 && line == 1) continue; /* a header */
            cli_die("%s: line %ld: '%s' is not a number", path, line, f);
        }
        if (m == cap) {
            cap *= 2;
            double *nv = realloc(v, cap * sizeof *v);
            if (!nv) cli_die("out of memory");
            v = nv;
        }
        v[m++] = x;
    }
    brisk_free(text);
    *n = m;
    return v;
}

static int cmd_refine(int argc, char **argv) {
    const char *csv = NULL, *format = "table", *plot_path = NULL, *out_path = NULL, *v;
    long steps = -1, every = 1;
    double base_lr = 1.0;
    int l1 = 0;
    brisk_lr_refine_params p;
    brisk_lr_refine_params_default(&p);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: brisk lr refine --grad-norms FILE.csv [--l1] --steps N [options]\n\n"
                   "Refined schedule from an earlier run's gradient norms (Defazio et al. 2023):\n"
                   "the authors' smoothing (drop inf, trim 2 at each end, resample to 10000 if\n"
                   "shorter, median filter of width 1001 after end-reflect padding, resample to\n"
                   "10000), weights g^-2 (l2 norms, SGD) or g^-1 (--l1: l1 norms, Adam), lr_t ~\n"
                   "w_t sum_{p>t} w_p, normalised to peak 1, for a run of N steps.\n\n"
                   "FILE.csv: brisk's training log (step,grad_norm_l2,grad_norm_l1; --l1 picks the\n"
                   "l1 column) or a wandb export (Step,<value>,<value>__MIN,<value>__MAX).\n\n"
                   "options:\n"
                   "  --steps N           length of the training run (required)\n"
                   "  --l1                l1 norms, weights g^-1\n"
                   "  --base-lr X         peak lr (default 1: print the multiplier)\n"
                   "  --trim K            values dropped at each end (default 2)\n"
                   "  --filter-width W    median filter width, odd (default 1001; 1 = none)\n"
                   "  --min-len L         resample up to L values if shorter (default 10000)\n"
                   "  --resample-to R     length of the smoothed norms (default 10000)\n"
                   "  --format, --every, --plot, --out   as for brisk lr\n");
            return 0;
        }
        if (cli_opt(argc, argv, &i, "--grad-norms", &v)) csv = v;
        else if (cli_flag(argv, i, "--l1")) l1 = 1;
        else if (cli_opt(argc, argv, &i, "--steps", &v)) steps = cli_long("--steps", v);
        else if (cli_opt(argc, argv, &i, "--base-lr", &v)) base_lr = cli_double("--base-lr", v);
        else if (cli_opt(argc, argv, &i, "--trim", &v)) p.trim_each_end = (size_t)cli_u64("--trim", v);
        else if (cli_opt(argc, argv, &i, "--filter-width", &v)) p.filter_width = (size_t)cli_u64("--filter-width", v);
        else if (cli_opt(argc, argv, &i, "--min-len", &v)) p.min_len = (size_t)cli_u64("--min-len", v);
        else if (cli_opt(argc, argv, &i, "--resample-to", &v)) p.resample_to = (size_t)cli_u64("--resample-to", v);
        else if (cli_opt(argc, argv, &i, "--format", &v)) format = v;
        else if (cli_opt(argc, argv, &i, "--every", &v)) every = cli_long("--every", v);
        else if (cli_opt(argc, argv, &i, "--plot", &v)) plot_path = v;
        else if (cli_opt(argc, argv, &i, "--out", &v)) out_path = v;
        else cli_unknown_option("lr refine", argv[i]);
    }
    if (!csv) cli_die("lr refine: --grad-norms FILE.csv is required");
    if (steps < 2) cli_die("lr refine: --steps N (N >= 2) is required");
    if (steps > 10000000L) cli_die("--steps: %ld is too many (at most 10000000)", steps);
    if (every < 1) cli_die("--every: must be >= 1");
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        cli_die("--format: '%s' is not table, csv or json", format);
    p.weight_power = l1 ? 1.0 : 2.0;
    double *g, *sched, *sm, *smn;
    size_t n, m;
    int rc = brisk_lr_grad_norms_read(csv, l1, &g, &n);
    if (rc) cli_die_status(rc, NULL);
    rc = brisk_lr_refine(g, n, &p, (size_t)steps, &sched);
    if (rc) cli_die_status(rc, csv);
    rc = brisk_lr_refine_smooth(g, n, &p, &sm, &m);
    if (rc) cli_die_status(rc, csv);
    smn = malloc((size_t)steps * sizeof *smn);
    double *mom = malloc((size_t)steps * sizeof *mom);
    if (!smn || !mom) cli_die("out of memory");
    if ((rc = brisk_lr_resample(sm, m, (size_t)steps, smn))) cli_die_status(rc, NULL);
    for (long k = 0; k < steps; k++) {
        sched[k] *= base_lr;
        mom[k] = NAN;
    }
    series_out s = {{0}, NULL, sched, mom, 0};
    snprintf(s.label, sizeof s.label, "refined%s", l1 ? "_l1" : "_l2");
    emit(out_path, format, &s, 1, (size_t)steps, 0, every, "grad_norm_smoothed", smn);
    if (plot_path) {
        double mx = 0;
        for (long k = 0; k < steps; k++)
            if (smn[k] > mx) mx = smn[k];
        double *scaled = malloc((size_t)steps * sizeof *scaled);
        if (!scaled) cli_die("out of memory");
        for (long k = 0; k < steps; k++) scaled[k] = mx > 0 ? smn[k] / mx * (base_lr) : 0;
        series_out two[2] = {s, {{0}, NULL, scaled, mom, 0}};
        snprintf(two[1].label, sizeof two[1].label, "smoothed norm (scaled to peak)");
        plot(plot_path, two, 2, (size_t)steps, "refined schedule");
        free(scaled);
    }
    brisk_free(g);
    brisk_free(sched);
    brisk_free(sm);
    free(smn);
    free(mom);
    return 0;
}

int cmd_lr(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "list")) {
        if (argc > 2 && cli_is_help(argv[2])) {
            printf("usage: brisk lr list\n\nLists every schedule with a one-line description.\n");
            return 0;
        }
        if (argc > 2) cli_unknown_option("lr list", argv[2]);
        list_kinds();
        return 0;
    }
    if (!strcmp(argv[1], "refine")) return cmd_refine(argc - 1, argv + 1);

    sched_arg sa[MAX_SCHED];
    size_t ns = 0;
    const char *format = "table", *plot_path = NULL, *out_path = NULL, *metrics_path = NULL, *v;
    long steps = -1, spe = 0, every = 1;
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            if (ns) kind_help(sa[ns - 1].kind);
            else usage(stdout);
            for (size_t q = 0; q < ns; q++) free(sa[q].text);
            return 0;
        }
        if (a[0] != '-') {
            if (ns == MAX_SCHED) cli_die("at most %d schedules at once", MAX_SCHED);
            sched_start(&sa[ns++], a);
            continue;
        }
        if (cli_opt(argc, argv, &i, "--steps", &v)) steps = cli_long("--steps", v);
        else if (cli_opt(argc, argv, &i, "--steps-per-epoch", &v)) spe = cli_long("--steps-per-epoch", v);
        else if (cli_opt(argc, argv, &i, "--base-lr", &v)) o.base_lr = cli_double("--base-lr", v);
        else if (cli_opt(argc, argv, &i, "--momentum", &v)) o.base_momentum = cli_double("--momentum", v);
        else if (cli_opt(argc, argv, &i, "--optimizer", &v)) {
            if (brisk_lr_optimizer_from_name(v, &o.optimizer)) cli_die("--optimizer: %s", brisk_last_error());
        } else if (cli_opt(argc, argv, &i, "--metrics", &v)) metrics_path = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) format = v;
        else if (cli_opt(argc, argv, &i, "--every", &v)) every = cli_long("--every", v);
        else if (cli_opt(argc, argv, &i, "--plot", &v)) plot_path = v;
        else if (cli_opt(argc, argv, &i, "--out", &v)) out_path = v;
        else if (a[0] == '-' && a[1] == '-' && ns) {
            char key[128];
            const char *eq = strchr(a + 2, '=');
            size_t kl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (kl == 0 || kl >= sizeof key) cli_unknown_option("lr", a);
            memcpy(key, a + 2, kl);
            key[kl] = '\0';
            if (!known_param(sa[ns - 1].kind, key)) {
                fprintf(stderr, "brisk lr: %s has no parameter '%s' (see 'brisk lr %s --help')\n",
                        brisk_lr_kind_name(sa[ns - 1].kind), key, brisk_lr_kind_name(sa[ns - 1].kind));
                for (size_t q = 0; q < ns; q++) free(sa[q].text);
                return 2;
            }
            const char *val;
            if (eq) val = eq + 1;
            else if (i + 1 < argc) val = argv[++i];
            else cli_die("--%s needs a value", key);
            if (!*val) cli_die("--%s: empty value", key);
            sched_add(&sa[ns - 1], key, val);
        } else {
            cli_unknown_option("lr", a);
        }
    }
    if (!ns) cli_die("lr: no schedule given (see 'brisk lr list')");
    if (steps <= 0) cli_die("lr: --steps N (N >= 1) is required");
    if (steps > 10000000L) cli_die("--steps: %ld is too many (at most 10000000)", steps);
    if (spe < 0) cli_die("--steps-per-epoch: must be >= 0");
    if (every < 1) cli_die("--every: must be >= 1");
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        cli_die("--format: '%s' is not table, csv or json", format);
    o.steps_per_epoch = spe;

    double *metrics = NULL;
    size_t n_metrics = 0;
    if (metrics_path) metrics = read_metrics(metrics_path, &n_metrics);

    series_out out[MAX_SCHED];
    memset(out, 0, sizeof out);
    for (size_t i = 0; i < ns; i++) {
        append(&sa[i].text, ")");
        brisk_lr_schedule *s;
        int rc = brisk_lr_create_spec(sa[i].text, &o, &s);
        if (rc) cli_die_status(rc, NULL);
        out[i].lr = malloc((size_t)steps * sizeof(double));
        out[i].mom = malloc((size_t)steps * sizeof(double));
        if (!out[i].lr || !out[i].mom) cli_die("out of memory");
        if (brisk_lr_schedule_stateful(s)) {
            if (!metrics) cli_die("%s needs --metrics FILE (one metric per step)", brisk_lr_kind_name(sa[i].kind));
            if (n_metrics + 1 < (size_t)steps)
                cli_die("--metrics: %zu values for %ld steps (need %ld)", n_metrics, steps, steps - 1);
        }
        rc = brisk_lr_values(s, (size_t)steps, metrics, out[i].lr, out[i].mom);
        if (rc) cli_die_status(rc, sa[i].text);
        out[i].show_mom = brisk_lr_schedule_cycles_momentum(s);
        out[i].spec = strdup(brisk_lr_schedule_spec(s));
        int dup = 0;
        for (size_t j = 0; j < i; j++) dup += sa[j].kind == sa[i].kind;
        if (dup) snprintf(out[i].label, sizeof out[i].label, "%s#%d", brisk_lr_kind_name(sa[i].kind), dup + 1);
        else snprintf(out[i].label, sizeof out[i].label, "%s", brisk_lr_kind_name(sa[i].kind));
        brisk_lr_free(s);
    }
    emit(out_path, format, out, ns, (size_t)steps, spe, every, NULL, NULL);
    if (plot_path) {
        /* legend: the spec as typed, so several variants of one schedule can be told apart */
        for (size_t i = 0; i < ns; i++) {
            const char *t = sa[i].text;
            size_t L = strlen(t);
            if (L >= 2 && !strcmp(t + L - 2, "()")) L -= 2;
            if (L > sizeof out[i].label - 1) L = sizeof out[i].label - 1;
            memcpy(out[i].label, t, L);
            out[i].label[L] = '\0';
        }
        plot(plot_path, out, ns, (size_t)steps, "learning rate");
    }
    for (size_t i = 0; i < ns; i++) {
        free(sa[i].text);
        free(out[i].lr);
        free(out[i].mom);
        free(out[i].spec);
    }
    free(metrics);
    return 0;
}
