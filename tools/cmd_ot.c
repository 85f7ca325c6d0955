#include "cli.h"

#include <stdio.h>

int cmd_ot(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "brisk ot: not implemented yet\n");
    return 2;
}
