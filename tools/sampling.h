/* Sampler options shared by `brisk sample`, `brisk eval` and `brisk bench quality`:
 * scheduler choice and overrides, the model, and the DPM-OT start. */
#ifndef BRISK_TOOLS_SAMPLING_H
#define BRISK_TOOLS_SAMPLING_H

#include "brisk/eval.h"

#include "cli.h"

#include <stdio.h>

typedef struct sampling_opts {
    const char *model, *sched_name, *sched_file, *time_mode, *spacing;
    double eta;
    int eta_given;
    int clip_sample, clip_sample_given; /* --clip-sample on|off */
    int use_clipped_model_output;
    const char *ot_h, *ot_targets; /* DPM-OT start */
    long ot_level;                 /* -1: none given */
} sampling_opts;

typedef struct sampling_state {
    brisk_scheduler_config cfg;
    brisk_scheduler *sched;
    brisk_denoiser *den;
    double load_seconds;
    /* DPM-OT */
    brisk_array ot_y;
    brisk_ot *ot;
    double *ot_h;
    double ot_alpha_bar;
} sampling_state;

void sampling_opts_init(sampling_opts *o);
/* Consumes argv[*i] (and its value) if it is one of the shared options. */
int sampling_parse_opt(int argc, char **argv, int *i, sampling_opts *o);
/* The shared options' help lines. */
void sampling_usage(FILE *fp);
/* Builds the scheduler (checking `steps` before loading the model), the denoiser and the
 * OT start. Exits with a one-line error naming the option on failure. */
void sampling_setup(const sampling_opts *o, int steps, sampling_state *st);
/* Whether a sampler has diffusers' x0 clipping (clip_sample: ddpm, ddim, heun) and
 * DDIM's use_clipped_model_output. */
int sampling_has_clip_sample(brisk_sampler_kind k);
int sampling_has_clipped_model_output(brisk_sampler_kind k);
/* Fills generate options' OT members from the state. */
void sampling_generate_options(const sampling_state *st, brisk_generate_options *go);
void sampling_state_free(sampling_state *st);

/* A progress bar for brisk_generate_options.progress (progress_ctx = the struct). */
typedef struct sampling_progress {
    cli_progress bar;
    int drawn; /* something is on the terminal line */
    int quiet;
} sampling_progress;
void sampling_progress_start(sampling_progress *p, const char *label, int quiet);
int sampling_progress_cb(void *ctx, size_t calls_done, size_t calls_planned);

#endif
