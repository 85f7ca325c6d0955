#include "cli.h"

#include <stdio.h>

int cmd_eval(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "brisk eval: not implemented yet\n");
    return 2;
}
