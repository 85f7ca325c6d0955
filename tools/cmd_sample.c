#include "cli.h"

#include <stdio.h>

int cmd_sample(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "brisk sample: not implemented yet\n");
    return 2;
}
