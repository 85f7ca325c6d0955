#include "cli.h"

#include <stdio.h>

int cmd_lr(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "brisk lr: not implemented yet\n");
    return 2;
}
