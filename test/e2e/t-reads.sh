#!/bin/bash
# Reads: lists with label selectors (=, ==, !=, in, notin, exists, !exists), field selectors
# (metadata.name, metadata.namespace), across all namespaces (-A) or one, paging with
# limit/continue, and bad selectors.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_install_fixture_crds
ns2=$(uniq_name e2e-reads-other)
kc create namespace "$ns2" >/dev/null 2>&1
e2e_cleanup_add namespace "$ns2"
run=e2e.bindery.dev/run=$E2E_ID

mk() { # mk NAMESPACE NAME LABELS...
  local ns=$1 name=$2; shift 2
  kc -n "$ns" create configmap "$name" --from-literal=k=v >/dev/null 2>&1 &&
    kc -n "$ns" label configmap "$name" set=e2e "$run" "$@" >/dev/null 2>&1
}
expect_ok "create r1 (app=web, tier=front)" mk "$E2E_NS" r1 app=web tier=front
expect_ok "create r2 (app=web, tier=back)" mk "$E2E_NS" r2 app=web tier=back
expect_ok "create r3 (app=db)" mk "$E2E_NS" r3 app=db
expect_ok "create r4 (no app, no tier)" mk "$E2E_NS" r4
expect_ok "create r1 in a second namespace" mk "$ns2" r1 app=web tier=front

# names [ARGS...]: sorted names of the configmaps kubectl get lists (in our namespace).
names() { kn get cm "$@" -o name 2>&1 | sed 's|^configmap/||' | sort | tr '\n' ' ' | sed 's/ $//'; }

expect_eq "-l set=e2e: all four" "r1 r2 r3 r4" "$(names -l set=e2e)"
expect_eq "-l app=web" "r1 r2" "$(names -l set=e2e,app=web)"
expect_eq "-l app==web" "r1 r2" "$(names -l set=e2e,app==web)"
expect_eq "-l app!=web (includes objects without app)" "r3 r4" "$(names -l 'set=e2e,app!=web')"
expect_eq "-l 'tier in (front,back)'" "r1 r2" "$(names -l 'set=e2e,tier in (front,back)')"
expect_eq "-l 'tier notin (front)' (includes objects without tier)" "r2 r3 r4" "$(names -l 'set=e2e,tier notin (front)')"
expect_eq "-l tier (exists)" "r1 r2" "$(names -l set=e2e,tier)"
expect_eq "-l '!tier' (does not exist)" "r3 r4" "$(names -l 'set=e2e,!tier')"
expect_eq "-l app=web,tier=back (all must hold)" r2 "$(names -l set=e2e,app=web,tier=back)"
expect_eq "-l app=nothing: none" "" "$(names -l set=e2e,app=nothing)"
expect_eq "--selector with spaces around operators" "r1 r2" "$(names --selector 'set = e2e, app in (web)')"

expect_eq "--field-selector metadata.name=r3" r3 "$(names --field-selector metadata.name=r3)"
expect_eq "--field-selector metadata.name==r3" r3 "$(names --field-selector metadata.name==r3)"
expect_eq "--field-selector metadata.name!=r3 with a label selector" "r1 r2 r4" "$(names -l set=e2e --field-selector metadata.name!=r3)"
expect_eq "--field-selector metadata.name=r1 and -l tier=back: none" "" "$(names -l tier=back --field-selector metadata.name=r1)"
expect_eq "field selector on a custom resource's name" "" "$(kn get widgets --field-selector metadata.name=none -o name 2>&1)"

# across namespaces
expect_ok "kubectl get cm -A -l (both namespaces)" kc get cm -A -l "$run"
expect_match "-A: a NAMESPACE column" '^NAMESPACE +NAME +DATA +AGE$' "$OUT"
expect_match "-A: r1 in our namespace" "^$E2E_NS +r1 +1 +" "$OUT"
expect_match "-A: r1 in the second namespace" "^$ns2 +r1 +1 +" "$OUT"
expect_eq "-A: five objects" 5 "$(kc get cm -A -l "$run" -o name 2>&1 | wc -l)"
expect_eq "-A with --field-selector metadata.namespace" "$ns2/r1" \
  "$(kc get cm -A -l "$run" --field-selector metadata.namespace="$ns2" -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}' 2>&1)"
expect_eq "-A with --field-selector metadata.name=r1: both" "$E2E_NS/r1 $ns2/r1" \
  "$(kc get cm -A -l "$run" --field-selector metadata.name=r1 -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}' 2>&1 | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "-n second namespace: only its object" r1 "$(kc -n "$ns2" get cm -l "$run" -o name 2>&1 | sed 's|^configmap/||')"
kn create -f - >/dev/null 2>&1 <<YAML
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: lw1
  labels: {app: web, e2e.bindery.dev/run: "$E2E_ID"}
spec: {size: 1}
---
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: lw2
  labels: {app: db, e2e.bindery.dev/run: "$E2E_ID"}
spec: {size: 2}
YAML
expect_eq "custom resources: -A -l app=web" "$E2E_NS/lw1" \
  "$(kc get widgets -A -l "$run,app=web" -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}' 2>&1)"
expect_eq "custom resources: -l 'app notin (web)'" "widget.e2e.bindery.dev/lw2" "$(kn get widgets -l 'app notin (web)' -o name 2>&1)"

# lists: kind, apiVersion, resourceVersion; paging
if raw_usable; then
  raw GET "/api/v1/namespaces/$E2E_NS/configmaps?labelSelector=set%3De2e"
  expect_status "raw list" 200
  expect_eq "a list is a ConfigMapList v1 with items" "ConfigMapList v1 4" "$(jqr '.kind + " " + .apiVersion + " " + (.items|length|tostring)' <<<"$E2E_BODY" 2>&1)"
  expect_match "a list has a resourceVersion" '^[0-9]+$' "$(jqr .metadata.resourceVersion <<<"$E2E_BODY" 2>&1)"
  raw GET "/api/v1/namespaces/$E2E_NS/configmaps?labelSelector=set%3De2e&limit=3"
  expect_status "raw list with limit=3" 200
  page1=$(jqr '[.items[].metadata.name] | join(" ")' <<<"$E2E_BODY" 2>&1)
  cont=$(jqr '.metadata.continue // ""' <<<"$E2E_BODY" 2>&1)
  expect_eq "limit=3: three items" 3 "$(wc -w <<<"$page1")"
  expect_match "limit=3: a continue token" '.' "$cont"
  raw GET "/api/v1/namespaces/$E2E_NS/configmaps?labelSelector=set%3De2e&limit=3&continue=$(jq -rn --arg c "$cont" '$c|@uri')"
  page2=$(jqr '[.items[].metadata.name] | join(" ")' <<<"$E2E_BODY" 2>&1)
  expect_eq "the next page: the rest, no continue token" "1 " "$(wc -w <<<"$page2") $(jqr '.metadata.continue // ""' <<<"$E2E_BODY" 2>&1)"
  expect_eq "both pages together: every object once" "r1 r2 r3 r4" "$(echo $page1 $page2 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
  raw GET "/api/v1/namespaces/$E2E_NS/configmaps?labelSelector=app+in+(web"
  expect_status "a malformed label selector: 400 BadRequest" 400 BadRequest
  raw GET "/api/v1/namespaces/$E2E_NS/configmaps?fieldSelector=data.k%3Dv"
  expect_status "an unsupported field selector: 400 BadRequest" 400 BadRequest
else
  e2e_skip "raw lists" "no raw credentials"
fi
expect_eq "kubectl --chunk-size=1 follows continue tokens" "r1 r2 r3 r4" "$(names -l set=e2e --chunk-size=1)"
expect_fail_with "kubectl: a malformed label selector" 'unable to parse requirement|found .*, expected|BadRequest' kn get cm -l 'app in (web'
expect_fail_with "kubectl: an unsupported field selector" 'BadRequest|field label not supported' kn get cm --field-selector data.k=v

e2e_done
