/* test/apiserver/util.h: small helpers of the test API server: Kubernetes timestamps, uids,
 * generated names, base64, name validation and dotted JSON paths. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2006-01-02T15:04:05Z" (metav1.Time) into @buf (at least 32 bytes). Returns @buf. */
const char *util_time_rfc3339(time_t t, char *buf, size_t n);
/* "2006-01-02T15:04:05.000000Z" (metav1.MicroTime) of now. Returns @buf (>= 40 bytes). */
const char *util_now_micro(char *buf, size_t n);
/* Parses RFC 3339 ("...Z" or with an offset, fractional seconds allowed). Returns 0 or -EINVAL. */
int util_parse_time(const char *s, time_t *ret);
/* Kubernetes' duration.HumanDuration ("5s", "3m2s", "4h", "2d3h", "3y"). Returns @buf. */
const char *util_human_duration(int64_t seconds, char *buf, size_t n);

/* A random RFC 4122 version 4 uuid, 36 characters + NUL. */
void util_uuid(char buf[37]);
/* @n random characters from the alphabet kube-apiserver uses for generateName. */
void util_random_suffix(char *buf, size_t n);

/* The names of apimachinery's util/validation: the util_matches_* check only the regex, the
 * util_is_* also the length, as IsDNS1123Subdomain etc. report them (two separate errors).
 * RFC 1123 subdomain (<= 253, [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*:
 * a single label of 64 or more characters is valid, as in Kubernetes). */
bool util_is_dns1123_subdomain(const char *s);
bool util_matches_dns1123_subdomain(const char *s);
/* RFC 1123 label (<= 63, [a-z0-9]([-a-z0-9]*[a-z0-9])?). */
bool util_is_dns1123_label(const char *s);
bool util_matches_dns1123_label(const char *s);
/* RFC 1035 label (<= 63, [a-z]([-a-z0-9]*[a-z0-9])?): Service names, CRD names and versions. */
bool util_is_dns1035_label(const char *s);
bool util_matches_dns1035_label(const char *s);
/* A ConfigMap/Secret key: [-._a-zA-Z0-9]+, at most 253, not "." or "..". */
bool util_is_config_key(const char *s);
/* A label or annotation key ([prefix/]name) and a label value, as apimachinery validates them. */
bool util_is_qualified_name(const char *s);
bool util_is_label_value(const char *s);
/* The pattern of a label value only, whatever its length. */
bool util_matches_label_value(const char *s);

/* Borrowed value at the dotted path "a.b.c" in @obj, or NULL. */
json_t *util_json_get_path(const json_t *obj, const char *dotted);
/* Borrowed string at @obj.@a.@b (b may be NULL), or NULL when absent or not a string. */
const char *util_json_str2(const json_t *obj, const char *a, const char *b);
/* The object at @obj[@key], created empty when absent or not an object. Borrowed; NULL on OOM. */
json_t *util_json_obj_ensure(json_t *obj, const char *key);
/* Removes @key from @arr (an array of strings). Returns true if it was there. */
bool util_json_strarr_remove(json_t *arr, const char *s);
bool util_json_strarr_has(const json_t *arr, const char *s);

/* Appends `"s"` quoted the way Go's %q does for printable ASCII, to @buf. */
int util_quote(char *buf, size_t n, const char *s);
