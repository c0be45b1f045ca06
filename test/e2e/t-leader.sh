#!/bin/bash
# Issue 6, high availability and watch scope of catalog-controller: two (then three) controllers
# with --leader-elect and short durations (lease 8 s, renew deadline 6 s, retry 1 s) on one
# coordination.k8s.io Lease in the test's namespace. Exactly one holds it; only the holder
# reconciles (the standby's /metrics and log show no reconcile, its /readyz is 200); SIGKILL of
# the leader: the standby takes over within about one lease duration (a "# figure:" line),
# leaseTransitions goes up, and it provisions a new instance; SIGTERM of a leader releases the
# Lease and a standby takes it within about a retry period; a leader stopped (SIGSTOP) past its
# renew deadline exits non-zero as soon as it runs again (SIGCONT), while another has taken
# over; the broker sees exactly one provision per instance throughout. Then --namespaces: a
# controller watching namespaces A and C provisions an instance in each and leaves one in
# namespace B untouched (no status, no finalizer). The durations leave a loaded machine room: a
# renew that took 2.8 s made a leader with a 2 s renew deadline step down. (~45 s)
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
T0=$SECONDS
LEASE=catalog-controller-$ID
NS_B=e2e-leader-b-$ID; NS_C=e2e-leader-c-$ID
SVC=e2e-$ID-l-svc; CLS=e2e-ldb-$ID; PLAN=e2e-$ID-l-small
cat >"$E2E_TMP/b1.json" <<JSON
{"services":[{"id":"$SVC","name":"$CLS","description":"E2E leader election","bindable":true,
 "instances_retrievable":true,"plans":[{"id":"$PLAN","name":"small","description":"synchronous"}]}]}
JSON

PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker b1 --catalog "$E2E_TMP/b1.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"

# --- helpers -------------------------------------------------------------------------------------
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }
now_ms() { date +%s%3N; }
lease_json() { kn get lease "$LEASE" -o json 2>/dev/null; }
holder() { lease_json | jq -r '.spec.holderIdentity // ""'; }
transitions() { lease_json | jq -r '.spec.leaseTransitions // 0'; }
holder_is() { [ "$(holder)" = "$1" ]; }
holder_in() { local h; h=$(holder); [ -n "$h" ] && [[ " $* " == *" $h "* ]]; }
sij() { kc get serviceinstance "$2" -n "$1" -o json 2>/dev/null; }
ready() { [ "$(sij "$1" "$2" | jq -r '.status.conditions[]? | select(.type == "Ready") | "\(.status) \(.reason)"')" = "True ProvisionedSuccessfully" ]; }
extid() { sij "$1" "$2" | jq -r '.spec.externalID // ""'; }
# provisions ID: the PUTs of instance ID in the broker's log (all its runs)
provisions() { grep -cF -- " method=PUT path=/v2/service_instances/$1 " "$E2E_TMP/b1/log" 2>/dev/null || true; }
# leader_gauge PREFIX: catalog_controller_leader on its /metrics
leader_gauge() { metric_sum "$1" catalog_controller_leader; }
instance_reconciles() { metric_sum "$1" catalog_controller_reconcile_duration_seconds_count 'kind="ServiceInstance"'; }
si_yaml() { # NAMESPACE NAME
  printf -- '---\napiVersion: servicecatalog.k8s.io/v1beta1\nkind: ServiceInstance\nmetadata: {name: %s, namespace: %s}\nspec: {clusterServiceClassExternalName: %s, clusterServicePlanExternalName: small}\n' \
    "$2" "$1" "$CLS"
}
# exited PREFIX: the daemon has ended (its exit code in DIR/rc); it is marked stopped so that
# the teardown does not stop it again.
exited() { [ -e "$E2E_TMP/$1/rc" ] && : >"$E2E_TMP/$1/stopped"; }
rc_of() { cat "$E2E_TMP/$1/rc" 2>/dev/null || echo running; }
# Teardown before lib.sh's: while a controller still runs, the instances go (it deprovisions
# them); the instance outside the watched namespaces has no finalizer to wait for.
_leader_teardown() {
  local rc=$? ns left o
  for ns in "$E2E_NS" "$NS_B" "$NS_C"; do
    kc get namespace "$ns" -o name >/dev/null 2>&1 || continue
    kc delete serviceinstances --all -n "$ns" --timeout=30s >/dev/null 2>&1 && continue
    left=$(kc get serviceinstances -n "$ns" -o name 2>/dev/null)
    for o in $left; do kc patch "$o" -n "$ns" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1; done
    [ -z "$left" ] || e2e_not_ok "teardown: delete the serviceinstances in $ns" "deleted" "$left"
  done
  (exit $rc); e2e_teardown
}
trap _leader_teardown EXIT

LE=(--leader-elect --leader-elect-namespace "$E2E_NS" --leader-elect-name "$LEASE"
    --leader-elect-lease-duration 8s --leader-elect-renew-deadline 6s --leader-elect-retry-period 1s
    --max-retry-interval 2s)

# --- two candidates, one leader ------------------------------------------------------------------
tick "two candidates"
e2e_start_controller ca "${LE[@]}" --leader-elect-identity "ctl-a-$ID" || exit 1
e2e_start_controller cb "${LE[@]}" --leader-elect-identity "ctl-b-$ID" || exit 1
eventually 10 holder_in "ctl-a-$ID" "ctl-b-$ID"
LEADER=$(holder)
expect_match "one of the two holds Lease $LEASE" "^ctl-[ab]-$ID\$" "$LEADER"
if [ "$LEADER" = "ctl-a-$ID" ]; then L=ca; S=cb; SID=ctl-b-$ID; else L=cb; S=ca; SID=ctl-a-$ID; fi
J=$(lease_json)
expect_eq "... leaseDurationSeconds 8, leaseTransitions 0, acquireTime and renewTime set" "8 0 true true" \
  "$(jq -r '.spec | "\(.leaseDurationSeconds) \(.leaseTransitions) \(.acquireTime != null) \(.renewTime != null)"' <<<"$J")"
expect_eq "catalog_controller_leader: 1 on the leader, 0 on the standby" "1 0" "$(leader_gauge $L) $(leader_gauge $S)"
S_URL="${S}_URL"
expect_eq "the standby's /readyz is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${!S_URL}/readyz")"
expect_eq "... and its /healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${!S_URL}/healthz")"
expect_match "the standby logs the leader it observed" "msg=\"new leader observed\".* leader=$LEADER" "$(cat "$E2E_TMP/$S/log")"
expect_match "the leader logs its acquisition" "msg=\"leadership acquired\".* identity=$LEADER" "$(cat "$E2E_TMP/$L/log")"

B1=e2e-leader-$ID
e2e_register_broker "$B1" "$b1_URL" "$PW" || { echo "# the rest needs a Ready broker"; exit 1; }
expect_ok "create instance one" kc apply -f - <<<"$(si_yaml "$E2E_NS" one)"
eventually 15 ready "$E2E_NS" one
expect_eq "the leader provisions it: Ready True ProvisionedSuccessfully" 0 "$(ready "$E2E_NS" one; echo $?)"
expect_num_gt "the leader's /metrics counts ServiceInstance reconciles" "$(instance_reconciles $L | sed 's/none/0/')" 0
expect_eq "the standby's /metrics shows no reconcile" none \
  "$(metric_sum $S catalog_controller_reconcile_duration_seconds_count)"
expect_eq "... and no request for servicecatalog objects" none \
  "$(metric_sum $S catalog_controller_kube_requests_total 'resource="(serviceinstances|clusterservicebrokers|secrets)')"
expect_no_match "... and its log has no line about instance one" "kind=ServiceInstance .*name=one" "$(cat "$E2E_TMP/$S/log")"

# --- SIGKILL of the leader -----------------------------------------------------------------------
tick "SIGKILL of the leader"
TR0=$(transitions)
T_KILL=$(now_ms)
kill -KILL "$(cat "$E2E_TMP/$L/pid")"
eventually 30 holder_is "$SID"
T_TAKE=$(now_ms)
eventually 15 exited $L
expect_eq "the killed leader is gone (SIGKILL)" 137 "$(rc_of $L)"
expect_eq "the standby holds the Lease after the leader's SIGKILL" "$SID" "$(holder)"
echo "# figure: takeover after SIGKILL of the leader: $((T_TAKE - T_KILL)) ms (lease duration 8000 ms, retry period 1000 ms)"
# Expected: the lease duration plus at most a retry period (the figure above). Asserted is only a
# liveness bound, three lease durations, so a loaded CI machine cannot make it flaky.
expect_eq "... and does so (within 3 lease durations)" yes "$([ $((T_TAKE - T_KILL)) -le 24000 ] && echo yes || echo "no: $((T_TAKE - T_KILL)) ms")"
expect_eq "leaseTransitions went up by one" "$((TR0 + 1))" "$(transitions)"
eventually 5 test "$(leader_gauge $S)" = 1
expect_eq "the new leader's catalog_controller_leader is 1" 1 "$(leader_gauge $S)"
expect_ok "create instance two" kc apply -f - <<<"$(si_yaml "$E2E_NS" two)"
eventually 20 ready "$E2E_NS" two
expect_eq "the new leader provisions it" 0 "$(ready "$E2E_NS" two; echo $?)"
L=$S; LID=$SID

# --- SIGTERM of a leader releases the Lease ------------------------------------------------------
tick "SIGTERM of a leader"
e2e_start_controller cc "${LE[@]}" --leader-elect-identity "ctl-c-$ID" || exit 1
eventually 15 grep -q 'msg="new leader observed"' "$E2E_TMP/cc/log"
T_TERM=$(now_ms)
kill -TERM "$(cat "$E2E_TMP/$L/pid")"
eventually 30 holder_is "ctl-c-$ID"
T_TAKE=$(now_ms)
eventually 15 exited $L
expect_eq "the leader exits 0 on SIGTERM" 0 "$(rc_of $L)"
expect_match "... after releasing the Lease" "msg=\"leadership released\".* identity=$LID" "$(cat "$E2E_TMP/$L/log")"
expect_eq "the standby takes the released Lease" "ctl-c-$ID" "$(holder)"
echo "# figure: takeover after SIGTERM of the leader (released Lease): $((T_TAKE - T_TERM)) ms (retry period 1000 ms)"
# Without the release it would wait for the lease duration (8 s) after its last observation; the
# release itself is asserted above (the log line and the new holder), the time is a figure.
L=cc; LID=ctl-c-$ID

# --- a leader stopped past its renew deadline ----------------------------------------------------
tick "SIGSTOP of the leader"
e2e_start_controller cd "${LE[@]}" || exit 1     # the default identity: host name, '_', a suffix
eventually 15 grep -q 'msg="new leader observed"' "$E2E_TMP/cd/log"
T_STOP=$(now_ms)
kill -STOP "$(cat "$E2E_TMP/$L/pid")"
expect_ok "create instance three while the leader is stopped" kc apply -f - <<<"$(si_yaml "$E2E_NS" three)"
holder_on_host() { [[ "$(holder)" == "$(hostname)_"* ]]; }
eventually 30 holder_on_host
DID=$(holder)
expect_match "the other candidate takes over, with identity HOSTNAME_SUFFIX" "^$(hostname)_[0-9a-f]{8}\$" "$DID"
echo "# figure: takeover from a stopped leader: $(($(now_ms) - T_STOP)) ms"
eventually 15 ready "$E2E_NS" three
expect_eq "... and provisions instance three" 0 "$(ready "$E2E_NS" three; echo $?)"
sleep 1
T_CONT=$(now_ms)
kill -CONT "$(cat "$E2E_TMP/$L/pid")"
eventually 15 exited $L
echo "# figure: a leader past its renew deadline exits $(($(now_ms) - T_CONT)) ms after SIGCONT"
expect_eq "the stopped leader, continued, exits with status 1" 1 "$(rc_of $L)"
expect_match "... logging that it lost leadership" "level=error msg=\"leadership lost\".* identity=$LID" "$(cat "$E2E_TMP/$L/log")"
expect_no_match "... without reconciling instance three" "kind=ServiceInstance .*name=three" "$(cat "$E2E_TMP/$L/log")"
expect_eq "the new leader still holds the Lease" "$DID" "$(holder)"
for i in one two three; do
  expect_eq "the broker got exactly one provision for instance $i" 1 "$(provisions "$(extid "$E2E_NS" $i)")"
done

e2e_start_controller ce "${LE[@]}" --leader-elect-identity "ctl-e-$ID" || exit 1
eventually 15 grep -q 'msg="new leader observed"' "$E2E_TMP/ce/log"
e2e_stop_daemon ce
expect_eq "a standby stopped with SIGTERM leaves the Lease to the leader" "$DID" "$(holder)"
expect_no_match "... and releases nothing" 'msg="leadership (acquired|released)"' "$(cat "$E2E_TMP/ce/log")"

# --- watch scope ---------------------------------------------------------------------------------
tick "watch scope"
e2e_stop_daemon cd
expect_match "the last leader releases the Lease on SIGTERM" 'msg="leadership released"' "$(cat "$E2E_TMP/cd/log")"
expect_eq "... holderIdentity is empty" "" "$(holder)"
for ns in "$NS_B" "$NS_C"; do
  expect_ok "create namespace $ns" kc create namespace "$ns"
  e2e_cleanup_add "namespace $ns --wait=false"
done
# A is the test's namespace (with instances one, two, three), C a second watched one
e2e_start_controller cs --namespaces "$E2E_NS,$NS_C" --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$cs_URL/readyz"
expect_ok "create instances in-a, in-c (watched) and in-b (not watched)" kc apply -f - <<YAML
$(si_yaml "$E2E_NS" in-a)
$(si_yaml "$NS_C" in-c)
$(si_yaml "$NS_B" in-b)
YAML
eventually 15 ready "$E2E_NS" in-a
expect_eq "--namespaces=A,C: the instance in A is provisioned" 0 "$(ready "$E2E_NS" in-a; echo $?)"
eventually 10 ready "$NS_C" in-c
expect_eq "... and the one in C" 0 "$(ready "$NS_C" in-c; echo $?)"
expect_eq "the scoped controller caches the instances of A and C only (4 + 1)" 5 \
  "$(metric_sum cs catalog_controller_cached_objects 'kind="instances"' 2>/dev/null)"
sleep 2
expect_eq "... the one in B has no status and no finalizer" "null null" \
  "$(sij "$NS_B" in-b | jq -r '"\(.status.conditions // null) \(.metadata.finalizers // null)"')"
expect_eq "... no externalID was chosen for it" "" "$(extid "$NS_B" in-b)"
expect_no_match "... nor logged about it" "namespace=$NS_B" "$(cat "$E2E_TMP/cs/log")"
expect_eq "the scoped controller reports catalog_controller_leader 1 (no election)" 1 "$(leader_gauge cs)"

e2e_done
