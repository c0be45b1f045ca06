{{/* Labels of every object; "component" names the daemon. */}}
{{- define "bindery.labels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/part-of: bindery
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* The selector: a subset of the labels that never changes. */}}
{{- define "bindery.selector" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The container securityContext both daemons run with. */}}
{{- define "bindery.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "bindery.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The controller's rules for the namespaced kinds: in the ClusterRole, or with `namespaces`
     in a Role in each of them. */}}
{{- define "bindery.namespacedRules" -}}
- apiGroups: ["servicecatalog.k8s.io"]
  resources: ["servicebrokers"]
  verbs: ["get", "list", "watch", "update"]
- apiGroups: ["servicecatalog.k8s.io"]
  resources: ["serviceclasses", "serviceplans"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: ["servicecatalog.k8s.io"]
  resources: ["serviceinstances"]
  verbs: ["get", "list", "watch", "update"]
- apiGroups: ["servicecatalog.k8s.io"]
  resources: ["servicebindings"]
  verbs: ["get", "list", "watch", "update", "delete"]
- apiGroups: ["servicecatalog.k8s.io"]
  resources:
    - servicebrokers/status
    - serviceclasses/status
    - serviceplans/status
    - serviceinstances/status
    - servicebindings/status
  verbs: ["update"]
# a binding's Secret has an owner reference with blockOwnerDeletion: clusters with the
# OwnerReferencesPermissionEnforcement admission plugin require this
- apiGroups: ["servicecatalog.k8s.io"]
  resources: ["servicebindings/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# credential rotation, opt-in (bindery.dev/restart-on-rotation): the workloads that use a
# rotated binding's Secret are found and their pod template annotated, so they roll
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["list", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}
