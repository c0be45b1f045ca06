#!/bin/bash
# A broker whose answers the controller cannot read (test/e2e/fixtures/hostile-broker.py, a
# script on loopback) and a catalog-controller: a bind answered 201 with JSON cut short or with
# "credentials" that are a string gives no Secret and no Ready=True but Failed=True
# ServiceBindingReturnedFailure and an unbind at the broker (orphan mitigation); a provision
# answered 201 with bytes after the JSON or with 17 MiB (over the 16 MiB cap) starts orphan
# mitigation (a deprovision at the broker) and is never ProvisionedSuccessfully; a last_operation
# with an unknown state or an HTML page gives Ready=False ErrorPollingLastOperation. The password
# the broker put in those answers is in no condition, Event or log line. A readable bind still
# binds, and a real credential is written as the broker sent it (0.1, not 0.10000000000000001).
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
command -v python3 >/dev/null 2>&1 || { e2e_not_ok "setup: python3 runs the hostile broker" "python3 on the PATH" "missing"; exit 1; }
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
SECRET=s3cr3t-hostile
CLS=$ID-hostile

# --- daemons and the broker ----------------------------------------------------------------------
_e2e_start_daemon hb broker python3 "$top_srcdir/test/e2e/fixtures/hostile-broker.py" --catalog-id "$ID" ||
  { e2e_not_ok "the hostile broker starts" "a port file" "$E2E_DAEMON_ERR"; exit 1; }
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
B=e2e-hostile-$ID
e2e_register_broker "$B" "$hb_URL" pw || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }

# --- helpers -------------------------------------------------------------------------------------
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
cond() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | "\(.status) \(.reason)"' 2>/dev/null; }
cmsg() { oj "$1" "$2" | jq -r --arg t "$3" '.status.conditions[]? | select(.type == $t) | .message' 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
extid() { oj "$1" "$2" | jq -r '.spec.externalID // ""'; }
ev() { kn get events --field-selector "involvedObject.name=$2" -o json 2>/dev/null |
         jq -r --arg k "$1" '.items[] | select(.involvedObject.kind == $k) | "\(.type) \(.reason): \(.message)"'; }
has_ev() { grep -Fq -- "$3" <<<"$(ev "$1" "$2")"; }
# hb_saw METHOD PATH-SUBSTRING: the hostile broker logged such a request
hb_saw() { grep -q -- "^$1 [^ ]*$2" "$E2E_TMP/hb/log"; }
never_secret() { # WHAT TEXT
  if grep -Fq -- "$SECRET" <<<"$2"; then e2e_not_ok "$1 does not quote the broker's bytes" "no '$SECRET'" "$(grep -F -- "$SECRET" <<<"$2" | head -n 3)"
  else e2e_ok "$1 does not quote the broker's bytes"; fi
}

e2e_sc_teardown   # bindings and instances deleted before the harness's teardown (lib.sh)

si() { printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: %s}\nspec: {clusterServiceClassExternalName: %s, clusterServicePlanExternalName: %s}\n' "$1" "$CLS" "$2"; }
sb() { printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceBinding\nmetadata: {name: %s}\nspec: {instanceRef: {name: %s}}\n' "$1" "$2"; }
expect_ok "create 8 instances (one per hostile plan) and 4 bindings" kn apply -f - <<YAML
$(si i-ok ok)
$(si i-bs bind-string)
$(si i-bok bind-ok)
$(si i-junk prov-junk)
$(si i-huge prov-huge)
$(si i-weird async-weird)
$(si i-html async-html)
$(si i-bk bind-badkey)
$(sb b-badkey i-bk)
$(sb b-cut i-ok)
$(sb b-str i-bs)
$(sb b-good i-bok)
YAML

# --- binds answered 201 with what cannot be read ---------------------------------------------------
for b in b-cut b-str; do
  eventually 30 cond_is servicebinding "$b" Failed "True ServiceBindingReturnedFailure"
  expect_eq "$b: Failed True ServiceBindingReturnedFailure" "True ServiceBindingReturnedFailure" "$(cond servicebinding "$b" Failed)"
  bid=$(extid servicebinding "$b")
  eventually 15 hb_saw DELETE "/service_bindings/$bid"
  expect_ok "$b: unbound at the broker (orphan mitigation)" hb_saw DELETE "/service_bindings/$bid"
  eventually 15 cond_is servicebinding "$b" Ready "False OrphanMitigationSuccessful"
  expect_eq "$b: Ready False OrphanMitigationSuccessful" "False OrphanMitigationSuccessful" "$(cond servicebinding "$b" Ready)"
  expect_fail_with "$b: no Secret was written" 'NotFound|not found' kn get secret "$b"
done
expect_match "b-cut: the failure says the answer was not JSON, where and how long" \
  "Error binding: the broker's response to bind was not valid JSON \\(line 1, column [0-9]+, [0-9]+ bytes\\)" \
  "$(cmsg servicebinding b-cut Failed)"
expect_match "b-str: the failure says the credentials are a string" \
  "the broker's response to bind has \"credentials\" that are a string, not a JSON object" "$(cmsg servicebinding b-str Failed)"
expect_ok "b-cut: a Warning Event ServiceBindingNeedsOrphanMitigation" has_ev ServiceBinding b-cut "the broker's response to bind was not valid JSON"

# --- a readable bind still binds ------------------------------------------------------------------
eventually 30 cond_is servicebinding b-good Ready "True InjectedBindResult"
expect_eq "b-good: Ready True InjectedBindResult" "True InjectedBindResult" "$(cond servicebinding b-good Ready)"
expect_eq "b-good: the Secret's ratio is 0.1 as the broker sent it" "0.1" \
  "$(kn get secret b-good -o jsonpath='{.data.ratio}' 2>/dev/null | base64 -d)"

# --- provisions answered 201 with what cannot be read ---------------------------------------------
for i in i-junk i-huge; do
  iid=$(extid serviceinstance "$i")
  eventually 40 hb_saw DELETE "/service_instances/$iid"
  expect_ok "$i: deprovisioned at the broker (orphan mitigation)" hb_saw DELETE "/service_instances/$iid"
  eventually 10 has_ev ServiceInstance "$i" StartingInstanceOrphanMitigation
  expect_ok "$i: a Warning Event StartingInstanceOrphanMitigation" has_ev ServiceInstance "$i" "Warning StartingInstanceOrphanMitigation"
  expect_no_match "$i: never ProvisionedSuccessfully" ProvisionedSuccessfully "$(ev ServiceInstance "$i") $(cond serviceinstance "$i" Ready)"
done
expect_ok "i-junk: the Event says the answer was not JSON" has_ev ServiceInstance i-junk \
  "Error provisioning the instance: the broker's response to provision was not valid JSON (line 1, column"
expect_ok "i-huge: the Event says the answer was over the cap" has_ev ServiceInstance i-huge \
  "Error provisioning the instance: the broker's response to provision was larger than 16777216 bytes"

# --- last_operation answered 200 with what cannot be read -----------------------------------------
for i in i-weird i-html; do
  eventually 20 cond_is serviceinstance "$i" Ready "False ErrorPollingLastOperation"
  expect_eq "$i: Ready False ErrorPollingLastOperation" "False ErrorPollingLastOperation" "$(cond serviceinstance "$i" Ready)"
done
expect_match "i-weird: the message says the state is unknown, not what it is" \
  "Error polling the Provision operation: the broker's response to last_operation has a \"state\" of 14 bytes that is not" \
  "$(cmsg serviceinstance i-weird Ready)"
expect_match "i-html: the message says the answer was not JSON" \
  "the broker's response to last_operation was not valid JSON \\(line 1, column 1, [0-9]+ bytes\\)" "$(cmsg serviceinstance i-html Ready)"
expect_eq "i-weird: still polled (asyncOpInProgress)" true "$(oj serviceinstance i-weird | jq -r .status.asyncOpInProgress)"

# --- a credential key that is not a Secret key: described, never quoted --------------------------
eventually 30 cond_is servicebinding b-badkey Ready "False ErrorInjectingBindResult"
expect_eq "b-badkey: Ready False ErrorInjectingBindResult" "False ErrorInjectingBindResult" "$(cond servicebinding b-badkey Ready)"
expect_match "b-badkey: the message says which key (its position and length) is not a Secret key" \
  "credentials key 1 of 1 \\(17 bytes\\) is not a valid Secret key" "$(cmsg servicebinding b-badkey Ready)"
expect_fail_with "b-badkey: no Secret was written" 'NotFound|not found' kn get secret b-badkey

# --- nothing the broker sent is quoted --------------------------------------------------------------
never_secret "the status of every instance and binding" "$(kn get serviceinstances,servicebindings -o json | jq -c '.items[].status')"
never_secret "every Event" "$(kn get events -o json | jq -r '.items[].message')"
never_secret "the controller's log" "$(cat "$E2E_TMP/ctl/log")"
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
e2e_done
