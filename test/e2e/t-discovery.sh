#!/bin/bash
# Discovery: /version, /api, /api/v1, /apis, /apis/GROUP/VERSION (kinds, verbs, short names,
# categories, subresources), kubectl api-resources and api-versions, and resources appearing
# once a CRD is installed.
. "$(dirname "$0")/lib.sh"
e2e_setup

# /version
body=$(kraw /version 2>&1)
expect_match "/version has gitVersion" '^v[0-9]+\.[0-9]+\.[0-9]+' "$(jqr .gitVersion <<<"$body" 2>&1)"
expect_match "/version has a numeric major" '^[0-9]+$' "$(jqr .major <<<"$body" 2>&1)"
expect_match "/version has a minor" '^[0-9]+\+?$' "$(jqr .minor <<<"$body" 2>&1)"
expect_ok "kubectl version reaches the server" kc version -o json
expect_match "kubectl version reports a server version" '^v[0-9]+\.' "$(jqr .serverVersion.gitVersion <<<"$OUT" 2>&1)"

# /api
body=$(kraw /api 2>&1)
expect_eq "/api is an APIVersions" APIVersions "$(jqr .kind <<<"$body" 2>&1)"
expect_eq "/api lists v1" v1 "$(jqr '.versions[]' <<<"$body" 2>&1)"

# /api/v1: kinds, scope, verbs, short names, subresources of the core resources
body=$(kraw /api/v1 2>&1)
expect_eq "/api/v1 is an APIResourceList" "APIResourceList v1" "$(jqr '.kind + " " + .groupVersion' <<<"$body" 2>&1)"
res() { jqr --arg n "$1" '.resources[] | select(.name == $n) | '"$2" <<<"$body" 2>&1; }
for r in namespaces:Namespace:false:ns secrets:Secret:true: configmaps:ConfigMap:true:cm \
         events:Event:true:ev serviceaccounts:ServiceAccount:true:sa; do
  IFS=: read -r name kind namespaced short <<<"$r"
  expect_eq "/api/v1 $name: kind $kind, namespaced $namespaced" "$kind $namespaced" "$(res "$name" '.kind + " " + (.namespaced|tostring)')"
  expect_eq "/api/v1 $name: verbs" "create delete get list patch update watch" \
    "$(res "$name" '[.verbs[] | select(. != "deletecollection")] | sort | join(" ")')"
  [ -n "$short" ] && expect_match "/api/v1 $name: short name $short" "^$short\$" "$(res "$name" '.shortNames[]?')"
done
expect_eq "/api/v1 namespaces/status is a subresource of kind Namespace" Namespace "$(res namespaces/status .kind)"

# /apis: the groups, with preferred versions
body=$(kraw /apis 2>&1)
expect_eq "/apis is an APIGroupList" APIGroupList "$(jqr .kind <<<"$body" 2>&1)"
for gv in coordination.k8s.io/v1 apiextensions.k8s.io/v1; do
  g=${gv%/*}
  expect_match "/apis lists $gv" "^$gv\$" "$(jqr --arg g "$g" '.groups[] | select(.name == $g) | .versions[].groupVersion' <<<"$body" 2>&1)"
  expect_eq "/apis $g prefers $gv" "$gv" "$(jqr --arg g "$g" '.groups[] | select(.name == $g) | .preferredVersion.groupVersion' <<<"$body" 2>&1)"
done
body=$(kraw /apis/coordination.k8s.io 2>&1)
expect_eq "/apis/coordination.k8s.io is an APIGroup" "APIGroup coordination.k8s.io" "$(jqr '.kind + " " + .name' <<<"$body" 2>&1)"

body=$(kraw /apis/coordination.k8s.io/v1 2>&1)
expect_eq "/apis/coordination.k8s.io/v1 leases: kind Lease, namespaced" "Lease true" "$(res leases '.kind + " " + (.namespaced|tostring)')"
body=$(kraw /apis/apps/v1 2>&1)
for r in deployments:Deployment:deploy statefulsets:StatefulSet:sts daemonsets:DaemonSet:ds; do
  IFS=: read -r name kind short <<<"$r"
  expect_eq "/apis/apps/v1 $name: kind $kind, namespaced, short name $short, category all" "$kind true $short all" \
    "$(res "$name" '.kind + " " + (.namespaced|tostring) + " " + (.shortNames | join(",")) + " " + (.categories | join(","))')"
  expect_eq "/apis/apps/v1 $name/status is a subresource of kind $kind" "$kind" "$(res "$name/status" .kind)"
done
expect_eq "/apis/apps/v1 statefulsets/scale is an autoscaling/v1 Scale" "autoscaling v1 Scale" \
  "$(res statefulsets/scale '.group + " " + .version + " " + .kind')"
body=$(kraw /apis/apiextensions.k8s.io/v1 2>&1)
expect_eq "/apis/apiextensions.k8s.io/v1 customresourcedefinitions: kind, cluster scope" "CustomResourceDefinition false" \
  "$(res customresourcedefinitions '.kind + " " + (.namespaced|tostring)')"
expect_match "/apis/apiextensions.k8s.io/v1 customresourcedefinitions: short name crd" '^crd$' "$(res customresourcedefinitions '.shortNames[]?')"
expect_match "/apis/apiextensions.k8s.io/v1 customresourcedefinitions/status exists" '^CustomResourceDefinition$' "$(res customresourcedefinitions/status .kind)"

# A CRD's resources appear in discovery once it is installed
body=$(kraw /apis 2>&1)
if [ "$E2E_REAL" = 0 ]; then
  expect_no_match "/apis has no e2e.bindery.dev before the CRDs are installed" '^e2e\.bindery\.dev$' "$(jqr '.groups[].name' <<<"$body" 2>&1)"
fi
e2e_install_fixture_crds
# kube-apiserver updates discovery after a CRD is Established, not with it (its discovery and
# APIService registration controllers run from queues): wait for both resources to be listed
widgets_listed() {
  kraw /apis/e2e.bindery.dev/v1alpha1 | jq -e '[.resources[].name] | index("widgets") and index("gadgets")' &&
    kraw /apis | jq -e '.groups[] | select(.name == "e2e.bindery.dev")'
}
eventually 30 widgets_listed
body=$(kraw /apis 2>&1)
expect_eq "/apis lists e2e.bindery.dev/v1alpha1" e2e.bindery.dev/v1alpha1 \
  "$(jqr '.groups[] | select(.name == "e2e.bindery.dev") | .preferredVersion.groupVersion' <<<"$body" 2>&1)"
body=$(kraw /apis/e2e.bindery.dev/v1alpha1 2>&1)
expect_eq "/apis/e2e.bindery.dev/v1alpha1 is an APIResourceList" "APIResourceList e2e.bindery.dev/v1alpha1" \
  "$(jqr '.kind + " " + .groupVersion' <<<"$body" 2>&1)"
expect_eq "widgets: kind Widget, namespaced, singular widget" "Widget true widget" \
  "$(res widgets '.kind + " " + (.namespaced|tostring) + " " + .singularName')"
expect_eq "gadgets: kind Gadget, cluster-scoped" "Gadget false" "$(res gadgets '.kind + " " + (.namespaced|tostring)')"
expect_eq "widgets: verbs" "create delete deletecollection get list patch update watch" "$(res widgets '.verbs | sort | join(" ")')"
expect_eq "widgets: short name wdg" wdg "$(res widgets '.shortNames | join(",")')"
expect_eq "widgets: category bindery-e2e" bindery-e2e "$(res widgets '.categories | join(",")')"
expect_eq "widgets/status: kind Widget, verbs get patch update" "Widget get patch update" \
  "$(res widgets/status '.kind + " " + (.verbs | sort | join(" "))')"

# kubectl's view of it
expect_ok "kubectl api-resources" kc api-resources
expect_match "api-resources: configmaps, short name cm, v1, namespaced" '^configmaps +cm +v1 +true +ConfigMap$' "$OUT"
expect_match "api-resources: namespaces, cluster-scoped" '^namespaces +ns +v1 +false +Namespace$' "$OUT"
expect_match "api-resources: leases" '^leases +coordination\.k8s\.io/v1 +true +Lease$' "$OUT"
expect_match "api-resources: statefulsets, short name sts" '^statefulsets +sts +apps/v1 +true +StatefulSet$' "$OUT"
expect_match "api-resources: daemonsets, short name ds" '^daemonsets +ds +apps/v1 +true +DaemonSet$' "$OUT"
expect_match "api-resources: widgets, short name wdg" '^widgets +wdg +e2e\.bindery\.dev/v1alpha1 +true +Widget$' "$OUT"
expect_match "api-resources: gadgets, cluster-scoped" '^gadgets +gdg +e2e\.bindery\.dev/v1alpha1 +false +Gadget$' "$OUT"
expect_ok "kubectl api-resources --api-group=e2e.bindery.dev -o wide" kc api-resources --api-group=e2e.bindery.dev -o wide
# wide_verbs RESOURCE: the VERBS column of RESOURCE's line in $OUT (api-resources -o wide),
# sorted and joined by spaces. kubectl prints them in the server's order, "[a b c]" or (1.26+)
# "a,b,c"; kube-apiserver does not sort them (a CRD's are "delete deletecollection get list
# patch create update watch": apiextensions-apiserver customresource_discovery_controller.go),
# so they are compared as a set.
wide_verbs() {
  local line
  line=$(printf '%s\n' "$OUT" | grep -E "^$1 " | head -n 1)
  if [[ "$line" == *"["* ]]; then
    line=${line#*[}; line=${line%%]*}
    printf '%s\n' $line
  else
    printf '%s\n' $line | grep -E '^[a-z]+(,[a-z]+)+$' | tr , '\n'
  fi | sort | tr '\n' ' ' | sed 's/ $//'
}
expect_eq "api-resources -o wide: widgets' verbs (as a set)" "create delete deletecollection get list patch update watch" \
  "$(wide_verbs widgets)"
if [ "$E2E_KUBECTL_MINOR" -ge 26 ]; then  # the CATEGORIES column came with kubectl 1.26
  expect_match "api-resources -o wide: widgets' category" '^widgets .* bindery-e2e$' "$OUT"
fi
expect_ok "kubectl api-resources --namespaced=false" kc api-resources --namespaced=false -o name
expect_match "api-resources --namespaced=false has gadgets" '^gadgets\.e2e\.bindery\.dev$' "$OUT"
expect_no_match "api-resources --namespaced=false lacks widgets" '^widgets\.' "$OUT"
expect_ok "kubectl api-versions" kc api-versions
expect_match "api-versions: v1" '^v1$' "$OUT"
expect_match "api-versions: e2e.bindery.dev/v1alpha1" '^e2e\.bindery\.dev/v1alpha1$' "$OUT"
expect_match "api-versions: coordination.k8s.io/v1" '^coordination\.k8s\.io/v1$' "$OUT"

# short names and categories resolve in kubectl get
expect_ok "kubectl get cm (short name)" kn get cm
expect_ok "kubectl get wdg (CRD short name)" kn get wdg
expect_match "get wdg: nothing yet" 'No resources found' "$OUT"
kn create -f - >/dev/null 2>&1 <<'YAML'
apiVersion: e2e.bindery.dev/v1alpha1
kind: Widget
metadata:
  name: disco
spec:
  size: 2
YAML
expect_ok "kubectl get bindery-e2e (category)" kn get bindery-e2e -o name
expect_match "category bindery-e2e lists the widget" '^widget\.e2e\.bindery\.dev/disco$' "$OUT"

e2e_done
