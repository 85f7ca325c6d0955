/* The output folder of a finished run: the model (EMA weights when an EMA is kept), the
 * diffusers scheduler config of the training noise schedule, and a training summary in
 * JSON (training.json) and Markdown (TRAINING.md). */
#include "train_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 20

/* diffusers DDPMScheduler config keys (diffusers 0.21; PNDMScheduler and DDIMScheduler read
 * the shared ones: num_train_timesteps, beta_*, trained_betas, prediction_type,
 * timestep_spacing, steps_offset). */
static int write_scheduler_config(const train_run *r, const char *path) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return BRISK_ENOMEM;
    cJSON_AddStringToObject(j, "_class_name", "DDPMScheduler");
    cJSON_AddStringToObject(j, "_diffusers_version", "0.21.4");
    cJSON_AddNumberToObject(j, "num_train_timesteps", r->o.num_train_timesteps);
    cJSON_AddNumberToObject(j, "beta_start", r->o.beta_start);
    cJSON_AddNumberToObject(j, "beta_end", r->o.beta_end);
    cJSON_AddStringToObject(j, "beta_schedule", r->o.beta_schedule ? r->o.beta_schedule : "linear");
    cJSON_AddNullToObject(j, "trained_betas");
    cJSON_AddStringToObject(j, "variance_type", "fixed_small");
    cJSON_AddBoolToObject(j, "clip_sample", 1);
    cJSON_AddNumberToObject(j, "clip_sample_range", 1.0);
    cJSON_AddStringToObject(j, "prediction_type", "epsilon");
    cJSON_AddBoolToObject(j, "thresholding", 0);
    cJSON_AddNumberToObject(j, "dynamic_thresholding_ratio", 0.995);
    cJSON_AddNumberToObject(j, "sample_max_value", 1.0);
    cJSON_AddStringToObject(j, "timestep_spacing", "leading");
    cJSON_AddNumberToObject(j, "steps_offset", 0);
    cJSON_AddBoolToObject(j, "rescale_betas_zero_snr", 0);
    int rc = brisk_json_write_file(path, j);
    cJSON_Delete(j);
    return rc;
}

typedef struct bucket {
    long from, to;
    double mean;
} bucket;

static size_t loss_buckets(const train_run *r, bucket *b) {
    long n = r->step;
    size_t nb = n < N_BUCKETS ? (size_t)n : N_BUCKETS;
    for (size_t j = 0; j < nb; j++) {
        long from = (long)((double)n * j / nb), to = (long)((double)n * (j + 1) / nb);
        double s = 0;
        for (long k = from; k < to; k++) s += r->losses[k];
        b[j] = (bucket){from, to, to > from ? s / (double)(to - from) : NAN};
    }
    return nb;
}

static void md_escape_code(FILE *fp, const char *s) {
    fputs("    ", fp);
    for (; s && *s; s++) {
        fputc(*s, fp);
        if (*s == '\n') fputs("    ", fp);
    }
    fputc('\n', fp);
}

int train_write_outputs(train_run *r, brisk_train_result *res) {
    const brisk_train_options *o = &r->o;
    char path[4096];
    int rc;
    const float *final_w = r->has_ema ? r->ema.shadow : NULL;
    double acc = NAN;
    if (r->unet) {
        if ((rc = brisk_unet_save(r->unet, o->out, final_w))) return rc;
        snprintf(path, sizeof path, "%s/scheduler_config.json", o->out);
        if ((rc = write_scheduler_config(r, path))) return rc;
    } else {
        if ((rc = brisk_classifier_save(r->clf, o->out, final_w))) return rc;
        if ((rc = train_evaluate(r, final_w, &acc))) return rc;
    }
    double seconds = r->seconds_before + (train_now() - r->t0);
    bucket b[N_BUCKETS];
    size_t nb = loss_buckets(r, b);
    double final_loss = nb ? b[nb - 1].mean : NAN;
    double flops = r->unet ? brisk_unet_flops(r->unet, r->train.h, r->train.w) : NAN;
    double epochs = (double)r->step * (double)o->batch / (double)r->train.n;
    res->steps = r->step;
    res->seconds = seconds;
    res->final_loss = final_loss;
    res->test_accuracy = acc;
    res->n_params = r->p->n;

    /* training.json */
    cJSON *j = cJSON_CreateObject();
    if (!j) return BRISK_ENOMEM;
    cJSON_AddStringToObject(j, "brisk_version", BRISK_VERSION_STRING);
    cJSON_AddStringToObject(j, "task", brisk_train_task_name(o->task));
    cJSON_AddItemToObject(j, "commands", cJSON_Duplicate(r->commands, 1));
    cJSON_AddItemToObject(j, "options", cJSON_Duplicate(r->opts_json, 1));
    cJSON_AddStringToObject(j, "lr_schedule_resolved", r->sched_resolved);
    cJSON_AddNumberToObject(j, "steps", (double)r->step);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cJSON_AddNumberToObject(j, "train_images", (double)r->train.n);
    cJSON_AddNumberToObject(j, "epochs", epochs);
    cJSON_AddNumberToObject(j, "seconds", seconds);
    cJSON_AddNumberToObject(j, "seconds_per_step", r->step ? seconds / (double)r->step : 0.0);
    cJSON_AddNumberToObject(j, "threads", brisk_get_num_threads());
    cJSON_AddNumberToObject(j, "parameters", (double)r->p->n);
    if (r->unet) cJSON_AddNumberToObject(j, "forward_flops_per_image", flops);
    cJSON_AddStringToObject(j, "weights", r->has_ema ? "ema" : "raw");
    cJSON_AddNumberToObject(j, "final_loss", final_loss);
    cJSON *curve = cJSON_AddArrayToObject(j, "loss_curve");
    for (size_t i = 0; i < nb; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "from_step", (double)b[i].from);
        cJSON_AddNumberToObject(e, "to_step", (double)b[i].to);
        cJSON_AddNumberToObject(e, "mean_loss", b[i].mean);
        cJSON_AddItemToArray(curve, e);
    }
    if (r->clf) {
        cJSON_AddNumberToObject(j, "test_accuracy", acc);
        cJSON_AddNumberToObject(j, "test_images", (double)r->test.n);
        cJSON_AddItemToObject(j, "epoch_accuracy", cJSON_Duplicate(r->epoch_acc, 1));
    }
    snprintf(path, sizeof path, "%s/training.json", o->out);
    rc = brisk_json_write_file(path, j);
    cJSON_Delete(j);
    if (rc) return rc;

    /* TRAINING.md */
    snprintf(path, sizeof path, "%s/TRAINING.md", o->out);
    brisk_atomic_file f;
    if ((rc = brisk_atomic_open(&f, path))) return rc;
    FILE *fp = f.fp;
    fprintf(fp, "# Training summary: %s\n\n", r->unet ? "UNet2DModel (DDPM, epsilon prediction)"
                                                     : "Fashion-MNIST classifier");
    fprintf(fp, "Trained with brisk %s by:\n\n", BRISK_VERSION_STRING);
    int nc = cJSON_GetArraySize(r->commands);
    for (int i = 0; i < nc; i++) {
        const cJSON *c = cJSON_GetArrayItem(r->commands, i);
        if (i == 1) fprintf(fp, "\nresumed with:\n\n");
        md_escape_code(fp, cJSON_IsString(c) && *c->valuestring ? c->valuestring : "(library call)");
    }
    fprintf(fp, "\n| | |\n|---|---|\n");
    fprintf(fp, "| steps | %ld (batch %zu: %.2f epochs of %zu images) |\n", r->step, o->batch,
            epochs, r->train.n);
    fprintf(fp, "| parameters | %zu |\n", r->p->n);
    if (r->unet) fprintf(fp, "| forward FLOPs per 32x32 image | %.3g |\n", flops);
    if (o->optim.kind == BRISK_OPTIM_ADAMW)
        fprintf(fp, "| optimizer | AdamW lr %g, betas (%g, %g), eps %g, weight decay %g (%s) |\n",
                o->optim.lr, o->optim.beta1, o->optim.beta2, o->optim.eps, o->optim.weight_decay,
                o->optim.decay_all ? "all parameters" : "conv/linear weights only");
    else
        fprintf(fp, "| optimizer | SGD lr %g, momentum %g, dampening %g, nesterov %s, weight "
                "decay %g |\n", o->optim.lr, o->optim.momentum, o->optim.dampening,
                o->optim.nesterov ? "yes" : "no", o->optim.weight_decay);
    fprintf(fp, "| lr schedule | `%s` |\n", r->sched_resolved);
    if (r->has_ema)
        fprintf(fp, "| EMA | decay %g%s; the saved weights are the EMA weights |\n", o->ema,
                o->ema_warmup ? " with warm-up min(decay, (1+k)/(10+k))" : "");
    else
        fprintf(fp, "| EMA | none; the saved weights are the trained weights |\n");
    fprintf(fp, "| gradient clipping | %s |\n", o->clip > 0 ? "global l2 norm" : "off");
    if (o->clip > 0) fprintf(fp, "| clip max norm | %g |\n", o->clip);
    fprintf(fp, "| horizontal flips | %s |\n", o->hflip ? "random, p = 0.5" : "off");
    fprintf(fp, "| seed | %llu |\n", (unsigned long long)o->seed);
    if (r->unet)
        fprintf(fp, "| noise schedule | %s betas %g..%g, T = %d |\n", o->beta_schedule,
                o->beta_start, o->beta_end, o->num_train_timesteps);
    fprintf(fp, "| wall time | %.1f s (%.4f s/step, %d threads) |\n", seconds,
            r->step ? seconds / (double)r->step : 0.0, brisk_get_num_threads());
    fprintf(fp, "| final loss (mean of the last 5%%) | %.6g |\n", final_loss);
    if (r->clf)
        fprintf(fp, "| test accuracy | %.2f%% (%zu test images) |\n", 100 * acc, r->test.n);
    fprintf(fp, "\n## Loss curve (mean per 5%% of training)\n\n| steps | mean %s loss |\n|---|---|\n",
            r->unet ? "MSE" : "cross-entropy");
    for (size_t i = 0; i < nb; i++)
        fprintf(fp, "| %ld-%ld | %.6g |\n", b[i].from, b[i].to - 1, b[i].mean);
    if (r->clf && cJSON_GetArraySize(r->epoch_acc)) {
        fprintf(fp, "\n## Test accuracy per epoch\n\n| epoch | step | accuracy |\n|---|---|---|\n");
        const cJSON *e;
        cJSON_ArrayForEach(e, r->epoch_acc) {
            fprintf(fp, "| %.0f | %.0f | %.2f%% |\n",
                    cJSON_GetObjectItem(e, "epoch")->valuedouble,
                    cJSON_GetObjectItem(e, "step")->valuedouble,
                    100 * cJSON_GetObjectItem(e, "accuracy")->valuedouble);
        }
    }
    return brisk_atomic_commit(&f);
}
