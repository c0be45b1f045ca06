# test/deploy/manifests.py: YAML helpers for check-manifests.sh (PyYAML), one command per use:
#   kinds FILE                     "apiVersion kind namespace name" per document
#   filter FILE SERVED OUT SKIPPED documents whose "group/version kind" is in SERVED (one per
#                                  line) go to OUT, the others' "apiVersion kind name" to SKIPPED
#   get FILE KIND NAME             that document as JSON
#   chartdata CHART VALUES OUT [JSON-OVERRIDES]  the renderer's data file (values deep-merged)
#   rbac FILE                      the sorted (kind, namespace, group, resource, verb,
#                                  resourceNames) grants of the controller's roles (not the
#                                  servicebinding.io aggregated ClusterRole), as JSON
#   yaml2json FILE                 the first document as JSON
#   check FILE                     nothing, or an error (exit 1) when a mapping key is given twice
#   undocumented FILE              "CRD path" of every schema field of its CRDs without a
#                                  description (metadata excepted: structural schemas forbid one)
import json, sys, yaml

class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice, as Bindery's own YAML reader and
    kubectl's strict decoding do (PyYAML keeps the last one silently)."""
    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, "duplicate mapping key %r" % (key,),
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)

def docs(path):
    with open(path) as f:
        return [d for d in yaml.load_all(f, Loader=UniqueKeyLoader) if d]

def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict): merge(a[k], v)
        else: a[k] = v
    return a

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "check":
    docs(args[0])
elif cmd == "kinds":
    for d in docs(args[0]):
        md = d.get("metadata", {})
        print(d["apiVersion"], d["kind"], md.get("namespace", "-"), md["name"])
elif cmd == "filter":
    served = set(open(args[1]).read().split("\n"))
    keep, skipped = [], []
    for d in docs(args[0]):
        (keep if "%s %s" % (d["apiVersion"], d["kind"]) in served else skipped).append(d)
    with open(args[2], "w") as f: yaml.safe_dump_all(keep, f)
    with open(args[3], "w") as f:
        for d in skipped: f.write("%s %s %s\n" % (d["apiVersion"], d["kind"], d["metadata"]["name"]))
elif cmd == "get":
    for d in docs(args[0]):
        if d["kind"] == args[1] and d["metadata"]["name"] == args[2]:
            print(json.dumps(d)); break
    else: sys.exit(1)
elif cmd == "chartdata":
    chart = yaml.safe_load(open(args[0] + "/Chart.yaml"))
    values = yaml.safe_load(open(args[1]))
    if len(args) > 3: merge(values, json.loads(args[3]))
    with open(args[2], "w") as f:
        json.dump({"Values": values, "Chart": {"Name": chart["name"], "Version": chart["version"],
                                               "AppVersion": str(chart.get("appVersion", ""))}}, f)
elif cmd == "rbac":
    out = set()
    for d in docs(args[0]):
        # the ClusterRole a servicebinding.io runtime aggregates is not the controller's
        if ((d["metadata"].get("labels") or {}).get("servicebinding.io/controller") == "true"):
            continue
        if d["kind"] in ("ClusterRole", "Role"):
            for r in d.get("rules", []):
                for g in r.get("apiGroups", []):
                    for res in r.get("resources", []):
                        for v in r.get("verbs", []):
                            out.add((d["kind"], d["metadata"].get("namespace", ""), g, res, v,
                                     ",".join(sorted(r.get("resourceNames", [])))))
    print(json.dumps(sorted(out)))
elif cmd == "undocumented":
    def walk(name, s, path):
        for k, v in (s.get("properties") or {}).items():
            if path == "" and k == "metadata":
                continue
            if not v.get("description"):
                print(name, path + "." + k)
            walk(name, v, path + "." + k)
        if isinstance(s.get("items"), dict): walk(name, s["items"], path + "[]")
        if isinstance(s.get("additionalProperties"), dict): walk(name, s["additionalProperties"], path + "{}")
    for d in docs(args[0]):
        if d["kind"] == "CustomResourceDefinition":
            for v in d["spec"]["versions"]:
                walk(d["metadata"]["name"], v["schema"]["openAPIV3Schema"], "")
elif cmd == "yaml2json":
    print(json.dumps(docs(args[0])[0]))
else:
    sys.exit("unknown command " + cmd)
