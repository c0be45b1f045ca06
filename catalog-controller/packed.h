/* catalog-controller/packed.h: the compressed form the informer caches keep an object's compact
 * JSON text in (cached.c). LZ77 against a preset dictionary of what every ServiceInstance and
 * ServiceBinding this controller writes has in common (field names, our condition reasons and
 * messages, the finalizer, the label keys), so that a cached object costs about its own values
 * (names, uids, timestamps), not its JSON: a Ready instance of the benchmark packs to about a
 * third of its 1.4 kB.
 *
 * The packed form is a NUL-terminated string without other NUL bytes (it may be kept and
 * compared as a C string) and contains every run of the input that matched nothing verbatim.
 * Only packed_unpack() reads it, and only what packed_pack() wrote: not a format for other
 * programs, nor for bytes from outside. */
#pragma once

#include <stddef.h>

/* Packs the @n bytes of @text (any bytes but NUL). Returns new (osb_free()), or NULL on OOM or
 * when @text holds a NUL byte. */
char *packed_pack(const char *text, size_t n);
/* The text packed_pack() was given, NUL-terminated, with its length in *n (may be NULL).
 * Returns new (osb_free()), or NULL on OOM or when @packed is not packed_pack()'s output. */
char *packed_unpack(const char *packed, size_t *n);
