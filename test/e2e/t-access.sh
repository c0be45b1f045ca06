#!/bin/bash
# Access: HTTPS with bearer tokens (no token or a wrong one: 401 Unauthorized, through kubectl
# and raw), the server's certificate checked against the kubeconfig's CA, and plain HTTP on
# loopback (a second, plain instance of the test server: harness only).
. "$(dirname "$0")/lib.sh"
e2e_setup

# the kubeconfig's credentials work
expect_ok "kubectl with the kubeconfig's credentials" kc get namespace "$E2E_NS" -o name
if ! raw_usable; then
  e2e_skip "raw HTTPS checks" "no token or client certificate in the kubeconfig"
else
  raw GET /api
  expect_status "raw HTTPS with the kubeconfig's CA and credentials: 200" 200

  case "$E2E_SERVER" in
    https://*)
      # wrong and missing tokens
      E2E_RAW_AUTH="Bearer not-a-valid-token-$E2E_ID" raw GET /api
      expect_status "a wrong bearer token: 401 Unauthorized" 401 Unauthorized
      E2E_RAW_AUTH="Bearer not-a-valid-token-$E2E_ID" raw GET "/api/v1/namespaces/$E2E_NS/configmaps"
      expect_status "a wrong bearer token on a resource: 401 Unauthorized" 401 Unauthorized
      E2E_RAW_AUTH="Bearer not-a-valid-token-$E2E_ID" raw POST "/api/v1/namespaces/$E2E_NS/configmaps" \
        -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"intruder"}}'
      expect_status "a write with a wrong token: 401 Unauthorized" 401 Unauthorized
      expect_fail_with "... and it wrote nothing" 'NotFound' kn get cm intruder
      # A Basic header is no credential kube-apiserver knows (basic auth was removed in 1.19):
      # no authenticator claims the request, so with anonymous auth on (the default,
      # --anonymous-auth=true) it goes on as system:anonymous, and /api is not granted to
      # system:unauthenticated (only system:public-info-viewer: /healthz, /version, ...): 403
      # Forbidden. A server with anonymous auth off, like the test server, says 401. See
      # https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests
      # ("requests that are not rejected by other configured authentication methods are treated
      # as anonymous requests"). A wrong bearer token above is rejected by the token
      # authenticator, hence 401 on both.
      E2E_RAW_AUTH="Basic $(printf 'admin:admin' | base64)" raw GET /api
      if [ "$E2E_STATUS" = 403 ]; then
        expect_status "basic auth is not a token: 403 Forbidden (anonymous auth on)" 403 Forbidden
        expect_match "... as system:anonymous" 'system:anonymous' "$E2E_BODY"
      else
        expect_status "basic auth is not a token: 401" 401 Unauthorized
      fi
      if [ "$E2E_REAL" = 0 ]; then
        E2E_RAW_AUTH=none raw GET /api
        expect_status "no token: 401 Unauthorized" 401 Unauthorized
        E2E_RAW_AUTH=none raw GET /version
        expect_status "no token, even for /version: 401 Unauthorized" 401 Unauthorized
        E2E_RAW_AUTH="bearer $E2E_TOKEN" raw GET /api
        expect_status "the Bearer scheme is case-insensitive" 200
        E2E_RAW_AUTH="Bearer $E2E_TOKEN2" raw GET /api
        expect_status "the token file's second user is accepted" 200
        E2E_RAW_AUTH="Bearer ${E2E_TOKEN}x" raw GET /api
        expect_status "a token with an extra character: 401" 401 Unauthorized
        E2E_RAW_AUTH="Bearer ${E2E_TOKEN%?}" raw GET /api
        expect_status "a token missing its last character: 401" 401 Unauthorized
      else
        E2E_RAW_AUTH=none raw GET "/api/v1/namespaces/$E2E_NS/configmaps"
        # A real cluster may allow anonymous requests and then forbid them (403).
        if [ "$E2E_STATUS" = 401 ]; then expect_status "no token: 401 Unauthorized" 401 Unauthorized
        else expect_status "no token: 403 Forbidden for system:anonymous (anonymous auth on)" 403 Forbidden; fi
      fi
      # TLS: the server's certificate must verify against the kubeconfig's CA
      if [ -s "$E2E_TMP/ca.pem" ]; then
        curl -sS --max-time 10 -o /dev/null "$E2E_SERVER/version" --cacert /dev/null 2>/dev/null
        rc=$?
        if [ $rc -eq 60 ] || [ $rc -eq 77 ] || [ $rc -eq 35 ]; then e2e_ok "without the CA the certificate does not verify"
        else e2e_not_ok "without the CA the certificate does not verify" "curl exit 60 (certificate problem)" "curl exit $rc"; fi
      fi
      ;;
    *) e2e_skip "HTTPS and token checks" "the cluster is not served over HTTPS" ;;
  esac
fi

# kubectl with a wrong token, and with none. The wrong token goes in a kubeconfig of its own,
# with the cluster's server and CA and nothing else: with --token on the command line kubectl
# would still send the kubeconfig's client certificate, if it has one, and a real kube-apiserver
# authenticates the certificate before it looks at the token.
bad_tls=()
[ -s "$E2E_TMP/ca.pem" ] || bad_tls=(--insecure-skip-tls-verify)
e2e_write_kubeconfig "$E2E_TMP/kubeconfig-badtoken" "$E2E_SERVER" "$([ -s "$E2E_TMP/ca.pem" ] && echo "$E2E_TMP/ca.pem")" \
  "not-a-valid-token-$E2E_ID"
expect_fail_with "kubectl with a wrong token: Unauthorized" 'You must be logged in to the server \(Unauthorized\)|Unauthorized' \
  kc --kubeconfig "$E2E_TMP/kubeconfig-badtoken" "${bad_tls[@]}" get configmaps -n "$E2E_NS"
expect_fail_with "kubectl with a wrong token cannot write" 'Unauthorized' \
  kc --kubeconfig "$E2E_TMP/kubeconfig-badtoken" "${bad_tls[@]}" create configmap intruder -n "$E2E_NS"
if [ "$E2E_REAL" = 0 ]; then
  # (kubectl with no credentials at all asks for a user name on stdin instead of sending the
  # request: give it a user name and password, which are no token either.)
  e2e_write_kubeconfig "$E2E_TMP/kubeconfig-basic" "$main_URL" "$E2E_TMP/tls/cert.pem"
  sed -i 's/^    {}$/    username: admin\n    password: admin/' "$E2E_TMP/kubeconfig-basic"
  expect_fail_with "kubectl with no token (basic auth instead): Unauthorized" 'You must be logged in to the server \(Unauthorized\)' \
    kc --kubeconfig "$E2E_TMP/kubeconfig-basic" get configmaps -n "$E2E_NS" </dev/null
  e2e_write_kubeconfig "$E2E_TMP/kubeconfig-noca" "$main_URL" "" "$E2E_TOKEN"
  expect_fail_with "kubectl without the CA: the certificate is not trusted" 'x509|certificate' \
    kc --kubeconfig "$E2E_TMP/kubeconfig-noca" get configmaps -n "$E2E_NS"
  expect_ok "kubectl --insecure-skip-tls-verify without the CA still authenticates with the token" \
    kc --kubeconfig "$E2E_TMP/kubeconfig-noca" --insecure-skip-tls-verify get configmaps -n "$E2E_NS"
else
  e2e_skip "kubectl with no token / without the CA" "real cluster"
fi

# plain HTTP on loopback: a second instance the harness starts without TLS or tokens
if [ "$E2E_REAL" = 1 ]; then
  e2e_skip "plain HTTP on loopback" "real cluster"
else
  if e2e_start_server plain; then
    e2e_ok "a plain-HTTP test server starts"
    expect_match "its URL is http on loopback" '^http://127\.0\.0\.1:[0-9]+$' "$plain_URL"
    code=$(curl -sS --max-time 10 -o "$E2E_TMP/plain.body" -w '%{http_code}' "$plain_URL/api/v1/namespaces")
    expect_eq "plain HTTP, no token needed: GET /api/v1/namespaces is 200" 200 "$code"
    expect_eq "... a NamespaceList" NamespaceList "$(jqr .kind <"$E2E_TMP/plain.body" 2>&1)"
    e2e_write_kubeconfig "$E2E_TMP/kubeconfig-plain" "$plain_URL"
    kp() { kc --kubeconfig "$E2E_TMP/kubeconfig-plain" "$@"; }
    expect_ok "kubectl over plain HTTP: create a namespace" kp create namespace plain-ns
    expect_ok "kubectl over plain HTTP: create a configmap" kp -n plain-ns create configmap over-http --from-literal=k=v
    expect_eq "kubectl over plain HTTP: read it back" v "$(kp -n plain-ns get cm over-http -o jsonpath='{.data.k}' 2>&1)"
    expect_fail_with "the plain instance is a separate server" 'NotFound' kn get cm over-http
    expect_fail_with "no TLS on the plain port" 'http|HTTP|tls|TLS|server gave|malformed|EOF' \
      kc --kubeconfig "$E2E_TMP/kubeconfig-plain" --server "${plain_URL/http:/https:}" --insecure-skip-tls-verify get ns
    code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${main_URL/https:/http:}/api" 2>/dev/null)
    if [ "$code" != 200 ]; then e2e_ok "the TLS instance does not answer plain HTTP with data"
    else e2e_not_ok "the TLS instance does not answer plain HTTP with data" "not 200" "$code"; fi
  fi
fi

e2e_done
