/* broker/backend_exec.h: the part of the "exec" backend (backend_exec.c) that is a pure
 * function, so a fuzz target can reach it: turning what a program did (its wait status, its
 * stdout and its stderr) into the backend's answer. docs/backends.md describes the protocol. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "broker/backend.h"

/* The exit status that means "not finished yet, run me again" (sysexits.h EX_TEMPFAIL). */
#define EXEC_EXIT_IN_PROGRESS 75

/* Longest stderr tail quoted in a failure's description. */
#define EXEC_STDERR_TAIL_MAX 1024

/* Interprets one run of @prog (a name for messages) for an operation of @kind: @wait_status as
 * waitpid() reports it, the program's stdout (@out, @out_len bytes, need not be NUL-terminated)
 * and stderr (@errout, @err_len). @retry_after_ms is the plan's default wait for an "in
 * progress" answer that names none.
 * Returns 0 with @res filled (bind: res->response new; provision/update: res->dashboard_url new
 * or NULL; in progress: res->retry_after_ms > 0), or OSB_E_BACKEND with the description in
 * @err (always non-empty, valid UTF-8 without control characters other than newline and tab),
 * or -ENOMEM. @res is written only on success. */
int exec_output_parse(enum op_kind kind, const char *prog, int wait_status, const char *out,
                      size_t out_len, const char *errout, size_t err_len, int64_t retry_after_ms,
                      struct backend_result *res, struct osb_error *err);

/* Makes @s (NUL-terminated) valid UTF-8 in place: each byte of an invalid or truncated sequence
 * becomes '?', and control characters other than newline and tab become spaces. */
void exec_sanitize_text(char *s);
