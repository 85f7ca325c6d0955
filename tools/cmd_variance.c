#include "cli.h"

#include <stdio.h>

int cmd_variance(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "brisk variance: not implemented yet\n");
    return 2;
}
