/* common/osb_yaml.h: YAML (libyaml) to jansson. Used for YAML catalogs, kubeconfig files and
 * Kubernetes manifests. Only the JSON-compatible subset of YAML 1.1/1.2 is accepted. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/osb_error.h"

/* Parses the first YAML document in @data (@len bytes, need not be NUL-terminated).
 * Plain scalars become null/true/false/integers/reals by the YAML 1.2 core schema
 * (null, ~, true/false, True/False, decimal and 0x/0o integers, floats, .inf/.nan as reals);
 * quoted scalars are always strings. Anchors and aliases are resolved (alias expansion is
 * bounded to stop "billion laughs"); tags other than the standard ones are refused.
 * Duplicate mapping keys are refused. Non-string keys are converted to strings.
 * Returns 0 with *ret new (json_decref), or OSB_E_BAD_REQUEST with "line L column C: why"
 * in @err (1-based), or -ENOMEM. An empty document yields JSON null. */
int osb_yaml_parse(const char *data, size_t len, json_t **ret, struct osb_error *err);

/* Parses every document of a multi-document stream ("---" separated) into a new JSON array
 * (documents that are empty/null are skipped). Errors as osb_yaml_parse(). */
int osb_yaml_parse_all(const char *data, size_t len, json_t **ret, struct osb_error *err);
