/* lm-evaluation-harness inputs (results JSON, --log_samples JSONL), run manifests, and the
 * checkpoint / report analyses against numpy/scipy (tests/data/stats/gen_expected.py). */
#include "brisk/stats.h"
#include "brisk_test.h"
#include "expected.h"

#include <unistd.h>

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    return path;
}

#define RUN_FILE(m, s, st) "tests/data/stats/runs/" m "/seed" s "/step" st "/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl"

static void test_paths(void) {
    ASSERT_EQ(brisk_step_from_path("x/160m_step143000.json"), 143000);
    ASSERT_EQ(brisk_step_from_path("runs/A/seed0/step1000/samples_arc_easy_2024.jsonl"), 1000);
    ASSERT_EQ(brisk_step_from_path("results.json"), -1);
    ASSERT_EQ(brisk_step_from_path("stepper/results.json"), -1);
    char *t = brisk_lm_task_from_samples_path("a/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl");
    ASSERT_TRUE(!strcmp(t, "arc_easy"));
    brisk_free(t);
    t = brisk_lm_task_from_samples_path("samples_mmlu_high_school_physics_2025-01-02T03-04-05.jsonl");
    ASSERT_TRUE(!strcmp(t, "mmlu_high_school_physics"));
    brisk_free(t);
    t = brisk_lm_task_from_samples_path("samples_piqa.jsonl");
    ASSERT_TRUE(!strcmp(t, "piqa"));
    brisk_free(t);
}

static void test_results_json(void) {
    brisk_lm_results r;
    ASSERT_OK(brisk_lmeval_read_results("tests/data/stats/pythia/160m_step143000.json", &r));
    ASSERT_EQ(r.step, 143000);
    const brisk_lm_metric *e;
    ASSERT_OK(brisk_lm_results_find(&r, "f", "arc_easy", "acc", &e));
    ASSERT_NEAR(e->value, jnum("pythia/160m/arc_easy:acc/values/5"), 0);
    ASSERT_TRUE(e->se > 0);
    ASSERT_TRUE(isnan(e->n));
    /* the old format has no sample counts: N from p (1 - p) / se^2 + 1 (ARC-Easy test: 2376) */
    ASSERT_NEAR(brisk_lm_infer_n(e->value, e->se), 2376, 0);
    ASSERT_OK(brisk_lm_results_find(&r, "f", "lambada_openai", "acc", &e));
    ASSERT_NEAR(brisk_lm_infer_n(e->value, e->se), 5153, 0);
    ASSERT_STATUS(brisk_lm_results_find(&r, "f.json", "arc_hard", "acc", &e), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "f.json: unknown task 'arc_hard'");
    ASSERT_STATUS(brisk_lm_results_find(&r, "f.json", "arc_easy", "f1", &e), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "task 'arc_easy' has no metric 'f1'");
    brisk_lm_results_free(&r);
    /* 0.4 format: "metric,filter" keys, "N/A" stderr, n-samples */
    const char *p = write_tmp("results_new.json",
        "{\"results\": {\"arc_easy\": {\"alias\": \"arc_easy\", \"acc,none\": 0.5, \"acc_stderr,none\": 0.01,"
        " \"acc_norm,none\": 0.6, \"acc_norm_stderr,none\": \"N/A\"}},"
        " \"n-samples\": {\"arc_easy\": {\"original\": 2376, \"effective\": 2376}}}");
    ASSERT_OK(brisk_lmeval_read_results(p, &r));
    ASSERT_EQ(r.n, 2);
    ASSERT_OK(brisk_lm_results_find(&r, p, "arc_easy", "acc,none", &e));
    ASSERT_NEAR(e->se, 0.01, 0);
    ASSERT_NEAR(e->n, 2376, 0);
    ASSERT_TRUE(!strcmp(e->filter, "none"));
    ASSERT_OK(brisk_lm_results_find(&r, p, "arc_easy", "acc_norm", &e));
    ASSERT_TRUE(isnan(e->se));
    ASSERT_STATUS(brisk_lm_results_find(&r, p, "arc_easy", "acc,strict", &e), BRISK_ENOTFOUND);
    brisk_lm_results_free(&r);
    ASSERT_STATUS(brisk_lmeval_read_results(write_tmp("nores.json", "{\"x\": 1}"), &r), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "nores.json: no \"results\"");
    ASSERT_STATUS(brisk_lmeval_read_results(write_tmp("bad.json", "{\"results\": {\n\"a\": }"), &r), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad.json: line 2");
}

static void test_samples(void) {
    brisk_lm_samples s;
    ASSERT_OK(brisk_lmeval_read_samples(RUN_FILE("A", "0", "1000"), NULL, &s));
    ASSERT_TRUE(!strcmp(s.task, "arc_easy"));
    ASSERT_TRUE(!strcmp(s.filter, "none"));
    int n = jlen("runs/doc_values/acc");
    ASSERT_EQ(s.n_docs, n);
    ASSERT_EQ(s.n_metrics, 5);
    ASSERT_EQ(s.n_acc_mismatch, 0);
    static const char *names[5] = {"acc", "acc_norm", "prob", "prob_norm", "logprob"};
    double worst = 0;
    for (int k = 0; k < 5; k++) {
        const double *col;
        ASSERT_OK(brisk_lm_samples_metric(&s, "f", names[k], &col));
        char path[64];
        snprintf(path, sizeof path, "runs/doc_values/%s", names[k]);
        for (int i = 0; i < n; i++) {
            ASSERT_NEAR(col[i], jnum_at(path, i), 1e-12);
            worst = fmax(worst, fabs(col[i] - jnum_at(path, i)));
        }
    }
    printf("samples reader: per-doc acc/acc_norm/prob/prob_norm/logprob vs numpy: max |diff| %.3g\n", worst);
    const double *col;
    ASSERT_OK(brisk_lm_samples_metric(&s, "f", "acc,none", &col));
    ASSERT_STATUS(brisk_lm_samples_metric(&s, "f.jsonl", "exact_match", &col), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "f.jsonl: no metric 'exact_match' (available: acc, acc_norm, prob");
    brisk_lm_samples_free(&s);
    ASSERT_OK(brisk_lmeval_read_samples(RUN_FILE("B", "2", "4000"), NULL, &s)); /* integer targets */
    ASSERT_EQ(s.n_metrics, 5);
    brisk_lm_samples_free(&s);

    /* older layout: log-likelihoods as ["-1.0", "False"], arguments as lists; 2 filters */
    const char *p = write_tmp("samples_boolq_2024-01-01T00-00-00.jsonl",
        "{\"doc_id\": 0, \"target\": \"1\", \"arguments\": [[\"q\", \" no\"], [\"q\", \" yes\"]],"
        " \"filtered_resps\": [[\"-1.0\", \"False\"], [\"-3.0\", \"False\"]], \"filter\": \"none\", \"acc\": 0.0}\n"
        "{\"doc_id\": 1, \"target\": \"yes\", \"arguments\": [[\"q\", \" no\"], [\"q\", \" yes\"]],"
        " \"filtered_resps\": [[\"-4.0\", \"False\"], [\"-1.0\", \"True\"]], \"filter\": \"none\", \"acc\": true}\n"
        "{\"doc_id\": 0, \"target\": \"1\", \"filtered_resps\": [\"x\"], \"filter\": \"other\", \"acc\": 1}\n"
        "\n");
    ASSERT_OK(brisk_lmeval_read_samples(p, NULL, &s));
    ASSERT_TRUE(!strcmp(s.task, "boolq"));
    ASSERT_EQ(s.n_docs, 2);
    ASSERT_EQ(s.n_other_filter_rows, 1);
    ASSERT_OK(brisk_lm_samples_metric(&s, p, "prob", &col));
    ASSERT_NEAR(col[0], exp(-3.0) / (exp(-1.0) + exp(-3.0)), 1e-15);
    ASSERT_NEAR(col[1], exp(-1.0) / (exp(-4.0) + exp(-1.0)), 1e-15);
    ASSERT_OK(brisk_lm_samples_metric(&s, p, "prob_norm", &col));
    /* lengths of "no" and "yes" in characters: 2 and 3 */
    ASSERT_NEAR(col[0], exp(-3.0 / 3) / (exp(-1.0 / 2) + exp(-3.0 / 3)), 1e-15);
    ASSERT_OK(brisk_lm_samples_metric(&s, p, "acc", &col));
    ASSERT_NEAR(col[1], 1.0, 0);
    ASSERT_STATUS(brisk_lm_samples_metric(&s, p, "acc,strict", &col), BRISK_ENOTFOUND);
    brisk_lm_samples_free(&s);
    ASSERT_OK(brisk_lmeval_read_samples(p, "other", &s));
    ASSERT_EQ(s.n_docs, 1);
    ASSERT_EQ(s.n_metrics, 1); /* no parseable log-likelihoods: no derived metrics */
    brisk_lm_samples_free(&s);
}

static void test_samples_errors(void) {
    brisk_lm_samples s;
    const char *p = write_tmp("dup.jsonl", "{\"doc_id\": 0, \"acc\": 1}\n{\"doc_id\": 1, \"acc\": 0}\n{\"doc_id\": 1, \"acc\": 1}\n");
    ASSERT_STATUS(brisk_lmeval_read_samples(p, NULL, &s), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "dup.jsonl:3: duplicate doc_id 1 (first on line 2)");
    p = write_tmp("miss.jsonl", "{\"doc_id\": 0, \"metrics\": [\"acc\", \"f1\"], \"acc\": 1, \"f1\": 0.5}\n{\"doc_id\": 1, \"acc\": 0}\n");
    ASSERT_STATUS(brisk_lmeval_read_samples(p, NULL, &s), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "miss.jsonl:2: missing metric field 'f1'");
    p = write_tmp("badjson.jsonl", "{\"doc_id\": 0, \"acc\": 1}\n{\"doc_id\": 1, \"acc\": \n");
    ASSERT_STATUS(brisk_lmeval_read_samples(p, NULL, &s), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "badjson.jsonl:2: invalid JSON line");
    p = write_tmp("empty.jsonl", "\n\n");
    ASSERT_STATUS(brisk_lmeval_read_samples(p, NULL, &s), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "empty.jsonl: no samples");
    p = write_tmp("noid.jsonl", "{\"acc\": 1}\n");
    ASSERT_STATUS(brisk_lmeval_read_samples(p, NULL, &s), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "noid.jsonl:1: missing or non-integer \"doc_id\"");
    p = write_tmp("str.jsonl", "{\"doc_id\": 0, \"acc\": 1}\n{\"doc_id\": 1, \"acc\": \"yes\"}\n");
    ASSERT_STATUS(brisk_lmeval_read_samples(p, NULL, &s), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "str.jsonl:2: metric 'acc' is not a finite number");
    ASSERT_STATUS(brisk_lmeval_read_samples("/nonexistent/x.jsonl", NULL, &s), BRISK_EIO);
    /* out-of-memory paths */
    int done = 0;
    for (long k = 0; k < 300 && !done; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_lmeval_read_samples(RUN_FILE("A", "0", "1000"), NULL, &s);
        brisk_alloc_fail_after(-1);
        if (!rc) {
            done = 1;
            brisk_lm_samples_free(&s);
        } else
            ASSERT_EQ(rc, BRISK_ENOMEM);
    }
    ASSERT_TRUE(done);
}

static void test_manifest(void) {
    brisk_manifest m;
    ASSERT_OK(brisk_manifest_read("tests/data/stats/runs/manifest.csv", &m));
    ASSERT_EQ(m.n, 24);
    ASSERT_TRUE(!strcmp(m.e[0].file, RUN_FILE("A", "0", "1000")));
    ASSERT_TRUE(!strcmp(m.e[0].model, "A"));
    ASSERT_EQ(m.e[5].seed, 1);
    ASSERT_EQ(m.e[5].step, 2000);
    brisk_manifest_free(&m);
    const char *p = write_tmp("m.json", "{\"runs\": [{\"file\": \"x_step7.json\", \"model\": \"m\", \"seed\": 3},"
                                        " {\"file\": \"/abs/y.json\", \"model\": \"m\", \"step\": 9, \"task\": \"t\"}]}");
    ASSERT_OK(brisk_manifest_read(p, &m));
    ASSERT_EQ(m.n, 2);
    ASSERT_EQ(m.e[0].step, 7);
    ASSERT_EQ(m.e[0].seed, 3);
    ASSERT_STR_CONTAINS(m.e[0].file, tmpdir);
    ASSERT_TRUE(!strcmp(m.e[1].file, "/abs/y.json"));
    ASSERT_TRUE(!strcmp(m.e[1].task, "t"));
    brisk_manifest_free(&m);
    ASSERT_STATUS(brisk_manifest_read(write_tmp("bad1.csv", "file,seed,step\na.json,0,1\n"), &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad1.csv:1: the header has no 'model' column");
    ASSERT_STATUS(brisk_manifest_read(write_tmp("bad2.csv", "file,model,seed,step\na.json,m,0,1\nb.json,m,x,2\n"), &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad2.csv:3: seed 'x' is not an integer");
    ASSERT_STATUS(brisk_manifest_read(write_tmp("bad3.csv", "file,model,seed,step\na.json,m,0,\n"), &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad3.csv:2: no step for 'a.json'");
    ASSERT_STATUS(brisk_manifest_read(write_tmp("bad4.json", "{\"runs\": [{\"model\": \"m\"}]}"), &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "runs[0]: missing key 'file'");
    ASSERT_STATUS(brisk_manifest_read(write_tmp("empty.csv", ""), &m), BRISK_EPARSE);
}

static const cJSON *get(const cJSON *o, const char *path) { return jpath_in(o, path); }
static double getn(const cJSON *o, const char *path) {
    const cJSON *v = get(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_runs_report(void) {
    brisk_manifest m;
    ASSERT_OK(brisk_manifest_read("tests/data/stats/runs/manifest.csv", &m));
    brisk_runs_params p;
    brisk_runs_params_default(&p);
    cJSON *doc;
    ASSERT_OK(brisk_runs_analyze(&m, &p, "report", &doc));
    static const char *metrics[5] = {"acc", "acc_norm", "prob", "prob_norm", "logprob"};
    double worst = 0;
    for (int k = 0; k < 5; k++) {
        char path[128], e[128];
        for (int mi = 0; mi < 2; mi++) {
            const char *model = mi ? "B" : "A";
            snprintf(path, sizeof path, "tasks/arc_easy/metrics/%s/models/%d", metrics[k], mi);
            const cJSON *mb = get(doc, path);
            ASSERT_TRUE(!strcmp(cJSON_GetObjectItem(mb, "model")->valuestring, model));
            snprintf(e, sizeof e, "runs/%s/%s/seed_sd", metrics[k], model);
            ASSERT_NEAR(getn(mb, "seed_sd"), jnum(e), 1e-13);
            worst = fmax(worst, fabs(getn(mb, "seed_sd") - jnum(e)));
            snprintf(e, sizeof e, "runs/%s/%s/snr", metrics[k], model);
            ASSERT_NEAR(getn(mb, "snr"), jnum(e), 1e-9 * fabs(jnum(e)));
            snprintf(e, sizeof e, "runs/%s/%s/tau_mean", metrics[k], model);
            ASSERT_NEAR(getn(mb, "kendall_tau_b"), jnum(e), 1e-13);
            for (int s = 0; s < 3; s++) {
                snprintf(e, sizeof e, "runs/%s/%s/taus/%d", metrics[k], model, s);
                snprintf(path, sizeof path, "runs/%d/kendall_tau_b", s);
                ASSERT_TRUE(near_or_both_nan(getn(mb, path), jnum(e), 1e-13));
            }
            snprintf(e, sizeof e, "runs/%s/%s/final_mean", metrics[k], model);
            ASSERT_NEAR(getn(mb, "final/mean"), jnum(e), 1e-13);
        }
        snprintf(path, sizeof path, "tasks/arc_easy/metrics/%s/comparisons/0", metrics[k]);
        const cJSON *c = get(doc, path);
        ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(c, "paired")));
        snprintf(e, sizeof e, "runs/%s/compare/mean_diff", metrics[k]);
        ASSERT_NEAR(getn(c, "mean_diff"), jnum(e), 1e-13);
        snprintf(e, sizeof e, "runs/%s/compare/stderr", metrics[k]);
        ASSERT_NEAR(getn(c, "stderr"), jnum(e), 1e-13);
        snprintf(e, sizeof e, "runs/%s/compare/ci95/1", metrics[k]);
        ASSERT_NEAR(getn(c, "ci95/1"), jnum(e), 1e-13);
        ASSERT_TRUE(getn(c, "mdd") > 1.9 * getn(c, "stderr")); /* seed variance adds to it */
    }
    printf("report on fixtures: seed sd vs numpy (ddof 1): max |diff| %.3g\n", worst);
    /* the primary metric's block sits at the task level too */
    ASSERT_NEAR(getn(doc, "tasks/arc_easy/kendall_tau_b"), getn(doc, "tasks/arc_easy/metrics/acc/kendall_tau_b"), 0);
    ASSERT_EQ(cJSON_GetArraySize(get(doc, "tasks/arc_easy/series")), 24);
    ASSERT_TRUE(!strcmp(get(doc, "tasks/arc_easy/metrics/prob/kind")->valuestring, "continuous"));
    ASSERT_TRUE(!strcmp(get(doc, "tasks/arc_easy/metrics/acc/kind")->valuestring, "discrete"));
    cJSON_Delete(doc);
    /* ddof 0 */
    p.ddof = 0;
    p.metrics = "acc";
    ASSERT_OK(brisk_runs_analyze(&m, &p, "report", &doc));
    ASSERT_NEAR(getn(doc, "tasks/arc_easy/models/0/seed_sd"), jnum("runs/acc/A/seed_sd_ddof0"), 1e-13);
    cJSON_Delete(doc);
    /* unknown task / metric */
    p.tasks = "hellaswag";
    ASSERT_STATUS(brisk_runs_analyze(&m, &p, "report", &doc), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unknown task 'hellaswag' (not in any input file; tasks: arc_easy)");
    p.tasks = NULL;
    p.metrics = "f1";
    ASSERT_STATUS(brisk_runs_analyze(&m, &p, "report", &doc), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unknown metric 'f1' for task 'arc_easy' (available: acc, acc_norm, prob");
    brisk_manifest_free(&m);
}

static void test_runs_pythia(void) {
    brisk_manifest m = {0};
    static const char *steps[6] = {"0", "512", "3000", "13000", "73000", "143000"};
    static const char *models[2] = {"160m", "1.4b"};
    for (int mi = 0; mi < 2; mi++)
        for (int s = 0; s < 6; s++) {
            char f[256];
            snprintf(f, sizeof f, "tests/data/stats/pythia/%s_step%s.json", models[mi], steps[s]);
            ASSERT_OK(brisk_manifest_add(&m, f, models[mi], 0, brisk_step_from_path(f), NULL));
        }
    brisk_runs_params p;
    brisk_runs_params_default(&p);
    p.tasks = "arc_easy,piqa,lambada_openai,hendrycksTest-*";
    p.group = "mmlu";
    p.metrics = "acc";
    cJSON *doc;
    p.metrics = "bleu";
    ASSERT_STATUS(brisk_runs_analyze(&m, &p, "checkpoints", &doc), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unknown metric 'bleu' for task 'arc_easy'");
    p.metrics = "ppl"; /* only lambada_openai has it: the other tasks are left out */
    p.group = NULL;
    ASSERT_OK(brisk_runs_analyze(&m, &p, "checkpoints", &doc));
    ASSERT_EQ(cJSON_GetArraySize(get(doc, "tasks")), 1);
    ASSERT_TRUE(cJSON_GetObjectItem(get(doc, "tasks"), "lambada_openai") != NULL);
    cJSON_Delete(doc);
    p.metrics = "acc";
    p.tasks = "arc_easy,lambada_openai";
    p.group = NULL;
    ASSERT_OK(brisk_runs_analyze(&m, &p, "checkpoints", &doc));
    p.tasks = "hendrycksTest-*";
    p.group = "mmlu";
    cJSON *gdoc;
    ASSERT_OK(brisk_runs_analyze(&m, &p, "checkpoints", &gdoc));
    double worst = 0;
    /* tau-b and the series of each model against scipy */
    const cJSON *pe = jpath("pythia");
    for (int mi = 0; mi < 2; mi++) {
        const cJSON *pm = cJSON_GetObjectItem(pe, models[mi]);
        const cJSON *ae = cJSON_GetObjectItem(pm, "arc_easy:acc");
        const cJSON *mb = cJSON_GetArrayItem(get(doc, "tasks/arc_easy/models"), mi);
        ASSERT_NEAR(getn(mb, "kendall_tau_b"), cJSON_GetObjectItem(ae, "tau")->valuedouble, 1e-13);
        const cJSON *la = cJSON_GetObjectItem(pm, "lambada_openai:acc");
        mb = cJSON_GetArrayItem(get(doc, "tasks/lambada_openai/models"), mi);
        ASSERT_NEAR(getn(mb, "kendall_tau_b"), cJSON_GetObjectItem(la, "tau")->valuedouble, 1e-13);
        /* group: size-weighted mean and pooled stderr (lm-eval), against numpy */
        const cJSON *g = cJSON_GetObjectItem(pm, "mmlu_group");
        mb = cJSON_GetArrayItem(get(gdoc, "tasks/mmlu/models"), mi);
        ASSERT_NEAR(getn(mb, "kendall_tau_b"), cJSON_GetObjectItem(g, "tau")->valuedouble, 1e-13);
        ASSERT_NEAR(getn(mb, "final/mean"), cJSON_GetArrayItem(cJSON_GetObjectItem(g, "values"), 5)->valuedouble, 1e-14);
        ASSERT_NEAR(getn(mb, "final/stderr"), cJSON_GetArrayItem(cJSON_GetObjectItem(g, "stderr"), 5)->valuedouble, 1e-14);
        worst = fmax(worst, fabs(getn(mb, "final/stderr") - cJSON_GetArrayItem(cJSON_GetObjectItem(g, "stderr"), 5)->valuedouble));
    }
    ASSERT_EQ(cJSON_GetArraySize(get(gdoc, "tasks/mmlu/group_of")), 57);
    cJSON_Delete(gdoc);
    /* the series of 160m on arc_easy */
    const cJSON *ser = get(doc, "tasks/arc_easy/series");
    for (int s = 0; s < 6; s++) {
        const cJSON *pt = cJSON_GetArrayItem(ser, s);
        ASSERT_TRUE(!strcmp(cJSON_GetObjectItem(pt, "model")->valuestring, "160m"));
        ASSERT_NEAR(getn(pt, "value"),
                    cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pe, "160m"), "arc_easy:acc"), "values"), s)->valuedouble, 0);
    }
    printf("pythia: group pooled stderr vs numpy max |diff| %.3g\n", worst);
    cJSON_Delete(doc);
    /* perplexity: lower is better, monotonicity = -tau */
    p.tasks = "lambada_openai";
    p.metrics = "ppl";
    p.group = NULL;
    ASSERT_OK(brisk_runs_analyze(&m, &p, "checkpoints", &doc));
    const cJSON *mb = get(doc, "tasks/lambada_openai/models/0");
    double tau = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pe, "160m"), "lambada_openai:ppl"), "tau")->valuedouble;
    ASSERT_NEAR(getn(mb, "kendall_tau_b"), tau, 1e-13);
    ASSERT_NEAR(getn(mb, "monotonicity"), -tau, 1e-13);
    ASSERT_TRUE(cJSON_IsFalse(get(doc, "tasks/lambada_openai/higher_is_better")));
    cJSON_Delete(doc);
    /* two files for the same model and step */
    ASSERT_OK(brisk_manifest_add(&m, "tests/data/stats/pythia/160m_step0.json", "160m", 0, 0, NULL));
    ASSERT_STATUS(brisk_runs_analyze(&m, &p, "checkpoints", &doc), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "both give model '160m' seed 0 step 0");
    brisk_manifest_free(&m);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brisk_lmeval_test_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_paths();
    test_results_json();
    test_samples();
    test_samples_errors();
    test_manifest();
    test_runs_report();
    test_runs_pythia();
    cJSON_Delete(expected_doc);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) return 1;
    TEST_DONE();
}
