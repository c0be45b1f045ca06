/* test/apiserver/protobuf.h: decoding of Kubernetes protobuf request bodies
 * (application/vnd.kubernetes.protobuf: "k8s\0" + runtime.Unknown) into JSON, for the kinds
 * kubectl's typed client sends that way (kubectl create secret / configmap / namespace /
 * serviceaccount) plus Events and Leases. Responses are always JSON, which clients accept. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* Decodes @len bytes. Returns 0 with *ret new (a JSON object with apiVersion and kind), -EINVAL
 * with a message in @msg (bad framing, or a kind this server cannot decode), or -ENOMEM. */
int protobuf_decode(const void *data, size_t len, json_t **ret, char *msg, size_t msglen);
