/* Shared helpers of the brisk command-line tool: option parsing, errors, progress. */
#ifndef BRISK_CLI_H
#define BRISK_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Each subcommand: argv[0] is the subcommand name. Returns the process exit code. */
typedef int (*cli_command_fn)(int argc, char **argv);

int cmd_sample(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_lr(int argc, char **argv);
int cmd_variance(int argc, char **argv);
int cmd_ot(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* Prints "brisk: <message>" to stderr and exits 1. */
void cli_die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
/* Exits 1 after printing the library's last error, prefixed with `context`. */
void cli_die_status(int status, const char *context)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;
/* "brisk CMD: unknown option 'ARG' (see 'brisk CMD --help')", exit 2. */
void cli_unknown_option(const char *cmd, const char *arg)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE". On a match stores the value,
 * advances *i past it and returns 1; a missing value exits with an error. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* Matches a flag without a value ("--name"). */
int cli_flag(char **argv, int i, const char *name);
int cli_is_help(const char *arg); /* -h or --help */

/* Strict number parsing: exits with "brisk: OPT: 'S' is not an integer" etc. */
long cli_long(const char *opt, const char *s);
double cli_double(const char *opt, const char *s);
unsigned long long cli_u64(const char *opt, const char *s);

/* Progress on stderr: a redrawn bar on a terminal, a line every ~10% otherwise.
 * `extra` is appended (loss, grad norm...). Call with done == total to finish. */
typedef struct cli_progress {
    const char *label;
    size_t total;
    double t0;
    int last_decile;
    int tty;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *label, size_t total);
void cli_progress_update(cli_progress *p, size_t done, const char *extra);
double cli_now(void); /* seconds, monotonic */

#endif
