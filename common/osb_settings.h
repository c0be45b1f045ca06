/* common/osb_settings.h: one declarative settings table per program. Each row gives a flag, the
 * environment variable that can set it, a default, a parser and help text; --help and --version
 * are generated from the table. Precedence: default < environment < command line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/osb_error.h"

enum osb_setting_kind {
        OSB_SETTING_STRING,   /* target: char ** (new: freed by osb_settings_release) */
        OSB_SETTING_INT,      /* target: int64_t *, checked against [min, max] */
        OSB_SETTING_BOOL,     /* target: bool *; "--flag" alone means true */
        OSB_SETTING_SIZE,     /* target: uint64_t *, bytes, suffixes k/m/g; max = upper bound */
        OSB_SETTING_DURATION, /* target: int64_t *, milliseconds, suffixes ms/s/m/h */
};

struct osb_setting {
        const char *name;     /* long flag without the dashes: "port" */
        const char *env;      /* environment variable, or NULL */
        enum osb_setting_kind kind;
        const char *def;      /* default as text, or NULL (unset) */
        const char *metavar;  /* shown in --help: "PORT" */
        const char *help;     /* one sentence */
        void *target;
        int64_t min, max;     /* for INT and SIZE (max only); 0,0 = no bounds */
};

struct osb_program {
        const char *name;     /* "osb-broker" */
        const char *summary;  /* one line under the usage line */
        const char *footer;   /* optional paragraph after the options */
};

/* Applies defaults, then the environment, then @argv. Returns 0 to continue, 1 when --help or
 * --version was printed (the caller exits 0), or OSB_E_BAD_REQUEST with a message naming the
 * flag or variable in @err. Positional arguments are refused. */
int osb_settings_load(const struct osb_setting *tab, size_t n, const struct osb_program *prog,
                      int argc, char **argv, struct osb_error *err);
/* Prints the generated usage text to @f. */
void osb_settings_usage(const struct osb_setting *tab, size_t n, const struct osb_program *prog,
                        FILE *f);
/* Frees the strings the table's STRING targets hold. */
void osb_settings_release(const struct osb_setting *tab, size_t n);

/* The whole main() of a program: sets up the allocator, loads the settings (exit status 2 with
 * the message on stderr for bad options, 0 after --help or --version), runs @run, releases the
 * settings and returns @run's exit status. */
int osb_settings_main(const struct osb_setting *tab, size_t n, const struct osb_program *prog,
                      int argc, char **argv, int (*run)(void));
