/* Shared sampler set-up of the sampling commands. */
#include "sampling.h"

#include "cli.h"

#include "brisk/core.h"

#include <stdlib.h>
#include <string.h>

void sampling_opts_init(sampling_opts *o) {
    memset(o, 0, sizeof *o);
    o->ot_level = -1;
}

int sampling_parse_opt(int argc, char **argv, int *i, sampling_opts *o) {
    const char *v;
    if (cli_opt(argc, argv, i, "--model", &o->model)) return 1;
    if (cli_opt(argc, argv, i, "--scheduler", &o->sched_name)) return 1;
    if (cli_opt(argc, argv, i, "--scheduler-config", &o->sched_file)) return 1;
    if (cli_opt(argc, argv, i, "--time-mode", &o->time_mode)) return 1;
    if (cli_opt(argc, argv, i, "--timestep-spacing", &o->spacing)) return 1;
    if (cli_opt(argc, argv, i, "--ot", &o->ot_h)) return 1;
    if (cli_opt(argc, argv, i, "--ot-targets", &o->ot_targets)) return 1;
    if (cli_opt(argc, argv, i, "--ot-level", &v)) {
        o->ot_level = cli_long("--ot-level", v);
        if (o->ot_level < 1) cli_die("--ot-level: %ld must be at least 1", o->ot_level);
        return 1;
    }
    if (cli_opt(argc, argv, i, "--eta", &v)) {
        o->eta = cli_double("--eta", v);
        if (!(o->eta >= 0.0)) cli_die("--eta: %g must be >= 0", o->eta);
        o->eta_given = 1;
        return 1;
    }
    if (cli_opt(argc, argv, i, "--clip-sample", &v)) {
        if (!strcmp(v, "on")) o->clip_sample = 1;
        else if (!strcmp(v, "off")) o->clip_sample = 0;
        else cli_die("--clip-sample: '%s' is not on or off", v);
        o->clip_sample_given = 1;
        return 1;
    }
    if (!strcmp(argv[*i], "--use-clipped-model-output")) {
        o->use_clipped_model_output = 1;
        return 1;
    }
    return 0;
}

void sampling_usage(FILE *fp) {
    fprintf(fp,
            "  --model SPEC             gaussian:dim=6,mean=0.5,std=0.8 | gaussian:FILE.json |\n"
            "                           gmm:FILE.json | empirical:fashion-mnist[,n=N,precision=f32|f64]\n"
            "                           | empirical:FILE.npy | unet:DIR   (docs/sample.md)\n"
            "  --scheduler NAME         ddpm ddim pndm plms euler heun dpmpp-2m unipc ipndm\n"
            "                           pseudo-euler spndm fpndm fon pf (diffusers defaults)\n"
            "  --scheduler-config FILE  a diffusers scheduler_config.json instead of --scheduler\n"
            "  --time-mode M            diffusers | reference | grid (default: the config's)\n"
            "  --timestep-spacing S     leading | linspace | trailing (default: the config's)\n"
            "  --eta E                  DDIM eta (default 0: deterministic)\n"
            "  --clip-sample on|off     clip the predicted x0 to [-1, 1] (ddpm, ddim, heun;\n"
            "                           diffusers' default: on for ddpm and ddim)\n"
            "  --use-clipped-model-output  DDIM: step with the epsilon of the clipped x0, as\n"
            "                           diffusers' step(use_clipped_model_output=True)\n"
            "DPM-OT start (docs/ot.md): noise -> the data latent of its OT cell, then the sampler\n"
            "runs its --steps from that level (timestep_spacing trailing and, for the PNDM\n"
            "authors' samplers, grid time mode unless given):\n"
            "  --ot H.npy               the fitted potential ('brisk ot fit')\n"
            "  --ot-targets Y.npy       the latents it was fitted on ('brisk ot latents')\n"
            "  --ot-level T             their level (the timestep of 'brisk ot latents --level')\n");
}

int sampling_has_clip_sample(brisk_sampler_kind k) {
    return k == BRISK_SAMPLER_DDPM || k == BRISK_SAMPLER_DDIM || k == BRISK_SAMPLER_HEUN;
}

int sampling_has_clipped_model_output(brisk_sampler_kind k) { return k == BRISK_SAMPLER_DDIM; }

static void warn_key(void *ctx, const char *what, const char *key) {
    (void)ctx;
    fprintf(stderr, "brisk: %s: unknown key '%s' ignored\n", what, key);
}

void sampling_setup(const sampling_opts *o, int steps, sampling_state *st) {
    memset(st, 0, sizeof *st);
    if (!o->model) cli_die("--model SPEC is required");
    if (!o->sched_name && !o->sched_file) cli_die("--scheduler NAME or --scheduler-config FILE is required");
    if (o->sched_name && o->sched_file) cli_die("give --scheduler or --scheduler-config, not both");
    int any_ot = o->ot_h || o->ot_targets || o->ot_level >= 0;
    if (any_ot && !(o->ot_h && o->ot_targets && o->ot_level >= 0))
        cli_die("--ot, --ot-targets and --ot-level go together (the potential, its latents and their level)");
    brisk_scheduler_config *cfg = &st->cfg;
    int rc;
    if (o->sched_name) {
        brisk_sampler_kind kind;
        if ((rc = brisk_sampler_kind_from_name(o->sched_name, &kind))) cli_die_status(rc, "--scheduler");
        brisk_scheduler_config_default(cfg, kind);
    } else if ((rc = brisk_scheduler_config_load(o->sched_file, cfg, warn_key, NULL))) {
        cli_die_status(rc, "--scheduler-config");
    }
    if (o->time_mode && (rc = brisk_time_mode_from_name(o->time_mode, &cfg->time_mode)))
        cli_die_status(rc, "--time-mode");
    if (o->spacing && (rc = brisk_timestep_spacing_from_name(o->spacing, &cfg->timestep_spacing)))
        cli_die_status(rc, "--timestep-spacing");
    if (o->eta_given) {
        if (cfg->kind != BRISK_SAMPLER_DDIM)
            cli_die("--eta: applies to the ddim scheduler only (this one is %s)",
                    brisk_sampler_kind_name(cfg->kind));
        cfg->eta = o->eta;
    }
    if (o->clip_sample_given) {
        if (!sampling_has_clip_sample(cfg->kind))
            cli_die("--clip-sample: applies to ddpm, ddim and heun only (this one is %s)",
                    brisk_sampler_kind_name(cfg->kind));
        cfg->clip_sample = o->clip_sample;
    }
    if (o->use_clipped_model_output) {
        if (!sampling_has_clipped_model_output(cfg->kind))
            cli_die("--use-clipped-model-output: applies to the ddim scheduler only (this one is %s)",
                    brisk_sampler_kind_name(cfg->kind));
        cfg->use_clipped_model_output = 1;
    }
    if (any_ot) {
        if (cfg->kind == BRISK_SAMPLER_PF) cli_die("--ot: the adaptive pf sampler cannot start from OT latents");
        brisk_noise_schedule ns;
        if ((rc = brisk_noise_schedule_init(&ns, cfg))) cli_die_status(rc, "scheduler");
        if (o->ot_level >= ns.T) cli_die("--ot-level: %ld is outside 1..%d", o->ot_level, ns.T - 1);
        st->ot_alpha_bar = ns.alphas_cumprod[o->ot_level];
        brisk_noise_schedule_free(&ns);
        if ((rc = brisk_scheduler_config_truncate(cfg, (int)o->ot_level))) cli_die_status(rc, "--ot-level");
        if (!o->spacing) cfg->timestep_spacing = BRISK_SPACING_TRAILING;
        /* the authors' reference grid reads alpha-bar one step past the start level */
        if (!o->time_mode && cfg->time_mode == BRISK_TIME_REFERENCE) cfg->time_mode = BRISK_TIME_GRID;
    }
    if ((rc = brisk_scheduler_create(cfg, &st->sched))) cli_die_status(rc, "scheduler");
    /* check the step count (and the OT start) before loading a possibly large model */
    if ((rc = brisk_scheduler_set_timesteps(st->sched, steps, 1, 1))) cli_die_status(rc, "--steps");
    if (any_ot) {
        double a0 = 0;
        brisk_scheduler_ode_span(st->sched, &a0, NULL, NULL, NULL);
        if (!(a0 <= st->ot_alpha_bar * (1 + 1e-6) && a0 >= st->ot_alpha_bar * (1 - 1e-6)))
            cli_die("--ot-level: with %s (%s mode, %s spacing) and %d steps the run starts at "
                    "alpha-bar %.6g, not at level %ld's %.6g; use --timestep-spacing trailing or "
                    "another step count", brisk_sampler_kind_name(cfg->kind),
                    brisk_time_mode_name(cfg->time_mode),
                    brisk_timestep_spacing_name(cfg->timestep_spacing), steps, a0, o->ot_level,
                    st->ot_alpha_bar);
    }
    double t0 = cli_now();
    if ((rc = brisk_denoiser_from_spec(o->model, cfg->prediction_type, &st->den)))
        cli_die_status(rc, "--model");
    st->load_seconds = cli_now() - t0;
    if (any_ot) {
        if ((rc = brisk_ot_targets_load(o->ot_targets, &st->ot_y))) cli_die_status(rc, "--ot-targets");
        size_t n = st->ot_y.shape[0], d = st->ot_y.shape[1];
        if (d != st->den->dim)
            cli_die("--ot-targets: %s has dimension %zu but model '%s' has %zu", o->ot_targets, d,
                    o->model, st->den->dim);
        if ((rc = brisk_ot_create(st->ot_y.data, n, d, BRISK_OT_SOURCE_NORMAL, o->ot_targets, &st->ot)))
            cli_die_status(rc, "--ot-targets");
        if ((rc = brisk_ot_h_load(o->ot_h, n, &st->ot_h))) cli_die_status(rc, "--ot");
    }
}

void sampling_generate_options(const sampling_state *st, brisk_generate_options *go) {
    go->ot = st->ot;
    go->ot_h = st->ot_h;
    go->ot_alpha_bar = st->ot ? st->ot_alpha_bar : 0;
}

void sampling_state_free(sampling_state *st) {
    brisk_denoiser_free(st->den);
    brisk_scheduler_free(st->sched);
    brisk_scheduler_config_clear(&st->cfg);
    brisk_ot_free(st->ot);
    brisk_free(st->ot_h);
    brisk_array_free(&st->ot_y);
    memset(st, 0, sizeof *st);
}

void sampling_progress_start(sampling_progress *p, const char *label, int quiet) {
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    cli_progress_start(&p->bar, label, 0);
}

int sampling_progress_cb(void *vctx, size_t done, size_t planned) {
    sampling_progress *p = vctx;
    if (p->quiet || !planned) return 0;
    p->bar.total = planned;
    cli_progress_update(&p->bar, done, NULL);
    p->drawn = 1;
    return 0;
}
