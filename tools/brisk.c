/* brisk: the command-line tool. A thin shell over libbrisk. */
#include "cli.h"

#include "brisk/core.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *help;
} commands[] = {
    {"sample", cmd_sample, "sample from a model with any sampler (PNG grid or .npy)"},
    {"verify", cmd_verify, "run reference cases (samplers, LR schedules, UNets)"},
    {"bench", cmd_bench, "benchmarks: samplers, quality"},
    {"lr", cmd_lr, "learning-rate schedules: print, plot, refine from gradient norms"},
    {"variance", cmd_variance, "evaluation variance: items, checkpoints, compare, irt, report"},
    {"ot", cmd_ot, "semi-discrete optimal transport (DPM-OT)"},
    {"train", cmd_train, "train a UNet or a classifier on Fashion-MNIST"},
    {"eval", cmd_eval, "generative metrics: Frechet distance, KID, precision/recall"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *fp) {
    fprintf(fp, "usage: brisk COMMAND [options]   (brisk COMMAND --help for details)\n\n"
                "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\n  --version  print the version\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("brisk %s\n", BRISK_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "brisk: unknown command '%s'; valid commands:", argv[1]);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(stderr, " %s", commands[i].name);
    fputc('\n', stderr);
    return 2;
}
