/* brisk bench quality: the PNDM study on a trained model. Every (sampler, steps) entry draws
 * K samples for each of S seeds (the same noise seeds for every entry, so differences are
 * paired), measures FD / KID / precision-recall / class summaries in the classifier's
 * features, and records NFE and wall time. Results go to a JSON file after every entry
 * (--resume continues an interrupted study); a markdown table and an FD-vs-NFE plot are
 * written at the end. */
#include "cli.h"
#include "quality.h"
#include "sampling.h"

#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk/lr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ENTRIES 128
#define MAX_METHODS 16
#define MAX_SEEDS 64

static const char *DEFAULT_METHODS =
    "ddim:10,20,50,100,250,1000 spndm:10,20,50,100 fpndm:10,20,50,100 plms:10,20,50,100 "
    "dpmpp-2m:10,20,50,100 unipc:10,20,50,100";

typedef struct entry {
    char method[48];     /* "fpndm" or "fpndm/grid" */
    char sched[48];      /* scheduler name */
    char time_mode[48];  /* "" = the sampler's default */
    int clip_sample;     /* -1: the sampler's default; 0 "+noclip"; 1 "+clip" */
    int clipped_eps;     /* "+clipped-eps": DDIM use_clipped_model_output */
    int steps;
    int method_index;
} entry;

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: brisk bench quality [--model SPEC] [--num-samples K] [--seeds S] [--methods LIST]\n"
            "                           --out results.json [--resume] [--markdown FILE.md] [--plot FILE.png]\n\n"
            "The PNDM study: for every sampler and step count, K samples for each of S seeds (the\n"
            "same seeds for every entry), FD / KID / precision / recall / class summaries in the\n"
            "classifier's features (as 'brisk eval'), NFE and wall time, with 95%% bootstrap CIs\n"
            "over seeds and paired comparisons of the PNDM samplers at 50 steps with DDIM at 1000,\n"
            "250 and 50 steps. docs/results.md has a full run.\n\n"
            "  --model SPEC         default unet:models/fmnist-unet\n"
            "  --num-samples K      samples per seed and entry (default 500)\n"
            "  --seeds S            seeds 0..S-1 (default 3; at least 2 for intervals)\n"
            "  --methods LIST       space-separated NAME[/TIME_MODE][+MOD...]:STEPS,STEPS,...\n"
            "                       (default \"%s\");\n"
            "                       MOD: noclip | clip (x0 clipping, ddpm/ddim/heun) |\n"
            "                       clipped-eps (DDIM use_clipped_model_output)\n"
            "  --out FILE.json      results, rewritten atomically after every entry (required)\n"
            "  --resume             keep the entries already in --out (same model, K and seeds)\n"
            "  --markdown FILE.md   the results table (default: next to --out, .md)\n"
            "  --plot FILE.png      FD against NFE, log10 x axis (default: next to --out, .png);\n"
            "                       when some entries score above 1.5x the best FD, FILE-zoom.png\n"
            "                       shows only the points below that\n"
            "  --batch B            samples per sampler run (default 64)\n"
            "  --classifier DIR --stats DIR --real-num N --bootstrap B   as in 'brisk eval'\n"
            "  --threads T          worker threads (default: all)\n"
            "  --quiet              no progress on stderr\n",
            DEFAULT_METHODS);
}

static size_t parse_methods(const char *spec, entry *e, size_t max, char names[][48], size_t *n_names) {
    size_t n = 0;
    char *copy = strdup(spec);
    if (!copy) cli_die_status(BRISK_ENOMEM, "--methods");
    char *save = NULL;
    *n_names = 0;
    for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || colon == tok || !colon[1])
            cli_die("--methods: '%s' is not NAME[/TIME_MODE][+MOD...]:STEPS,...", tok);
        *colon = 0;
        if (strlen(tok) >= 48) cli_die("--methods: name '%s' is too long", tok);
        size_t mi = 0;
        while (mi < *n_names && strcmp(names[mi], tok)) mi++; /* "ddim:10 ... ddim:1000" */
        if (mi == *n_names) {
            if (*n_names == MAX_METHODS) cli_die("--methods: at most %d methods", MAX_METHODS);
            (*n_names)++;
            snprintf(names[mi], 48, "%s", tok);
        }
        char sched[48], mode[48] = "";
        snprintf(sched, sizeof sched, "%s", tok);
        int clip = -1, clipped_eps = 0;
        char *plus = strchr(sched, '+');
        if (plus) {
            *plus = 0;
            for (char *m = plus + 1; m;) {
                char *next = strchr(m, '+');
                if (next) *next++ = 0;
                if (!strcmp(m, "noclip")) clip = 0;
                else if (!strcmp(m, "clip")) clip = 1;
                else if (!strcmp(m, "clipped-eps")) clipped_eps = 1;
                else cli_die("--methods: '%s' in '%s' is not a modifier (noclip, clip, clipped-eps)", m, tok);
                m = next;
            }
        }
        char *slash = strchr(sched, '/');
        if (slash) {
            *slash = 0;
            snprintf(mode, sizeof mode, "%s", slash + 1);
            brisk_time_mode tm;
            if (brisk_time_mode_from_name(mode, &tm)) cli_die_status(BRISK_EINVAL, "--methods");
        }
        brisk_sampler_kind kind;
        if (brisk_sampler_kind_from_name(sched, &kind)) cli_die_status(BRISK_EINVAL, "--methods");
        if (kind == BRISK_SAMPLER_PF) cli_die("--methods: pf is adaptive (no step counts)");
        if (clip >= 0 && !sampling_has_clip_sample(kind))
            cli_die("--methods: '%s': x0 clipping applies to ddpm, ddim and heun only", tok);
        if (clipped_eps && !sampling_has_clipped_model_output(kind))
            cli_die("--methods: '%s': clipped-eps applies to ddim only", tok);
        char *save2 = NULL;
        for (char *st = strtok_r(colon + 1, ",", &save2); st; st = strtok_r(NULL, ",", &save2)) {
            long k = cli_long("--methods", st);
            if (k < 1 || k > 100000) cli_die("--methods: %ld steps is outside 1..100000", k);
            if (n == max) cli_die("--methods: at most %zu entries", max);
            snprintf(e[n].method, sizeof e[n].method, "%.47s", names[mi]);
            snprintf(e[n].sched, sizeof e[n].sched, "%s", sched);
            snprintf(e[n].time_mode, sizeof e[n].time_mode, "%s", mode);
            e[n].clip_sample = clip;
            e[n].clipped_eps = clipped_eps;
            e[n].steps = (int)k;
            e[n].method_index = (int)mi;
            n++;
        }
    }
    free(copy);
    if (!n) cli_die("--methods: no entries");
    return n;
}

static const cJSON *find_entry(const cJSON *entries, const char *method, int steps) {
    const cJSON *e;
    cJSON_ArrayForEach(e, entries) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "method");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "steps");
        if (cJSON_IsString(m) && cJSON_IsNumber(s) && !strcmp(m->valuestring, method) &&
            (int)s->valuedouble == steps)
            return e;
    }
    return NULL;
}

static double sum_get(const cJSON *entry, const char *key, const char *field, int idx) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(entry, "summary");
    const cJSON *k = s ? cJSON_GetObjectItemCaseSensitive(s, key) : NULL;
    const cJSON *v = k ? cJSON_GetObjectItemCaseSensitive(k, field) : NULL;
    if (v && idx >= 0) v = cJSON_GetArrayItem(v, idx);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void save_json(const char *path, const cJSON *doc) {
    char *text = cJSON_Print(doc);
    if (!text) cli_die_status(BRISK_ENOMEM, "--out");
    int rc = brisk_write_file_atomic(path, text, strlen(text));
    free(text);
    if (rc) cli_die_status(rc, "--out");
}

/* Paired comparison over seeds of metric `key` ("fd") between entries a and b: per-seed
 * differences a - b, their mean and a bootstrap CI. */
static void compare(cJSON *out, const cJSON *a, const cJSON *b, const char *key, size_t n_boot) {
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(a, "per_seed");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(b, "per_seed");
    int n = cJSON_GetArraySize(pa);
    if (n < 2 || n != cJSON_GetArraySize(pb)) return;
    double d[MAX_SEEDS];
    int better = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *va = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pa, i), key);
        const cJSON *vb = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pb, i), key);
        if (!cJSON_IsNumber(va) || !cJSON_IsNumber(vb)) return;
        d[i] = va->valuedouble - vb->valuedouble;
        better += d[i] < 0;
    }
    double m = 0, ss = 0, lo, hi;
    for (int i = 0; i < n; i++) m += d[i];
    m /= n;
    for (int i = 0; i < n; i++) ss += (d[i] - m) * (d[i] - m);
    if (brisk_bootstrap_mean_ci(d, (size_t)n, n_boot, 0.95, 0, &lo, &hi)) return;
    char label[160];
    snprintf(label, sizeof label, "%s@%d vs %s@%d",
             cJSON_GetObjectItemCaseSensitive(a, "method")->valuestring,
             (int)cJSON_GetObjectItemCaseSensitive(a, "steps")->valuedouble,
             cJSON_GetObjectItemCaseSensitive(b, "method")->valuestring,
             (int)cJSON_GetObjectItemCaseSensitive(b, "steps")->valuedouble);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "pair", label);
    cJSON_AddStringToObject(c, "metric", key);
    cJSON_AddNumberToObject(c, "mean_difference", m);
    cJSON_AddNumberToObject(c, "sd_difference", sqrt(ss / (n - 1)));
    cJSON *ci = cJSON_AddArrayToObject(c, "ci95");
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(lo));
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(hi));
    cJSON_AddNumberToObject(c, "seeds_first_better", better);
    cJSON_AddNumberToObject(c, "seeds", n);
    cJSON_AddItemToArray(out, c);
}

#define ZOOM 1.5

/* FD mean against log10 NFE, one series per method; points above max_fd are left out. */
static void write_plot(const cJSON *entries, const char *plot_path, size_t K, size_t S,
                       char names[][48], size_t n_names, double max_fd) {
    brisk_lr_series ser[MAX_METHODS];
    double xs[MAX_METHODS][MAX_ENTRIES], ys[MAX_METHODS][MAX_ENTRIES];
    size_t ns = 0;
    const cJSON *e;
    for (size_t m = 0; m < n_names; m++) {
        size_t k = 0;
        cJSON_ArrayForEach(e, entries) {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "method")->valuestring, names[m])) continue;
            double nfe = cJSON_GetObjectItemCaseSensitive(e, "nfe")->valuedouble;
            double fd = sum_get(e, "fd", "mean", -1);
            if (!(nfe > 0) || !isfinite(fd) || fd > max_fd || k == MAX_ENTRIES) continue;
            /* insertion by NFE */
            size_t j = k++;
            while (j > 0 && xs[ns][j - 1] > log10(nfe)) {
                xs[ns][j] = xs[ns][j - 1];
                ys[ns][j] = ys[ns][j - 1];
                j--;
            }
            xs[ns][j] = log10(nfe);
            ys[ns][j] = fd;
        }
        if (!k) continue;
        ser[ns].label = names[m];
        ser[ns].x = xs[ns];
        ser[ns].y = ys[ns];
        ser[ns].n = k;
        ns++;
    }
    char title[160];
    if (isfinite(max_fd))
        snprintf(title, sizeof title, "FD vs NFE, %zu samples x %zu seeds (FD <= %.1f)", K, S, max_fd);
    else
        snprintf(title, sizeof title, "FD vs NFE, %zu samples x %zu seeds", K, S);
    int rc;
    if (ns && (rc = brisk_lr_plot_write(plot_path, ser, ns, title, "log10 NFE")))
        cli_die_status(rc, "--plot");
}

static void write_outputs(const cJSON *doc, const char *md_path, const char *plot_path,
                          const char *zoom_path, size_t K, size_t S, char names[][48], size_t n_names) {
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(doc, "entries");
    /* markdown */
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, md_path);
    if (rc) cli_die_status(rc, "--markdown");
    fprintf(f.fp, "| sampler | steps | NFE | FD (95%% CI) | KID x 1e3 (95%% CI) | precision | recall | s / sample |\n");
    fprintf(f.fp, "|---|---|---|---|---|---|---|---|\n");
    const cJSON *e;
    cJSON_ArrayForEach(e, entries) {
        double fd = sum_get(e, "fd", "mean", -1), fl = sum_get(e, "fd", "ci95", 0), fh = sum_get(e, "fd", "ci95", 1);
        double kd = sum_get(e, "kid", "mean", -1), kl = sum_get(e, "kid", "ci95", 0), kh = sum_get(e, "kid", "ci95", 1);
        double pr = sum_get(e, "precision", "mean", -1), re = sum_get(e, "recall", "mean", -1);
        double sec = sum_get(e, "seconds", "mean", -1);
        fprintf(f.fp, "| %s | %d | %d | %.3f [%.3f, %.3f] | %.2f [%.2f, %.2f] | %.3f | %.3f | %.4f |\n",
                cJSON_GetObjectItemCaseSensitive(e, "method")->valuestring,
                (int)cJSON_GetObjectItemCaseSensitive(e, "steps")->valuedouble,
                (int)cJSON_GetObjectItemCaseSensitive(e, "nfe")->valuedouble, fd, fl, fh, 1e3 * kd,
                1e3 * kl, 1e3 * kh, pr, re, sec / (double)K);
    }
    const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(doc, "comparisons");
    if (cJSON_GetArraySize(cmp) > 0) {
        fprintf(f.fp, "\nPaired over the %zu seeds (same noise for both entries; difference = first - second, negative = first better):\n\n", S);
        fprintf(f.fp, "| pair | metric | mean difference | 95%% CI | seeds where first is better |\n|---|---|---|---|---|\n");
        cJSON_ArrayForEach(e, cmp) {
            fprintf(f.fp, "| %s | %s | %+.4g | [%+.4g, %+.4g] | %d / %d |\n",
                    cJSON_GetObjectItemCaseSensitive(e, "pair")->valuestring,
                    cJSON_GetObjectItemCaseSensitive(e, "metric")->valuestring,
                    cJSON_GetObjectItemCaseSensitive(e, "mean_difference")->valuedouble,
                    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "ci95"), 0)->valuedouble,
                    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "ci95"), 1)->valuedouble,
                    (int)cJSON_GetObjectItemCaseSensitive(e, "seeds_first_better")->valuedouble,
                    (int)cJSON_GetObjectItemCaseSensitive(e, "seeds")->valuedouble);
        }
    }
    if ((rc = brisk_atomic_commit(&f))) cli_die_status(rc, "--markdown");
    /* plot: one series per method, FD mean against log10 NFE */
    write_plot(entries, plot_path, K, S, names, n_names, INFINITY);
    /* a zoomed plot when some entries are far worse than the best: only the points within
     * ZOOM x the best FD, so the differences between converged samplers stay visible */
    double best = INFINITY, worst = -INFINITY;
    cJSON_ArrayForEach(e, entries) {
        double fd = sum_get(e, "fd", "mean", -1);
        if (isfinite(fd) && fd < best) best = fd;
        if (isfinite(fd) && fd > worst) worst = fd;
    }
    if (zoom_path && isfinite(best) && worst > ZOOM * best)
        write_plot(entries, zoom_path, K, S, names, n_names, ZOOM * best);
}

static char *with_ext(const char *path, const char *ext) {
    size_t n = strlen(path);
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash)) n = (size_t)(dot - path);
    char *r = malloc(n + strlen(ext) + 1);
    if (!r) cli_die_status(BRISK_ENOMEM, "--out");
    memcpy(r, path, n);
    strcpy(r + n, ext);
    return r;
}

int bench_quality(int argc, char **argv) {
    const char *model = "unet:models/fmnist-unet", *methods = DEFAULT_METHODS, *out = NULL, *v;
    const char *md = NULL, *plot = NULL, *clf_dir = NULL, *stats_dir = NULL;
    long num = 500, n_seeds = 3, batch = 64, threads = 0, real_num = 10000, n_boot = 10000;
    int resume = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--model", &model)) {
        } else if (cli_opt(argc, argv, &i, "--methods", &methods)) {
        } else if (cli_opt(argc, argv, &i, "--out", &out)) {
        } else if (cli_opt(argc, argv, &i, "--markdown", &md)) {
        } else if (cli_opt(argc, argv, &i, "--plot", &plot)) {
        } else if (cli_opt(argc, argv, &i, "--classifier", &clf_dir)) {
        } else if (cli_opt(argc, argv, &i, "--stats", &stats_dir)) {
        } else if (cli_opt(argc, argv, &i, "--num-samples", &v)) {
            num = cli_long("--num-samples", v);
        } else if (cli_opt(argc, argv, &i, "--seeds", &v)) {
            n_seeds = cli_long("--seeds", v);
        } else if (cli_opt(argc, argv, &i, "--batch", &v)) {
            batch = cli_long("--batch", v);
        } else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            threads = cli_long("--threads", v);
        } else if (cli_opt(argc, argv, &i, "--real-num", &v)) {
            real_num = cli_long("--real-num", v);
        } else if (cli_opt(argc, argv, &i, "--bootstrap", &v)) {
            n_boot = cli_long("--bootstrap", v);
        } else if (cli_flag(argv, i, "--resume")) {
            resume = 1;
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = 1;
        } else {
            cli_unknown_option("bench quality", argv[i]);
        }
    }
    if (!out) cli_die("bench quality: --out FILE.json is required");
    if (num < 2 || num > 10000000) cli_die("--num-samples: %ld is outside 2..10000000", num);
    if (n_seeds < 1 || n_seeds > MAX_SEEDS) cli_die("--seeds: %ld is outside 1..%d", n_seeds, MAX_SEEDS);
    if (batch < 1 || batch > 1000000) cli_die("--batch: %ld is outside 1..1000000", batch);
    if (threads < 0 || threads > 4096) cli_die("--threads: %ld is outside 1..4096", threads);
    if (real_num < 1 || real_num > 10000) cli_die("--real-num: %ld is outside 1..10000", real_num);
    if (n_boot < 10) cli_die("--bootstrap: %ld must be at least 10", n_boot);
    if (threads) brisk_set_num_threads((int)threads);
    entry ent[MAX_ENTRIES];
    char names[MAX_METHODS][48];
    size_t n_names;
    size_t n_ent = parse_methods(methods, ent, MAX_ENTRIES, names, &n_names);
    char *md_path = md ? strdup(md) : with_ext(out, ".md");
    char *plot_path = plot ? strdup(plot) : with_ext(out, ".png");
    size_t K = (size_t)num, S = (size_t)n_seeds;

    cJSON *doc = NULL, *entries = NULL;
    if (resume && access(out, F_OK) == 0) {
        cJSON *old = NULL;
        int rc = brisk_json_read_file(out, &old);
        if (rc) cli_die_status(rc, "--resume");
        {
            const cJSON *cm = cJSON_GetObjectItemCaseSensitive(old, "model");
            const cJSON *ck = cJSON_GetObjectItemCaseSensitive(old, "num_samples");
            const cJSON *cs = cJSON_GetObjectItemCaseSensitive(old, "seeds");
            if (!cJSON_IsString(cm) || strcmp(cm->valuestring, model) || !cJSON_IsNumber(ck) ||
                (size_t)ck->valuedouble != K || !cJSON_IsNumber(cs) || (size_t)cs->valuedouble != S)
                cli_die("--resume: %s was made with another model, --num-samples or --seeds", out);
            doc = old;
        }
    }
    if (!doc) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "model", model);
        cJSON_AddNumberToObject(doc, "num_samples", (double)K);
        cJSON_AddNumberToObject(doc, "seeds", (double)S);
        cJSON_AddStringToObject(doc, "methods", methods);
        cJSON_AddArrayToObject(doc, "entries");
    }
    entries = cJSON_GetObjectItemCaseSensitive(doc, "entries");
    if (!cJSON_IsArray(entries)) cli_die("--resume: %s has no \"entries\" array", out);

    unsigned mask = (1u << BRISK_METRIC_COUNT) - 1;
    quality_ctx q;
    quality_ctx_init(&q, clf_dir, stats_dir, (size_t)real_num, mask, quiet);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "classifier");
    cJSON_AddStringToObject(doc, "classifier", q.clf_dir);
    float *img = NULL;
    double t_study = cli_now();
    for (size_t i = 0; i < n_ent; i++) {
        entry *e = &ent[i];
        if (find_entry(entries, e->method, e->steps)) {
            if (!quiet) fprintf(stderr, "%s@%d: already in %s\n", e->method, e->steps, out);
            continue;
        }
        sampling_opts so;
        sampling_opts_init(&so);
        so.model = model;
        so.sched_name = e->sched;
        so.time_mode = e->time_mode[0] ? e->time_mode : NULL;
        so.clip_sample_given = e->clip_sample >= 0;
        so.clip_sample = e->clip_sample > 0;
        so.use_clipped_model_output = e->clipped_eps;
        sampling_state st;
        sampling_setup(&so, e->steps, &st);
        if (st.den->dim != q.image_dim)
            cli_die("--model: '%s' makes samples of %zu values, the classifier takes %zu", model,
                    st.den->dim, q.image_dim);
        if (!img && !(img = brisk_malloc(K * q.image_dim * sizeof(float))))
            cli_die_status(BRISK_ENOMEM, "bench quality");
        cJSON *je = cJSON_CreateObject();
        cJSON_AddStringToObject(je, "method", e->method);
        cJSON_AddStringToObject(je, "scheduler", e->sched);
        cJSON_AddStringToObject(je, "time_mode", brisk_time_mode_name(st.cfg.time_mode));
        cJSON_AddStringToObject(je, "timestep_spacing", brisk_timestep_spacing_name(st.cfg.timestep_spacing));
        cJSON_AddBoolToObject(je, "clip_sample", st.cfg.clip_sample != 0);
        cJSON_AddBoolToObject(je, "use_clipped_model_output", st.cfg.use_clipped_model_output != 0);
        cJSON_AddNumberToObject(je, "steps", e->steps);
        cJSON *per = cJSON_AddArrayToObject(je, "per_seed");
        size_t nfe = 0;
        for (size_t s = 0; s < S; s++) {
            char label[96];
            snprintf(label, sizeof label, "%s@%d seed %zu", e->method, e->steps, s);
            brisk_generate_options go;
            brisk_generate_options_default(&go);
            go.seed = s;
            go.batch = (size_t)batch;
            brisk_generate_stats gs;
            int rc = brisk_generate(st.sched, st.den, e->steps, K, &go, img, &gs);
            if (rc) cli_die_status(rc, label);
            cJSON *m = quality_measure(&q, img, K, label);
            cJSON_AddNumberToObject(m, "seed", (double)s);
            cJSON_AddNumberToObject(m, "nfe", (double)gs.nfe);
            cJSON_AddNumberToObject(m, "seconds", gs.seconds);
            cJSON_AddItemToArray(per, m);
            nfe = gs.nfe;
            if (!quiet) {
                const cJSON *fd = cJSON_GetObjectItemCaseSensitive(m, "fd");
                fprintf(stderr, "%s: NFE %zu, %.1f s, FD %.4f  (study %.0f s)\n", label, gs.nfe, gs.seconds,
                        fd ? fd->valuedouble : NAN, cli_now() - t_study);
            }
        }
        cJSON_AddNumberToObject(je, "nfe", (double)nfe);
        quality_summarize(je, per, (size_t)n_boot);
        cJSON_AddItemToArray(entries, je);
        sampling_state_free(&st);
        save_json(out, doc);
    }
    /* paired comparisons: each PNDM-family method at 50 steps against DDIM at 1000, 250 and
     * 50 steps: diffusers' (x0 clipped) and the PNDM authors' unclipped update in grid mode */
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "comparisons");
    cJSON *cmp = cJSON_AddArrayToObject(doc, "comparisons");
    const char *pndm_like[] = {"fpndm", "plms", "spndm", "fpndm/grid", "plms/grid", "spndm/grid"};
    const char *refs[] = {"pseudo-euler/grid", "ddim"};
    int ref_steps[] = {1000, 250, 50};
    for (size_t a = 0; a < sizeof pndm_like / sizeof *pndm_like; a++) {
        const cJSON *ea = find_entry(entries, pndm_like[a], 50);
        if (!ea) continue;
        for (size_t m = 0; m < 2; m++)
            for (size_t r = 0; r < 3; r++) {
                const cJSON *eb = find_entry(entries, refs[m], ref_steps[r]);
                if (eb) compare(cmp, ea, eb, "fd", (size_t)n_boot);
            }
    }
    save_json(out, doc);
    /* the plot writer takes .png or .svg; the zoomed plot keeps the format */
    size_t pl = strlen(plot_path);
    char *zoom_path = with_ext(plot_path, pl >= 4 && !strcmp(plot_path + pl - 4, ".svg") ? "-zoom.svg" : "-zoom.png");
    write_outputs(doc, md_path, plot_path, zoom_path, K, S, names, n_names);
    if (!quiet) fprintf(stderr, "wrote %s, %s, %s\n", out, md_path, plot_path);
    /* the table on stdout */
    char *text = NULL;
    size_t len = 0;
    if (brisk_read_file(md_path, &text, &len) == 0) {
        fwrite(text, 1, len, stdout);
        brisk_free(text);
    }
    brisk_free(img);
    free(md_path);
    free(plot_path);
    free(zoom_path);
    quality_ctx_free(&q);
    cJSON_Delete(doc);
    return 0;
}
