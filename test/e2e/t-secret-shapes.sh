#!/bin/bash
# Issue 20, Secrets shaped the way apps and their libraries read them: a real osb-broker on
# loopback and a real catalog-controller. One ServiceInstance, one ServiceBinding per layout, and
# each Secret compared byte for byte (every key, every value, nothing more): secretKey (the
# credentials as one JSON value), secretRootKey (credentials and instance metadata as one JSON
# object), secretInstanceMetadata (instance_guid, instance_name, plan, type, label, tags beside
# the credentials), both keys at once, secretTemplate (SAP's example: stringData, labels,
# annotations), servicebinding.io (type and provider entries with the class's defaults or the
# binding's own, the Secret type servicebinding.io/<type>, status.binding.name on the binding
# and, through the bindery.dev/servicebinding annotation, on the instance), the CRDs' label
# servicebinding.io/provisioned-service; a template that fails names its line and column in the
# condition and never a credential.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
T0=$SECONDS
SVC=e2e-$ID-s-db; CLS=e2e-sdb-$ID; P_SMALL=e2e-$ID-s-small
# a password no layout must ever put into a condition
# (in the order the broker writes them: sorted)
CREDS='{"password":"pw-s3cr3t","port":5432,"user":"app"}'
cat >"$E2E_TMP/s1.json" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLS","description":"E2E Secret shapes","bindable":true,
  "tags":["postgresql","sql"],"metadata":{"providerDisplayName":"E2E Corp"},"plans":[
  {"id":"$P_SMALL","name":"small","description":"synchronous","x-bindery-backend":{"type":"static","credentials":$CREDS}}]}]}
JSON
jq -e . "$E2E_TMP/s1.json" >/dev/null || { echo "# bad catalog"; exit 1; }

PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker s1 --catalog "$E2E_TMP/s1.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B1=e2e-shapes-$ID
e2e_register_broker "$B1" "$s1_URL" "$PW" || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }
n_plans() { kc get clusterserviceplans -l "servicecatalog.k8s.io/spec.clusterServiceBrokerName=$(sha224 "$B1")" -o name 2>/dev/null | wc -l; }
plans_listed() { [ "$(n_plans)" -ge 1 ]; }
eventually 15 plans_listed
expect_eq "the broker's plan is listed" 1 "$(n_plans)"

oj() { kn get "$1" "$2" -o json 2>/dev/null; }
of() { oj "$1" "$2" | jq -r "$3" 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
bready() { cond_is servicebinding "$1" Ready "$2"; }
# sdata NAME: the Secret's data decoded, keys sorted, as one line of JSON (jq's @base64d: the
# values here are ASCII, so this is byte for byte)
sdata() { kn get secret "$1" -o json 2>/dev/null | jq -cS '.data // {} | map_values(@base64d)'; }
# want JQ-EXPR [--arg NAME VALUE...]: the expected data in the same form
want() { local e=$1; shift; jq -ncS "$@" "$e"; }
sb_yaml() { # NAME SPEC-EXTRA (YAML flow mapping entries)
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceBinding\nmetadata: {name: %s}\nspec:\n  instanceRef: {name: si}\n%s\n' "$1" "$2"
}

e2e_sc_teardown

# --- the CRDs are Provisioned Services ------------------------------------------------------------
expect_eq "the ServiceInstance and ServiceBinding CRDs carry servicebinding.io/provisioned-service: \"true\"" "true true" \
  "$(kc get crd serviceinstances.servicecatalog.k8s.io -o jsonpath='{.metadata.labels.servicebinding\.io/provisioned-service}') $(kc get crd servicebindings.servicecatalog.k8s.io -o jsonpath='{.metadata.labels.servicebinding\.io/provisioned-service}')"

# --- the instance ----------------------------------------------------------------------------------
printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: si}\nspec: {clusterServiceClassExternalName: %s, clusterServicePlanExternalName: small}\n' "$CLS" >"$E2E_TMP/si.yaml"
expect_ok "create ServiceInstance si" kn create -f "$E2E_TMP/si.yaml"
eventually 20 cond_is serviceinstance si Ready "True ProvisionedSuccessfully"
expect_eq "si is Ready" "True ProvisionedSuccessfully" "$(cond serviceinstance si Ready)"
IG=$(of serviceinstance si .spec.externalID)
expect_match "si has an externalID (the instance_guid)" '^[0-9a-f-]{36}$' "$IG"
META=(--arg ig "$IG" --arg cls "$CLS")
META_OBJ='{instance_guid: $ig, instance_name: "si", plan: "small", type: $cls, label: $cls}'

# --- one binding per layout ------------------------------------------------------------------------
{
  sb_yaml b-default ''
  sb_yaml b-key '  secretKey: creds.json'
  sb_yaml b-root '  secretRootKey: binding.json'
  sb_yaml b-both '  secretKey: credentials
  secretRootKey: vcap'
  sb_yaml b-meta '  secretInstanceMetadata: true'
  sb_yaml b-keymeta '  secretKey: creds.json
  secretInstanceMetadata: true
  secretTransforms:
  - renameKey: {from: user, to: username}'
  sb_yaml b-tpl '  secretTemplate: |
    apiVersion: v1
    kind: Secret
    metadata:
      labels:
        service_plan: {{ .instance.plan }}
      annotations:
        instance: {{ .instance.instance_name }}
    stringData:
      USERNAME: {{ .credentials.user | quote }}
      PASSWORD: {{ .credentials.password | quote }}
      {{- if eq .instance.plan "small" }}
      URI: "postgres://{{ .credentials.user }}@db:{{ .credentials.port }}/{{ index .instance.tags 0 }}"
      {{- else }}
      URI: other
      {{- end }}
      TAGS: {{ .instance.tags | json | quote }}'
  sb_yaml b-tplkey '  secretKey: creds.json
  secretTemplate: |
    metadata:
      annotations: {shape: "secretKey kept"}'
  sb_yaml b-sbio '  serviceBindingIO: {secretType: true}'
  sb_yaml b-sbio-own '  secretKey: creds.json
  serviceBindingIO: {type: mysql, provider: me}'
  sb_yaml b-badtpl '  secretTemplate: |
    stringData:
      a: {{ .credentials.password }}
      b: {{ .credentials.nope }}'
} >"$E2E_TMP/bindings.yaml"
expect_ok "create one ServiceBinding per layout" kn create -f "$E2E_TMP/bindings.yaml"
for b in b-default b-key b-root b-both b-meta b-keymeta b-tpl b-tplkey b-sbio b-sbio-own; do
  eventually 20 bready "$b" "True InjectedBindResult"
  expect_eq "$b is Ready" "True InjectedBindResult" "$(cond servicebinding "$b" Ready)"
done

expect_eq "default: one key per credential (a number as its JSON)" \
  "$(want '{user: "app", password: "pw-s3cr3t", port: "5432"}')" "$(sdata b-default)"
expect_eq "secretKey: the credentials as one JSON value, in the broker's order" \
  "$(want '{"creds.json": "{\"password\":\"pw-s3cr3t\",\"port\":5432,\"user\":\"app\"}"}')" "$(sdata b-key)"
expect_eq "secretRootKey: credentials and instance metadata as one JSON object" \
  "$(want '{"binding.json": ("{\"password\":\"pw-s3cr3t\",\"port\":5432,\"user\":\"app\",\"instance_guid\":\"" + $ig + "\",\"instance_name\":\"si\",\"plan\":\"small\",\"type\":\"" + $cls + "\",\"label\":\"" + $cls + "\",\"tags\":[\"postgresql\",\"sql\"]}")}' "${META[@]}")" \
  "$(sdata b-root)"
expect_eq "secretRootKey with secretKey: the credentials nested under secretKey" \
  "$(want '{"vcap": ("{\"credentials\":{\"password\":\"pw-s3cr3t\",\"port\":5432,\"user\":\"app\"},\"instance_guid\":\"" + $ig + "\",\"instance_name\":\"si\",\"plan\":\"small\",\"type\":\"" + $cls + "\",\"label\":\"" + $cls + "\",\"tags\":[\"postgresql\",\"sql\"]}")}' "${META[@]}")" \
  "$(sdata b-both)"
expect_eq "secretInstanceMetadata: the instance keys beside the credentials (tags as JSON)" \
  "$(want "{user: \"app\", password: \"pw-s3cr3t\", port: \"5432\", tags: \"[\\\"postgresql\\\",\\\"sql\\\"]\"} + $META_OBJ" "${META[@]}")" \
  "$(sdata b-meta)"
expect_eq "secretTransforms first, then secretKey, with the instance keys beside" \
  "$(want "{\"creds.json\": \"{\\\"password\\\":\\\"pw-s3cr3t\\\",\\\"port\\\":5432,\\\"username\\\":\\\"app\\\"}\", tags: \"[\\\"postgresql\\\",\\\"sql\\\"]\"} + $META_OBJ" "${META[@]}")" \
  "$(sdata b-keymeta)"
expect_eq "secretTemplate: its stringData is the Secret's data" \
  "$(want '{USERNAME: "app", PASSWORD: "pw-s3cr3t", URI: "postgres://app@db:5432/postgresql", TAGS: "[\"postgresql\",\"sql\"]"}')" \
  "$(sdata b-tpl)"
expect_eq "secretTemplate: its labels and annotations are on the Secret, its type Opaque" \
  "small si Opaque" \
  "$(kn get secret b-tpl -o json | jq -r '"\(.metadata.labels.service_plan) \(.metadata.annotations.instance) \(.type)"')"
expect_eq "secretTemplate without stringData: the secretKey layout stays, the annotation is added" \
  "$(want '{"creds.json": "{\"password\":\"pw-s3cr3t\",\"port\":5432,\"user\":\"app\"}"}') secretKey kept" \
  "$(sdata b-tplkey) $(kn get secret b-tplkey -o jsonpath='{.metadata.annotations.shape}')"
expect_eq "servicebinding.io: type from the class's first tag, provider from its providerDisplayName" \
  "$(want '{user: "app", password: "pw-s3cr3t", port: "5432", type: "postgresql", provider: "E2E Corp"}')" "$(sdata b-sbio)"
expect_eq "servicebinding.io: secretType makes the Secret of type servicebinding.io/postgresql" \
  "servicebinding.io/postgresql" "$(kn get secret b-sbio -o jsonpath='{.type}')"
expect_eq "servicebinding.io: the binding's own type and provider, beside a secretKey; type Opaque" \
  "$(want '{"creds.json": "{\"password\":\"pw-s3cr3t\",\"port\":5432,\"user\":\"app\"}", type: "mysql", provider: "me"}') Opaque" \
  "$(sdata b-sbio-own) $(kn get secret b-sbio-own -o jsonpath='{.type}')"
expect_eq "every Ready binding has status.binding.name, its Secret (the Provisioned Service duck type)" \
  "b-default b-key b-root b-both b-meta b-keymeta b-tpl b-tplkey b-sbio b-sbio-own" \
  "$(for b in b-default b-key b-root b-both b-meta b-keymeta b-tpl b-tplkey b-sbio b-sbio-own; do of servicebinding "$b" .status.binding.name; done | tr '\n' ' ' | sed 's/ $//')"

# --- a template that fails ---------------------------------------------------------------------------
eventually 20 bready b-badtpl "False ErrorInjectingBindResult"
expect_eq "b-badtpl: Ready False ErrorInjectingBindResult" "False ErrorInjectingBindResult" "$(cond servicebinding b-badtpl Ready)"
expect_match "... the message names the template's line and column" \
  "spec.secretTemplate: line 3 column 9: '\.credentials\.nope' has no value" "$(cmsg servicebinding b-badtpl Ready)"
expect_eq "... no condition of any binding holds the password" "" \
  "$(kn get servicebindings -o json | jq -r '.items[].status.conditions[]?.message' | grep -F pw-s3cr3t)"
expect_eq "... and no Secret was written for it" "" "$(kn get secret b-badtpl -o name 2>/dev/null)"

# --- the instance as a Provisioned Service ------------------------------------------------------------
expect_eq "si has no status.binding before it names a binding" "null" "$(of serviceinstance si .status.binding)"
expect_ok "annotate si with bindery.dev/servicebinding=b-sbio" kn annotate serviceinstance si bindery.dev/servicebinding=b-sbio
ibinding() { [ "$(of serviceinstance si .status.binding.name)" = "$1" ]; }
eventually 20 ibinding b-sbio
expect_eq "si: status.binding.name is the Secret of b-sbio" "b-sbio" "$(of serviceinstance si .status.binding.name)"
SB_SECRET=$(of serviceinstance si .status.binding.name)
expect_eq "... which holds the type and provider entries the spec requires" "postgresql E2E Corp" \
  "$(kn get secret "$SB_SECRET" -o json | jq -r '.data.type, .data.provider | @base64d' | tr '\n' ' ' | sed 's/ $//')"
expect_ok "annotate si with bindery.dev/servicebinding=b-sbio-own" kn annotate --overwrite serviceinstance si bindery.dev/servicebinding=b-sbio-own
eventually 20 ibinding b-sbio-own
expect_eq "si: status.binding.name follows the annotation" "b-sbio-own" "$(of serviceinstance si .status.binding.name)"
expect_ok "delete b-sbio-own (30 s)" kn delete servicebinding b-sbio-own --timeout=30s
inobinding() { [ "$(of serviceinstance si .status.binding)" = null ]; }
eventually 20 inobinding
expect_eq "si: no status.binding once that binding is gone" "null" "$(of serviceinstance si .status.binding)"

# --- the end ------------------------------------------------------------------------------------------
expect_ok "delete every binding (30 s)" kn delete servicebindings --all --timeout=30s
expect_ok "delete the instance (30 s)" kn delete serviceinstances --all --timeout=30s
expect_eq "the bindings' Secrets are gone with them" "" \
  "$(kn get secrets -o json | jq -r '.items[] | select(.metadata.name | startswith("b-")) | .metadata.name')"
echo "# t-secret-shapes: journey took $((SECONDS - T0)) s"
e2e_done
