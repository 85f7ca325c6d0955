/* Run manifests: which file holds which (model, seed, checkpoint step). Format in
 * docs/variance.md: CSV with a header naming the columns file, model, seed, step (and
 * optionally task), or JSON {"runs": [{"file", "model", "seed", "step", "task"}]}. */
#include "stats_impl.h"

#include "brisk/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void brisk_manifest_free(brisk_manifest *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        brisk_free(m->e[i].file);
        brisk_free(m->e[i].model);
        brisk_free(m->e[i].task);
    }
    brisk_free(m->e);
    memset(m, 0, sizeof *m);
}

int brisk_manifest_add(brisk_manifest *m, const char *file, const char *model, long seed,
                       long step, const char *task) {
    brisk_manifest_entry *e = brisk_realloc(m->e, (m->n + 1) * sizeof *e);
    if (!e) return BRISK_ENOMEM;
    m->e = e;
    brisk_manifest_entry *n = &m->e[m->n];
    memset(n, 0, sizeof *n);
    n->file = brisk_strdup(file);
    n->model = brisk_strdup(model);
    n->task = task && *task ? brisk_strdup(task) : NULL;
    n->seed = seed;
    n->step = step;
    m->n++;
    if (!n->file || !n->model || (task && *task && !n->task)) return BRISK_ENOMEM;
    return 0;
}

/* path relative to the manifest's folder unless absolute */
static char *resolve(const char *manifest, const char *file) {
    if (file[0] == '/') return brisk_strdup(file);
    const char *slash = strrchr(manifest, '/');
    size_t dl = slash ? (size_t)(slash - manifest) + 1 : 0;
    char *out = brisk_malloc(dl + strlen(file) + 1);
    if (!out) return NULL;
    memcpy(out, manifest, dl);
    strcpy(out + dl, file);
    return out;
}

static int parse_long(const char *s, long *out) {
    char *end;
    errno = 0;
    while (*s == ' ') s++;
    long v = strtol(s, &end, 10);
    while (*end == ' ') end++;
    if (errno || end == s || *end) return 0;
    *out = v;
    return 1;
}

static int add_resolved(brisk_manifest *m, const char *path, const char *file, const char *model,
                        long seed, long step, const char *task, int line) {
    char *full = resolve(path, file);
    if (!full) return BRISK_ENOMEM;
    if (step < 0) step = brisk_step_from_path(full);
    if (step < 0) {
        brisk_free(full);
        return brisk_error(BRISK_EPARSE,
                           "%s:%d: no step for '%s' (give the step column or name the file "
                           "..._step<N>...)",
                           path, line, file);
    }
    int rc = brisk_manifest_add(m, full, model, seed, step, task);
    brisk_free(full);
    return rc;
}

static int read_json_manifest(const char *path, brisk_manifest *out) {
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    const cJSON *runs = cJSON_IsArray(doc) ? doc : cJSON_GetObjectItemCaseSensitive(doc, "runs");
    if (!cJSON_IsArray(runs)) {
        cJSON_Delete(doc);
        return brisk_error(BRISK_EPARSE, "%s: expected {\"runs\": [...]} or a list of runs", path);
    }
    int k = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        char what[600];
        snprintf(what, sizeof what, "%s: runs[%d]", path, k);
        const char *file, *model, *task;
        long seed, step;
        if ((rc = brisk_json_get_string(r, "file", NULL, &file, what)) ||
            (rc = brisk_json_get_string(r, "model", NULL, &model, what)) ||
            (rc = brisk_json_get_int(r, "seed", 0, &seed, what)) ||
            (rc = brisk_json_get_int(r, "step", -1, &step, what)) ||
            (rc = brisk_json_get_string(r, "task", NULL, &task, what))) {
            cJSON_Delete(doc);
            brisk_manifest_free(out);
            return rc;
        }
        if (!file || !model) {
            cJSON_Delete(doc);
            brisk_manifest_free(out);
            return brisk_error(BRISK_EPARSE, "%s: missing key '%s'", what, !file ? "file" : "model");
        }
        if ((rc = add_resolved(out, path, file, model, seed, step, task, k + 1))) {
            cJSON_Delete(doc);
            brisk_manifest_free(out);
            return rc;
        }
        k++;
    }
    cJSON_Delete(doc);
    if (!out->n) return brisk_error(BRISK_EPARSE, "%s: the manifest lists no runs", path);
    return 0;
}

int brisk_manifest_read(const char *path, brisk_manifest *out) {
    memset(out, 0, sizeof *out);
    size_t pl = strlen(path);
    if (pl > 5 && !strcmp(path + pl - 5, ".json")) return read_json_manifest(path, out);
    csv_table t;
    int rc = csv_tokenize(path, &t);
    if (rc) return rc;
    if (t.n_rows == 0) {
        csv_table_free(&t);
        return brisk_error(BRISK_EPARSE, "%s: empty file", path);
    }
    long col[5] = {-1, -1, -1, -1, -1}; /* file, model, seed, step, task */
    static const char *names[5] = {"file", "model", "seed", "step", "task"};
    for (size_t c = 0; c < t.row_len[0]; c++)
        for (int k = 0; k < 5; k++)
            if (!strcmp(csv_cell(&t, 0, c), names[k])) col[k] = (long)c;
    for (int k = 0; k < 2; k++)
        if (col[k] < 0) {
            csv_table_free(&t);
            return brisk_error(BRISK_EPARSE, "%s:1: the header has no '%s' column (expected "
                               "file,model,seed,step[,task])", path, names[k]);
        }
    for (size_t r = 1; r < t.n_rows; r++) {
        int line = t.row_line[r];
        if (t.row_len[r] != t.row_len[0]) {
            size_t got = t.row_len[r], want = t.row_len[0];
            csv_table_free(&t);
            brisk_manifest_free(out);
            return brisk_error(BRISK_EPARSE, "%s:%d: row %d has %zu fields, expected %zu", path,
                               line, line, got, want);
        }
        long seed = 0, step = -1;
        if (col[2] >= 0 && *csv_cell(&t, r, (size_t)col[2]) &&
            !parse_long(csv_cell(&t, r, (size_t)col[2]), &seed)) {
            rc = brisk_error(BRISK_EPARSE, "%s:%d: seed '%s' is not an integer", path, line,
                             csv_cell(&t, r, (size_t)col[2]));
            goto fail;
        }
        if (col[3] >= 0 && *csv_cell(&t, r, (size_t)col[3]) &&
            !parse_long(csv_cell(&t, r, (size_t)col[3]), &step)) {
            rc = brisk_error(BRISK_EPARSE, "%s:%d: step '%s' is not an integer", path, line,
                             csv_cell(&t, r, (size_t)col[3]));
            goto fail;
        }
        const char *file = csv_cell(&t, r, (size_t)col[0]);
        const char *model = csv_cell(&t, r, (size_t)col[1]);
        if (!*file || !*model) {
            rc = brisk_error(BRISK_EPARSE, "%s:%d: empty '%s'", path, line, !*file ? "file" : "model");
            goto fail;
        }
        rc = add_resolved(out, path, file, model, seed, step,
                          col[4] >= 0 ? csv_cell(&t, r, (size_t)col[4]) : NULL, line);
        if (rc) goto fail;
    }
    csv_table_free(&t);
    if (!out->n) return brisk_error(BRISK_EPARSE, "%s: the manifest lists no runs", path);
    return 0;
fail:
    csv_table_free(&t);
    brisk_manifest_free(out);
    return rc;
}
