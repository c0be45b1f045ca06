#!/bin/bash
# J2 at scale and at rest (issue 4): a ClusterServiceBroker whose osb-broker serves 1,000 plans
# (10 services of 100) becomes Ready with every class and plan listed; then the controller,
# idle with that broker registered, makes no write to the API server for a full minute: the
# write counters of its /metrics (catalog_controller_kube_requests_total, verbs create,
# update, patch, delete) do not move and, against the harness's own test server, neither does
# the server's resourceVersion (which any write anywhere would increase). Reports the
# controller's peak RSS (VmHWM) as a figure; it is not asserted.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
e2e_install_crds "$top_srcdir/deploy/crds"

ID=$E2E_ID
L=servicecatalog.k8s.io
IDLE=${E2E_IDLE_SECONDS:-60}
NSVC=10
NPLAN=100

# the catalog: services s0..s9, each with plans p000..p099, every plan with a small schema
jq -n --arg id "$ID" --argjson ns "$NSVC" --argjson np "$NPLAN" '{services: [range(0; $ns) as $s | {
    id: "e2e-\($id)-big-s\($s)", name: "e2e-big-\($id)-s\($s)", description: "service \($s) of \($ns)",
    bindable: true, tags: ["e2e", "big"], metadata: {displayName: "Big \($s)"},
    plans: [range(0; $np) as $p | {
      id: "e2e-\($id)-big-s\($s)-p\($p)", name: "p\($p)", description: "plan \($p) of service \($s)",
      free: ($p % 2 == 0), metadata: {bullets: ["plan \($p)"]},
      schemas: {service_instance: {create: {parameters: {"$schema": "http://json-schema.org/draft-04/schema#",
        type: "object", properties: {size: {type: "integer", minimum: 1, maximum: 100}}}}}}}]}]}' \
  >"$E2E_TMP/big.json"
expect_eq "generated catalog: $((NSVC * NPLAN)) plans" $((NSVC * NPLAN)) "$(jq '[.services[].plans[]] | length' "$E2E_TMP/big.json")"

PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker big --catalog "$E2E_TMP/big.json" --username admin --password "$PW" || exit 1
# the controller creates default/cluster-info (the cluster's id) when it is missing: ours then
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl || exit 1

B=e2e-big-$ID
e2e_cleanup_finalized "clusterservicebroker/$B"
t=$SECONDS
expect_ok "apply a Secret and a ClusterServiceBroker for the 1,000-plan broker" kc apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: big-auth
  namespace: $E2E_NS
type: Opaque
stringData:
  username: admin
  password: $PW
---
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ClusterServiceBroker
metadata:
  name: $B
spec:
  url: $big_URL
  authInfo:
    basic:
      secretRef:
        namespace: $E2E_NS
        name: big-auth
YAML
expect_ok "the broker becomes Ready (kubectl wait, 60 s)" kc wait --for=condition=Ready "clusterservicebroker/$B" --timeout=60s
sel="$L/spec.clusterServiceBrokerName=$(sha224 "$B")"
count() { kc get "$1" -l "$sel" -o name 2>/dev/null | wc -l; }
all_there() { [ "$(count clusterserviceplans)" -ge $((NSVC * NPLAN)) ]; }
eventually 30 all_there
echo "# $B: Ready and all plans listed after $((SECONDS - t)) s"
expect_eq "kubectl get clusterserviceclasses -l (broker): $NSVC classes" "$NSVC" "$(count clusterserviceclasses)"
expect_eq "kubectl get clusterserviceplans -l (broker): $((NSVC * NPLAN)) plans" $((NSVC * NPLAN)) "$(count clusterserviceplans)"
expect_match "a plan's row in kubectl get clusterserviceplans" \
  "^$(osb_k8s_name "e2e-$ID-big-s7-p42") +p42 +$B +$(osb_k8s_name "e2e-$ID-big-s7") +" \
  "$(kc get clusterserviceplans "$(osb_k8s_name "e2e-$ID-big-s7-p42")" 2>&1)"

# let the controller settle: its write counter unchanged over 3 s (at most 30 s)
w_prev=$(controller_writes ctl)
settled=0
for i in $(seq 1 10); do
  sleep 3
  w=$(controller_writes ctl)
  if [ "$w" = "$w_prev" ]; then settled=1; break; fi
  w_prev=$w
done
[ "$settled" = 1 ] || echo "# the controller's write counter kept moving for 30 s: $w_prev"
expect_match "the controller counts its writes (catalog_controller_kube_requests_total, write verbs)" '^[0-9]+$' "$w_prev"
expect_num_gt "... and it has written (the classes and plans)" "${w_prev:-0}" $((NSVC * NPLAN))

w0=$(controller_writes ctl)
osb0=$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$B\"")
[ "$E2E_REAL" = 0 ] && rv0=$(server_rv 2>&1)
echo "# idle for $IDLE s: writes $w0, catalog requests $osb0${rv0:+, server resourceVersion $rv0}"
sleep "$IDLE"
w1=$(controller_writes ctl)
osb1=$(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$B\"")
echo "# after: writes $w1, catalog requests $osb1"
expect_ok "the controller is alive after the idle minute" daemon_alive ctl
expect_eq "idle controller: no API writes in $IDLE s (write-verb counters of /metrics)" "$w0" "$w1"
expect_eq "idle controller: no catalog refetch in $IDLE s" "$osb0" "$osb1"
if [ "$E2E_REAL" = 0 ]; then
  rv1=$(server_rv 2>&1)
  echo "# server resourceVersion: $rv0 before, $rv1 after"
  expect_match "the test server's resourceVersion is a number" '^[0-9]+$' "$rv0"
  expect_eq "idle controller: the test server's resourceVersion did not move in $IDLE s (no writes at all)" "$rv0" "$rv1"
else
  e2e_skip "resourceVersion unchanged over the idle minute" "a real cluster has other writers"
fi
expect_eq "the broker is still Ready" True \
  "$(kc get clusterservicebroker "$B" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)"

hwm=$(proc_status_kb "$ctl_PID" VmHWM)
rss=$(proc_status_kb "$ctl_PID" VmRSS)
echo "# figure: catalog-controller peak RSS (VmHWM) with one broker of $((NSVC * NPLAN)) plans in $NSVC classes: ${hwm:-?} kB ($(( ${hwm:-0} / 1024 )) MiB); RSS now ${rss:-?} kB"
ohwm=$(proc_status_kb "$big_PID" VmHWM)
echo "# figure: osb-broker peak RSS (VmHWM) serving that catalog: ${ohwm:-?} kB"

# a controller restarted with everything already in place has nothing to write either
[ "$E2E_REAL" = 0 ] && rv2=$(server_rv 2>&1)
e2e_stop_daemon ctl
e2e_start_controller ctl || exit 1
eventually 30 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
expect_ok "the restarted controller is ready (caches synced)" curl -sf --max-time 5 -o /dev/null "$ctl_URL/readyz"
sleep 5
w=$(controller_writes ctl)
echo "# restarted controller, 5 s after ready: writes $w, catalog requests $(metric_sum ctl catalog_controller_osb_requests_total "broker=\"([^\"]*/)?$B\"")"
expect_match "a restarted controller with nothing to do makes no writes" '^(0|none)$' "$w"
if [ "$E2E_REAL" = 0 ]; then
  expect_eq "... and the test server's resourceVersion did not move" "$rv2" "$(server_rv 2>&1)"
fi

expect_ok "delete the broker (60 s)" kc delete clusterservicebroker "$B" --timeout=60s
gone() { [ "$(count clusterserviceplans)" -eq 0 ] && [ "$(count clusterserviceclasses)" -eq 0 ]; }
eventually 30 gone
expect_eq "its 1,000 plans and 10 classes are gone" "0 0" "$(count clusterserviceplans) $(count clusterserviceclasses)"
e2e_done
