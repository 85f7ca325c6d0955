#include "cli.h"

#include <stdio.h>

int cmd_train(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "brisk train: not implemented yet\n");
    return 2;
}
