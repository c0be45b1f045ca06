/* common/osb_file.h: reading a whole file, bounded: catalogs, kubeconfigs and the files they
 * name, TLS certificates and keys, secrets. */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

#include "common/osb_error.h"

/* Reads @path, at most @max bytes. Returns 0 with *ret new (osb_free; NUL-terminated, the NUL
 * not counted in *ret_len) and, when @ret_st is not NULL, the file's stat; or -E2BIG when the
 * file is larger than @max, -EISDIR, another -errno, or -ENOMEM. @ret_len may be NULL. */
int osb_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct stat *ret_st);

/* As osb_read_file(), with the reason in @err naming the file: "cannot read 'PATH': REASON". */
int osb_read_file_err(const char *path, size_t max, char **ret, struct osb_error *err);
