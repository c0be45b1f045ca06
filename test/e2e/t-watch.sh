#!/bin/bash
# Watches: kubectl get -w, raw ?watch=true&resourceVersion= with ADDED/MODIFIED/DELETED,
# label-filtered watches, allowWatchBookmarks BOOKMARK events, 410 Gone for a too-old
# resourceVersion, and a clean end at timeoutSeconds.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_install_fixture_crds
CM=/api/v1/namespaces/$E2E_NS/configmaps
W=/apis/e2e.bindery.dev/v1alpha1/namespaces/$E2E_NS/widgets

# events FILE [NAME]: "TYPE name" per watch event in FILE (a raw watch stream), for NAME only.
events() { jq -r --arg n "${2:-}" 'select($n == "" or .object.metadata.name == $n) | .type + " " + (.object.metadata.name // "-")' "$1" 2>&1 | tr '\n' ',' | sed 's/,$//'; }

# kubectl get -w
kn create configmap sentinel --from-literal=k=v >/dev/null 2>&1
kc_bg "$E2E_TMP/kw.out" -n "$E2E_NS" get configmaps -w --output-watch-events
kw=$BG_PID
if wait_for_file_match 15 "$E2E_TMP/kw.out" '^ADDED +sentinel '; then e2e_ok "kubectl get -w: existing objects first, as ADDED"
else e2e_not_ok "kubectl get -w: existing objects first, as ADDED" "an ADDED line for sentinel" "$(cat "$E2E_TMP/kw.out")"; fi
kn create configmap wa --from-literal=k=1 >/dev/null 2>&1
kn patch configmap wa --type=merge -p '{"data":{"k":"2"}}' >/dev/null 2>&1
kn delete configmap wa >/dev/null 2>&1
wait_for_file_match 15 "$E2E_TMP/kw.out" '^DELETED +wa '
kill "$kw" 2>/dev/null
expect_eq "kubectl get -w: ADDED, MODIFIED, DELETED for wa" "ADDED MODIFIED DELETED" \
  "$(awk '$2 == "wa" { printf "%s%s", sep, $1; sep = " " }' "$E2E_TMP/kw.out")"
expect_match "kubectl get -w: the EVENT column" '^EVENT +NAME +DATA +AGE' "$(cat "$E2E_TMP/kw.out")"

# kubectl get -w on a custom resource
kc_bg "$E2E_TMP/kww.out" -n "$E2E_NS" get widgets -w --output-watch-events
kww=$BG_PID
sleep 1  # let the watch start: nothing exists to show that it has
kn create -f - >/dev/null 2>&1 <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: ww
spec:
  size: 1
YAML
patch_status widget/ww merge '{"status":{"phase":"Watched"}}' "$W/ww" >/dev/null 2>&1
kn delete widget ww >/dev/null 2>&1
wait_for_file_match 15 "$E2E_TMP/kww.out" '^DELETED +ww '
kill "$kww" 2>/dev/null
expect_eq "kubectl get widgets -w: ADDED, MODIFIED (status), DELETED" "ADDED MODIFIED DELETED" \
  "$(awk '$2 == "ww" { printf "%s%s", sep, $1; sep = " " }' "$E2E_TMP/kww.out")"
expect_match "kubectl get widgets -w: the printer columns, the status in PHASE" '^MODIFIED +ww +1 +blue +Watched +' "$(cat "$E2E_TMP/kww.out")"

if ! raw_usable; then
  e2e_skip "raw watches" "no raw credentials"
  e2e_done
fi

# raw watch from a resourceVersion
rv=$(kraw "$CM" 2>&1 | jqr .metadata.resourceVersion 2>&1)
raw_bg "$E2E_TMP/w1" GET "$CM?watch=true&resourceVersion=$rv&timeoutSeconds=15"
w1=$BG_PID
sleep 0.5
kn create configmap x --from-literal=k=1 >/dev/null 2>&1
kn label configmap x step=two >/dev/null 2>&1
kn delete configmap x >/dev/null 2>&1
wait_for_file_match 15 "$E2E_TMP/w1" '"DELETED"'
kill "$w1" 2>/dev/null
expect_eq "raw watch from the list's resourceVersion: ADDED, MODIFIED, DELETED, nothing older replayed" "ADDED x,MODIFIED x,DELETED x" "$(events "$E2E_TMP/w1")"
expect_eq "each event carries the whole object" "ConfigMap v1 1,ConfigMap v1 1,ConfigMap v1 1" \
  "$(jq -r '.object.kind + " " + .object.apiVersion + " " + .object.data.k' "$E2E_TMP/w1" 2>&1 | tr '\n' ',' | sed 's/,$//')"
expect_eq "MODIFIED carries the new state" two "$(jq -r 'select(.type == "MODIFIED") | .object.metadata.labels.step' "$E2E_TMP/w1" 2>&1)"
rvs=$(jq -r '.object.metadata.resourceVersion' "$E2E_TMP/w1" 2>&1 | tr '\n' ' ')
if printf '%s\n' $rvs | awk -v start="$rv" 'BEGIN { prev = start } !($1 ~ /^[0-9]+$/) || $1 + 0 <= prev + 0 { bad = 1 } { prev = $1 } END { exit bad }'; then
  e2e_ok "event resourceVersions increase, all after the start"
else
  e2e_not_ok "event resourceVersions increase, all after the start" "increasing numbers above $rv" "$rvs"
fi

# raw watch without a resourceVersion: the current state first, as ADDED
raw GET "$CM?watch=true&timeoutSeconds=1"
expect_status "raw watch without resourceVersion: 200" 200
expect_match "it starts with ADDED for what exists" '^ADDED sentinel$' "$(jq -r '.type + " " + .object.metadata.name' <<<"$E2E_BODY" 2>&1)"

# label-filtered watch
rv=$(kraw "$CM" 2>&1 | jqr .metadata.resourceVersion 2>&1)
raw_bg "$E2E_TMP/w2" GET "$CM?watch=true&resourceVersion=$rv&labelSelector=pick%3Dyes&timeoutSeconds=15"
w2=$BG_PID
sleep 0.5
kn create configmap notme --from-literal=k=1 >/dev/null 2>&1
kn create configmap me --from-literal=k=1 >/dev/null 2>&1
kn label configmap me pick=yes >/dev/null 2>&1
kn delete configmap me notme >/dev/null 2>&1
wait_for_file_match 15 "$E2E_TMP/w2" '"DELETED"'
kill "$w2" 2>/dev/null
expect_eq "a label-filtered watch: an object that starts to match is ADDED; others unseen" "ADDED me,DELETED me" "$(events "$E2E_TMP/w2")"

# custom resources, raw: status writes are MODIFIED events
rv=$(kraw "$W" 2>&1 | jqr .metadata.resourceVersion 2>&1)
raw_bg "$E2E_TMP/w3" GET "$W?watch=true&resourceVersion=$rv&timeoutSeconds=15"
w3=$BG_PID
sleep 0.5
kn create -f - >/dev/null 2>&1 <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: wr
spec:
  size: 1
YAML
patch_status widget/wr merge '{"status":{"phase":"One"}}' "$W/wr" >/dev/null 2>&1
kn delete widget wr >/dev/null 2>&1
wait_for_file_match 15 "$E2E_TMP/w3" '"DELETED"'
kill "$w3" 2>/dev/null
expect_eq "raw watch of widgets: ADDED, MODIFIED, DELETED" "ADDED wr,MODIFIED wr,DELETED wr" "$(events "$E2E_TMP/w3")"
expect_eq "the MODIFIED event has the new status" One "$(jq -r 'select(.type == "MODIFIED") | .object.status.phase' "$E2E_TMP/w3" 2>&1)"

# bookmarks
rv=$(kraw "$CM" 2>&1 | jqr .metadata.resourceVersion 2>&1)
# Bookmarks are not guaranteed: "clients should not assume bookmarks are returned at any specific
# interval, nor can clients assume that the API server will send any BOOKMARK event even when
# requested" (https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks), and
# kube-apiserver's watch cache sends one only with a resourceVersion newer than the watch's
# (cacheWatcher drops what is not newer). So a ConfigMap changes while the watch runs; the test
# server (like kube-apiserver) then sends a BOOKMARK within its bookmark period: there it must
# arrive. On a real cluster only a BOOKMARK that comes is checked: the resource's kind and only a
# resourceVersion.
raw_bg "$E2E_TMP/bm" GET "$CM?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=4"
bm_pid=$BG_PID
sleep 0.5
kn create configmap bm-trigger --from-literal=k=v >/dev/null 2>&1
wait_pid "$bm_pid" 15 >/dev/null
expect_eq "watch with allowWatchBookmarks: a complete response with the ConfigMap's ADDED" "0 ADDED bm-trigger" \
  "$(cat "$E2E_TMP/bm.rc" 2>&1) $(events "$E2E_TMP/bm" bm-trigger)"
bm=$(jq -c 'select(.type == "BOOKMARK")' "$E2E_TMP/bm" 2>&1 | head -n 1)
if [ "$E2E_REAL" = 0 ]; then
  expect_match "a BOOKMARK event arrives before timeoutSeconds (after a newer resourceVersion)" '"BOOKMARK"' "$bm"
elif [ -z "$bm" ]; then
  e2e_ok "no BOOKMARK within 4 s: allowed on a real server (bookmarks are not guaranteed)"
fi
if [ -n "$bm" ]; then
  expect_eq "the BOOKMARK's object: kind ConfigMap, only a resourceVersion" "ConfigMap true" \
    "$(jq -r '.object.kind + " " + (.object.metadata.resourceVersion | test("^[0-9]+$") | tostring)' <<<"$bm" 2>&1)"
fi
raw GET "$CM?watch=true&resourceVersion=$rv&timeoutSeconds=2"
expect_eq "no BOOKMARK without allowWatchBookmarks (a watch stream, with no events)" "200 " \
  "$E2E_STATUS $(jq -r 'if .type then select(.type == "BOOKMARK") | "BOOKMARK" else "not a watch event: \(.kind)" end' <<<"$E2E_BODY" 2>&1)"

# a clean end at timeoutSeconds
t0=$(date +%s%N)
raw GET "$CM?watch=true&resourceVersion=$rv&timeoutSeconds=2"
rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
expect_eq "watch with timeoutSeconds=2: a complete 200 response" "0 200" "$rc $E2E_STATUS"
if [ "$ms" -ge 1500 ] && [ "$ms" -le 8000 ]; then e2e_ok "... that ends at about 2 s"
else e2e_not_ok "... that ends at about 2 s" "between 1.5 s and 8 s" "${ms} ms"; fi
expect_match "a watch streams JSON" '^[Cc]ontent-[Tt]ype: application/json' "$E2E_HEADERS"
# A watch is streamed: its length is not known up front, so no Content-Length. Over HTTP/1.1
# that means chunked; kube-apiserver speaks HTTP/2 to curl over TLS (ALPN h2), where the body
# is a sequence of DATA frames and Transfer-Encoding does not exist (RFC 9113 section 8.2.2
# forbids it), so chunked is asserted only for an HTTP/1.1 response.
expect_no_match "... streamed: no Content-Length" '^[Cc]ontent-[Ll]ength:' "$E2E_HEADERS"
if printf '%s\n' "$E2E_HEADERS" | head -n 1 | grep -q '^HTTP/1'; then
  expect_match "... chunked (HTTP/1.1)" '^[Tt]ransfer-[Ee]ncoding: chunked' "$E2E_HEADERS"
else
  expect_match "... over HTTP/2: DATA frames, no Transfer-Encoding" '^HTTP/2' "$(printf '%s\n' "$E2E_HEADERS" | head -n 1)"
fi
expect_ok "kubectl get --raw of a watch with timeoutSeconds ends cleanly" kraw "$CM?watch=true&resourceVersion=$rv&timeoutSeconds=1"

# 410 Gone for a resourceVersion older than the server's history. Some churn first, more than
# the 1000 events a server may keep, so that even one with a long history has let RV 1 go.
kn create configmap churn --from-literal=i=0 >/dev/null 2>&1
for i in $(seq 1 1050); do
  printf '%s' "$E2E_RAW_CFG"
  printf 'url = "%s"\nrequest = "PATCH"\nheader = "Content-Type: application/merge-patch+json"\ndata = "{\\"data\\":{\\"i\\":\\"%d\\"}}"\noutput = "/dev/null"\n' "$E2E_SERVER$CM/churn" "$i"
  [ "$i" -lt 1050 ] && echo next
done >"$E2E_TMP/churn.cfg"
curl -sS --max-time 60 -K "$E2E_TMP/churn.cfg" >/dev/null 2>&1  # one connection, 1050 requests
expect_eq "churn: 1050 updates" 1050 "$(kn get cm churn -o jsonpath='{.data.i}' 2>&1)"
raw GET "$CM?watch=true&resourceVersion=1&timeoutSeconds=5"
gone=$(
  if [ "$E2E_STATUS" = 410 ]; then jqr '"status \(.code) \(.reason)"' <<<"$E2E_BODY" 2>&1
  else jq -r 'select(.type == "ERROR") | "event \(.object.code) \(.object.reason)"' <<<"$E2E_BODY" 2>&1 | head -n 1; fi)
expect_match "watch from a too-old resourceVersion: 410 (Expired/Gone), as the response or an ERROR event" '^(status|event) 410 (Expired|Gone)$' "$gone"
OUT=$(kraw "$CM?watch=true&resourceVersion=1&timeoutSeconds=5" 2>&1); rc=$?
if { [ $rc -ne 0 ] && grep -Eq '^Error from server \((Expired|Gone)\)' <<<"$OUT"; } ||
   { [ $rc -eq 0 ] && [ "$(jq -r 'select(.type == "ERROR") | .object.code' <<<"$OUT" 2>/dev/null | head -n 1)" = 410 ]; }; then
  e2e_ok "kubectl get --raw of that watch: Expired/Gone"
else
  e2e_not_ok "kubectl get --raw of that watch: Expired/Gone" "an error (Expired) or (Gone), or an ERROR event with code 410" "exit $rc: $OUT"
fi

e2e_done
