#!/bin/bash
# Bad input: malformed JSON and YAML bodies (400 with a Status), bodies that are not the
# resource the URL names, unsupported media types (415), and oversized bodies (413).
. "$(dirname "$0")/lib.sh"
e2e_setup
CM=/api/v1/namespaces/$E2E_NS/configmaps

printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"' >"$E2E_TMP/bad.json"
expect_fail_with "kubectl create --raw with malformed JSON: BadRequest" 'Error from server \(BadRequest\)' \
  kc create --raw "$CM" -f "$E2E_TMP/bad.json"
# The body kubectl sends when it reads a 4 MiB ConfigMap from a file: over every server's limit.
head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$E2E_TMP/big.txt"
expect_fail_with "kubectl create of a 4 MiB configmap: Request entity too large" '[Rr]equest entity too large|RequestEntityTooLarge|413' \
  kn create configmap big --from-file=big="$E2E_TMP/big.txt"
expect_fail_with "... nothing stored" 'NotFound' kn get cm big

if ! raw_usable; then
  e2e_skip "raw bad-input checks" "no raw credentials"
  e2e_done
fi

# a well-formed control, in JSON and YAML
raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good-json"},"data":{"k":"v"}}'
expect_status "well-formed JSON: 201 Created" 201
raw POST "$CM" -H 'Content-Type: application/yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good-yaml\ndata:\n  k: v\n'
expect_status "well-formed YAML (application/yaml): 201 Created" 201
expect_eq "the YAML object was stored" v "$(kn get cm good-yaml -o jsonpath='{.data.k}' 2>&1)"

# malformed bodies
raw POST "$CM" -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/bad.json"
expect_status "malformed JSON: 400 BadRequest Status" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1",,}'
expect_status "JSON syntax error: 400 BadRequest" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/json' --data-binary '[1,2,3]'
expect_status "a JSON array: 400 BadRequest" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/json' --data-binary ''
expect_status "an empty body: 400 BadRequest" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typed"},"data":{"k":5}}'
expect_status "a field of the wrong JSON type: 400 BadRequest" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n  : :\n'
expect_status "malformed YAML: 400 BadRequest Status" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabs\n'
expect_status "YAML with tab indentation: 400 BadRequest" 400 BadRequest
raw PUT "$CM/good-json" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good-json"'
expect_status "malformed JSON in a PUT: 400 BadRequest" 400 BadRequest
raw PATCH "$CM/good-json" -H 'Content-Type: application/json-patch+json' --data-binary '[{"op":'
expect_status "malformed JSON patch: 400 BadRequest" 400 BadRequest
raw PATCH "$CM/good-json" -H 'Content-Type: application/json-patch+json' --data-binary '[{"op":"explode","path":"/data/k"}]'
expect_status "a JSON patch with an unknown op: 422" 422
expect_eq "none of it changed the object" v "$(kn get cm good-json -o jsonpath='{.data.k}' 2>&1)"

# bodies that do not match the URL
raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wrong-kind"}}'
expect_status "a Secret posted to configmaps: 400 BadRequest" 400 BadRequest
raw POST "$CM" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other-ns","namespace":"kube-system"}}'
expect_status "a body naming another namespace: 400 BadRequest" 400 BadRequest
expect_match "... saying so" 'namespace' "$(jqr .message <<<"$E2E_BODY" 2>&1)"
raw PUT "$CM/good-json" -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"another-name"}}'
expect_status "a PUT whose body names another object: 400 BadRequest" 400 BadRequest
expect_match "... saying so" 'does not match' "$(jqr .message <<<"$E2E_BODY" 2>&1)"

# media types
raw POST "$CM" -H 'Content-Type: text/plain' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"text"}}'
expect_status "Content-Type text/plain: 415 UnsupportedMediaType" 415 UnsupportedMediaType
raw PATCH "$CM/good-json" -H 'Content-Type: text/plain' --data-binary '{"data":{"k":"w"}}'
expect_status "PATCH with an unknown patch type: 415 UnsupportedMediaType" 415 UnsupportedMediaType

# oversized bodies
{ printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"k":"'; cat "$E2E_TMP/big.txt"; printf '"}}'; } >"$E2E_TMP/big.json"
raw POST "$CM" -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/big.json"
expect_status "a 4 MiB body: 413 RequestEntityTooLarge" 413 RequestEntityTooLarge
raw PUT "$CM/good-json" -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/big.json"
expect_status "a 4 MiB PUT: 413" 413 RequestEntityTooLarge
raw GET /api
expect_status "the server still answers after the oversized bodies" 200

e2e_done
