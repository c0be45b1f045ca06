#!/bin/bash
# CustomResourceDefinitions: installing one from a YAML file makes its resources appear
# (namespaced and cluster scope), the status subresource, short names, categories, printer
# columns in kubectl get, structural schema validation (types, required, enums) and defaults.
# Also installs deploy/crds/ when it exists (the project's own CRDs must be accepted).
. "$(dirname "$0")/lib.sh"
e2e_setup

W=/apis/e2e.bindery.dev/v1alpha1/namespaces/$E2E_NS/widgets
if ! kc get crd widgets.e2e.bindery.dev >/dev/null 2>&1; then
  expect_fail_with "before the CRD: kubectl get widgets is unknown" "the server doesn't have a resource type \"widgets\"" kn get widgets
fi
e2e_install_fixture_crds
e2e_install_crds "$top_srcdir/deploy/crds"
# The project's CRDs are in servicecatalog.k8s.io, a group a real kube-apiserver protects: they
# carry the api-approved.kubernetes.io annotation ("unapproved, ..."), so they are accepted, not
# conformant. Their fields are documented: kubectl explain shows the descriptions (from the
# server's OpenAPI v3, where kube-apiserver publishes each CRD's schema).
expect_eq "deploy/crds: KubernetesAPIApprovalPolicyConformant False, UnapprovedAnnotation" "False UnapprovedAnnotation" \
  "$(kc get crd serviceinstances.servicecatalog.k8s.io -o jsonpath='{.status.conditions[?(@.type=="KubernetesAPIApprovalPolicyConformant")].status} {.status.conditions[?(@.type=="KubernetesAPIApprovalPolicyConformant")].reason}' 2>&1)"
if [ "$E2E_KUBECTL_MINOR" -ge 27 ]; then  # explain reads OpenAPI v3 from kubectl 1.27
  expect_ok "kubectl explain serviceinstance.spec" kc explain serviceinstance.spec
  expect_match "... describes spec" 'What the user asks for' "$OUT"
  expect_match "... and its fields" 'The class to provision, by its name in the broker catalog' "$OUT"
  expect_ok "kubectl explain servicebinding.spec.secretTransforms.addKey" kc explain servicebinding.spec.secretTransforms.addKey
  expect_match "... describes a nested field" 'jsonPathExpression.*' "$OUT"
  expect_match "... with its description" 'A JSONPath expression over the credentials' "$OUT"
fi
expect_ok "the CRD is listed" kc get crd widgets.e2e.bindery.dev -o jsonpath='{.spec.names.kind} {.spec.scope} {.status.acceptedNames.kind}'
expect_eq "CRD: kind, scope, accepted names" "Widget Namespaced Widget" "$OUT"
expect_match "kubectl get crds lists it" '^widgets\.e2e\.bindery\.dev +[0-9]{4}-' "$(kc get crds 2>&1)"

# namespaced resources
expect_ok "kubectl get widgets: empty" kn get widgets
expect_match "get widgets: none yet" 'No resources found' "$OUT"
expect_ok "create a widget from YAML" kn create -f - <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: w1
  labels:
    tier: front
spec:
  size: 3
  color: red
  config:
    retries: 7
    mode: fast
    labels:
      a: b
  parts:
  - name: bolt
    count: 4
  - name: nut
YAML
expect_eq "widget stored with its nested fields" "3 red 7 fast b bolt 4" \
  "$(kn get widget w1 -o jsonpath='{.spec.size} {.spec.color} {.spec.config.retries} {.spec.config.mode} {.spec.config.labels.a} {.spec.parts[0].name} {.spec.parts[0].count}' 2>&1)"
expect_eq "widget apiVersion and kind" "e2e.bindery.dev/v1alpha1 Widget" "$(kn get widget w1 -o jsonpath='{.apiVersion} {.kind}' 2>&1)"
expect_eq "short name wdg" widget.e2e.bindery.dev/w1 "$(kn get wdg -o name 2>&1)"
expect_eq "singular name" widget.e2e.bindery.dev/w1 "$(kn get widget w1 -o name 2>&1)"
expect_eq "fully qualified resource name" widget.e2e.bindery.dev/w1 "$(kn get widgets.e2e.bindery.dev w1 -o name 2>&1)"
expect_match "category bindery-e2e" '^widget\.e2e\.bindery\.dev/w1$' "$(kn get bindery-e2e -o name 2>&1)"
raw GET "$W/w1"
expect_status "raw GET of the widget" 200
expect_eq "raw GET: the widget" "Widget w1 $E2E_NS" "$(jqr '.kind + " " + .metadata.name + " " + .metadata.namespace' <<<"$E2E_BODY" 2>&1)"
raw GET "/apis/e2e.bindery.dev/v1alpha1/widgets"
expect_status "raw list of widgets across namespaces" 200
expect_match "list across namespaces: a WidgetList holding w1" "^WidgetList .*$E2E_NS/w1" \
  "$(jqr '.kind + " " + ([.items[] | .metadata.namespace + "/" + .metadata.name] | join(" "))' <<<"$E2E_BODY" 2>&1)"

# printer columns
expect_ok "kubectl get widgets shows the printer columns" kn get widgets
expect_match "columns: NAME SIZE COLOR PHASE AGE" '^NAME +SIZE +COLOR +PHASE +AGE$' "$OUT"
expect_match "row: w1 3 red <none> age" '^w1 +3 +red +(<none>)? +[0-9]+[smhd]' "$OUT"
expect_ok "kubectl get widgets -o wide adds the priority-1 column" kn get widgets -o wide
expect_match "wide columns: ... RETRIES" '^NAME +SIZE +COLOR +PHASE +RETRIES +AGE$' "$OUT"
expect_match "wide row: retries 7" '^w1 +3 +red +(<none>)? +7 +[0-9]+[smhd]' "$OUT"
expect_ok "kubectl get widgets --show-labels" kn get widgets --show-labels
expect_match "--show-labels" '^w1 .* tier=front$' "$OUT"
expect_ok "kubectl get widgets -L tier" kn get widgets -L tier
expect_match "-L adds a label column" '^NAME +SIZE +COLOR +PHASE +AGE +TIER$' "$OUT"

# status subresource
expect_eq "a new widget has no status" "" "$(kn get widget w1 -o jsonpath='{.status}' 2>&1)"
raw GET "$W/w1/status"
expect_status "GET widgets/w1/status" 200
expect_eq "the status subresource returns the whole object" "Widget w1" "$(jqr '.kind + " " + .metadata.name' <<<"$E2E_BODY" 2>&1)"
expect_ok "patch the status subresource" patch_status widget/w1 merge '{"status":{"phase":"Running"}}' "$W/w1"
expect_eq "status written" Running "$(kn get widget w1 -o jsonpath='{.status.phase}' 2>&1)"
expect_match "PHASE column shows it" '^w1 +3 +red +Running +' "$(kn get widgets 2>&1)"

# defaults
expect_ok "create a widget with only the required field" kn create -f - <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: w2
spec:
  size: 1
  parts:
  - name: gear
YAML
expect_eq "default: color" blue "$(kn get widget w2 -o jsonpath='{.spec.color}' 2>&1)"
expect_eq "default: an absent object with a default {} gets its nested defaults" 3 "$(kn get widget w2 -o jsonpath='{.spec.config.retries}' 2>&1)"
expect_eq "default: in array items" 1 "$(kn get widget w2 -o jsonpath='{.spec.parts[0].count}' 2>&1)"
expect_eq "a given value is not replaced by the default" 7 "$(kn get widget w1 -o jsonpath='{.spec.config.retries}' 2>&1)"
expect_ok "defaults apply on update too" kn patch widget w2 --type=json -p '[{"op":"remove","path":"/spec/color"}]'
expect_eq "default re-applied after removal" blue "$(kn get widget w2 -o jsonpath='{.spec.color}' 2>&1)"

# structural schema validation
# --validate=false: the server must refuse these by itself (kubectl 1.20 would otherwise check
# them against the published OpenAPI schema first, with messages of its own).
bad_widget() { kn create --validate=false -f - <<YAML
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: bad
spec:
$1
YAML
}
expect_fail_with "required field missing: Invalid, spec.size Required" 'is invalid.*spec\.size: Required value' bad_widget '  color: red'
expect_fail_with "wrong type: Invalid, spec.size must be an integer" 'is invalid.*spec\.size: Invalid value: "string": spec\.size in body must be of type integer' bad_widget '  size: big'
expect_fail_with "value outside the enum: Invalid, Unsupported value" 'is invalid.*spec\.color: Unsupported value: "purple": supported values: "red", "green", "blue"' \
  bad_widget '  size: 1
  color: purple'
expect_fail_with "nested type error: Invalid, spec.config.retries" 'is invalid.*spec\.config\.retries: Invalid value: "string"' \
  bad_widget '  size: 1
  config:
    retries: many'
expect_fail_with "required field in array items" 'is invalid.*spec\.parts\[0\]\.name: Required value' \
  bad_widget '  size: 1
  parts:
  - count: 2'
expect_fail_with "additionalProperties type" 'is invalid.*spec\.config\.labels\.a: Invalid value: "integer"' \
  bad_widget '  size: 1
  config:
    labels:
      a: 5'
expect_fail_with "nothing invalid was stored" 'NotFound|not found' kn get widget bad
expect_fail_with "an invalid update is refused too" 'is invalid.*spec\.color: Unsupported value: "purple"' \
  kn patch widget w1 --type=merge -p '{"spec":{"color":"purple"}}'
expect_eq "the refused update changed nothing" red "$(kn get widget w1 -o jsonpath='{.spec.color}' 2>&1)"
if raw_usable; then
  raw POST "$W" -H 'Content-Type: application/json' --data-binary \
    '{"apiVersion":"e2e.bindery.dev/v1alpha1","kind":"Widget","metadata":{"name":"bad"},"spec":{"color":"purple"}}'
  expect_status "raw: invalid widget is 422 Invalid" 422 Invalid
  expect_eq "raw: Status details name the kind and object" "Widget bad" "$(jqr '.details.kind + " " + .details.name' <<<"$E2E_BODY" 2>&1)"
  expect_match "raw: Status details list each cause's field" '^spec\.size$' "$(jqr '.details.causes[].field' <<<"$E2E_BODY" 2>&1)"
  expect_match "raw: ... including the enum" '^spec\.color$' "$(jqr '.details.causes[].field' <<<"$E2E_BODY" 2>&1)"
else
  e2e_skip "raw: invalid widget is 422 Invalid" "no raw credentials"
fi

# cluster scope
g=$(uniq_name gadget)
expect_ok "create a cluster-scoped gadget" kc create -f - <<YAML
apiVersion: e2e.bindery.dev/v1alpha1
kind: Gadget
metadata:
  name: $g
spec:
  model: mk1
YAML
e2e_cleanup_add gadget "$g"
expect_eq "gadget has no namespace" "" "$(kc get gadget "$g" -o jsonpath='{.metadata.namespace}' 2>&1)"
expect_match "get gadgets: the printer column" "^$g +mk1 +[0-9]+[smhd]" "$(kc get gadgets 2>&1)"
expect_eq "short name gdg" "gadget.e2e.bindery.dev/$g" "$(kc get gdg "$g" -o name 2>&1)"
raw GET "/apis/e2e.bindery.dev/v1alpha1/gadgets/$g"
expect_status "raw GET of the cluster-scoped path" 200
raw GET "/apis/e2e.bindery.dev/v1alpha1/namespaces/$E2E_NS/gadgets/$g"
expect_status "a cluster-scoped resource has no namespaced path" 404
raw GET "/apis/e2e.bindery.dev/v1alpha1/widgets/w1"
expect_status "a namespaced resource has no cluster-scoped object path" 404
expect_ok "delete the gadget" kc delete gadget "$g"

# the CRD's own status conditions
expect_eq "CRD conditions: Established and NamesAccepted True" "True True" \
  "$(kc get crd widgets.e2e.bindery.dev -o jsonpath='{.status.conditions[?(@.type=="Established")].status} {.status.conditions[?(@.type=="NamesAccepted")].status}' 2>&1)"

e2e_done
