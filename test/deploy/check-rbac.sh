#!/bin/sh
# test/deploy/check-rbac.sh: the ClusterRole and Role of deploy/controller/rbac.yaml grant
# exactly what catalog-controller uses. The used (group, resource, verb) triples are extracted
# from catalog-controller/*.c: every kapi_*/kube_* request call, its resource argument resolved
# through kube/client.c's kube_resource definitions, local kube_resource constants, the
# flavour tables of offering.c, the informer kinds main.c starts (list and watch) and pass_run()
# callers. A resource expression it cannot resolve is a failure (teach the resolver, do not
# guess). Fails on any verb granted but unused, or used but not granted.
# Output: "ok - ..." / "not ok - ..." lines, then "N passed, M failed".
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v python3 >/dev/null 2>&1 || { echo "not ok - python3 is installed (apt-get install python3-yaml)"; echo "0 passed, 1 failed"; exit 1; }
exec python3 - "$top_srcdir" <<'PY'
import glob, os, re, sys
top = sys.argv[1]
passed = failed = 0
def ok(what):
    global passed; passed += 1; print("ok - " + what)
def not_ok(what, detail=""):
    global failed; failed += 1; print("not ok - " + what)
    for l in detail.splitlines(): print("#   " + l)
def finish():
    print("%d passed, %d failed" % (passed, failed)); sys.exit(1 if failed else 0)
try:
    import yaml
except ImportError:
    not_ok("PyYAML is installed", "apt-get install python3-yaml"); finish()

def read(p):
    with open(p) as f: return f.read()
def strip_comments(s):
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", s, flags=re.S)

# --- kube_resource definitions: kube/client.c (with its SC macro) and locals in the controller
KR = re.compile(r'(?:static\s+)?const\s+struct\s+kube_resource\s+(\w+)\s*=\s*\{([^}]*)\}')
def resources_of(text, macros):
    out = {}
    for name, body in KR.findall(text):
        for m, v in macros.items(): body = re.sub(r'\b%s\b' % m, v, body)
        strs = re.findall(r'"([^"]*)"', body)
        if len(strs) >= 3: out[name] = (strs[0], strs[2])
    return out
client = strip_comments(read(os.path.join(top, "kube/client.c")))
macros = {m: v for m, v in re.findall(r'#define\s+(\w+)\s+("[^\n]*)', client)}
known = resources_of(client, macros)
if not known: not_ok("kube/client.c defines kube_resource constants"); finish()

srcs = {os.path.basename(p): strip_comments(read(p)) for p in sorted(glob.glob(os.path.join(top, "catalog-controller/*.c")))}
local = {}
for f, t in srcs.items():
    local.update(resources_of(t, macros))

def res_ref(name):
    r = known.get(name) or local.get(name)
    return {r} if r else set()

# flavour tables: .broker_res = &kube_x, ...
flavour = {}
for f, t in srcs.items():
    for field, ref in re.findall(r'\.(\w+_res)\s*=\s*&(\w+)', t):
        flavour.setdefault(field, set()).update(res_ref(ref))
# informer kinds: const struct informer_kind NAME = {"Kind", &kube_x, extract, free, ...}, defined
# by the files that own the callbacks; the ones main.c starts informers with (by NAME) are listed
# and watched
informer_kinds = set()
kind_defs = {}
for f, t in srcs.items():
    for name, ref in re.findall(r'\bconst\s+struct\s+informer_kind\s+(\w+)\s*=\s*\{\s*"[A-Z]\w*"\s*,\s*&(\w+)\s*,', t):
        kind_defs[name] = ref
for name in set(re.findall(r'&(\w+)', srcs.get("main.c", ""))) & set(kind_defs):
    informer_kinds |= res_ref(kind_defs[name])
# pass_run(c, key, "Kind", &kube_x, ...); the broker reconciler's pass_run() names fl->broker_res
spass = set()
for f, t in srcs.items():
    for ref in re.findall(r'\bpass_run\s*\([^;]*?"\w+"\s*,\s*&(\w+)', t):
        spass |= res_ref(ref)

# Names a resource expression goes by inside a function, mapped to where its values come from.
# Each entry is checked: it must be used in that file, and what it points to must resolve.
ALIASES = {
    ("reconcile_broker.c", "res"): lambda: flavour.get("class_res", set()) | flavour.get("plan_res", set()),
    ("pass.c", "res"): lambda: spass | flavour.get("broker_res", set()),
    ("pass.c", "p->res"): lambda: spass | flavour.get("broker_res", set()),
    # the workloads told of a credential rotation: its table of the three apps/v1 kinds
    ("workloads.c", "kinds[k].res"): lambda: res_ref("deployments") | res_ref("statefulsets") | res_ref("daemonsets"),
}

def resolve(f, expr):
    e = re.sub(r"\s+", "", expr)
    m = re.fullmatch(r"&(\w+)", e)
    if m: return res_ref(m.group(1))
    m = re.fullmatch(r"(?:\w+(?:->|\.))*fl->(\w+_res)", e)
    if m: return set(flavour.get(m.group(1), set()))
    if re.fullmatch(r"(?:\w+->)*kind->res", e): return set(informer_kinds)
    if (f, e) in ALIASES: return set(ALIASES[(f, e)]())
    return set()

def split_args(text, start):
    depth, args, cur, i = 0, [], "", start
    while i < len(text):
        c = text[i]
        if c in "([{": depth += 1
        elif c in ")]}":
            if depth == 0: args.append(cur); return args
            depth -= 1
        if c == "," and depth == 0: args.append(cur); cur = ""
        else: cur += c
        i += 1
    return args

CALL = re.compile(r'\b(kapi|kube)_(get|create|update_status|update|patch|delete|list|watch)\s*\(')
used = {}   # (group, resource, verb) -> "file: call"
unresolved = []
for f, t in srcs.items():
    if f == "kapi.c":     # the counted wrappers themselves
        continue
    for m in CALL.finditer(t):
        # a definition or declaration, not a call
        line_start = t.rfind("\n", 0, m.start()) + 1
        if re.fullmatch(r'\s*(?:static\s+)?(?:int|void|json_t\s*\*)\s*', t[line_start:m.start()]): continue
        args = split_args(t, m.end())
        if len(args) < 2: continue
        verb = m.group(2)
        sub = None
        if verb == "update_status": verb, sub = "update", "status"
        if verb == "patch" and len(args) > 4 and args[4].strip() not in ("NULL", ""):
            sub = args[4].strip().strip('"')
        rs = resolve(f, args[1])
        where = "%s: %s_%s(..., %s, ...)" % (f, m.group(1), m.group(2), args[1].strip())
        if not rs:
            unresolved.append(where); continue
        for g, r in rs:
            used.setdefault((g, r + ("/" + sub if sub else ""), verb), where)

# A Secret created with an owner reference that sets blockOwnerDeletion needs "update" on the
# owner's finalizers subresource (OwnerReferencesPermissionEnforcement). Owners by file:
OWNER_BY_FILE = {"reconcile_binding.c": ("servicecatalog.k8s.io", "servicebindings"),
                 "binding_secret.c": ("servicecatalog.k8s.io", "servicebindings"),
                 "reconcile_rotation.c": ("servicecatalog.k8s.io", "servicebindings")}
for f, t in srcs.items():
    if re.search(r'"blockOwnerDeletion"\s*,\s*(1|true)\b', t):
        if f in OWNER_BY_FILE:
            g, r = OWNER_BY_FILE[f]
            used.setdefault((g, r + "/finalizers", "update"), f + ": blockOwnerDeletion")
        else:
            unresolved.append(f + ": an owner reference with blockOwnerDeletion (which owner? add it to OWNER_BY_FILE)")

for (f, e), fn in ALIASES.items():
    if f not in srcs or not re.search(r'\b(?:kapi|kube)_\w+\s*\([^;]*?,\s*%s\s*,' % re.escape(e), srcs[f]):
        not_ok("alias %s in %s is still used (else remove it from ALIASES)" % (e, f))
    elif not fn():
        not_ok("alias %s in %s resolves to resources" % (e, f))
if unresolved:
    not_ok("every resource argument of the controller's API calls resolves", "\n".join(unresolved))
else:
    ok("every resource argument of the controller's API calls resolves (%d triples)" % len(used))
if len(informer_kinds) >= 8: ok("found the informer kinds main.c starts (%d)" % len(informer_kinds))
else: not_ok("found the informer kinds main.c starts", "only %r" % sorted(informer_kinds))

# --- what deploy/controller/rbac.yaml grants
rbac_path = os.path.join(top, "deploy/controller/rbac.yaml")
docs = [d for d in yaml.safe_load_all(read(rbac_path)) if d]
granted = {}
roles = {}
for d in docs:
    if d["kind"] in ("ClusterRole", "Role"):
        roles[(d["kind"], d["metadata"]["name"])] = d
        for rule in d.get("rules", []):
            for g in rule.get("apiGroups", []):
                for r in rule.get("resources", []):
                    for v in rule.get("verbs", []):
                        if "*" in (g, r, v):
                            not_ok("%s %s grants no wildcard" % (d["kind"], d["metadata"]["name"]), repr(rule))
                        granted.setdefault((g, r, v), "%s %s" % (d["kind"], d["metadata"]["name"]))
# every role is bound to the controller's ServiceAccount
for d in docs:
    if d["kind"] in ("ClusterRoleBinding", "RoleBinding"):
        ref = (d["roleRef"]["kind"], d["roleRef"]["name"])
        subj = [(s.get("kind"), s.get("name"), s.get("namespace")) for s in d.get("subjects", [])]
        if ref in roles and ("ServiceAccount", "catalog-controller", "bindery-system") in subj:
            roles[ref]["bound"] = True
for (k, n), d in roles.items():
    if d.get("bound"): ok("%s %s is bound to ServiceAccount bindery-system/catalog-controller" % (k, n))
    else: not_ok("%s %s is bound to ServiceAccount bindery-system/catalog-controller" % (k, n))

def fmt(t): return "%s %s %s" % (t[0] or "core", t[1], t[2])
for t in sorted(used):
    if t in granted: ok("used and granted: " + fmt(t))
    else: not_ok("used but not granted: " + fmt(t), "used by " + used[t])
for t in sorted(granted):
    if t not in used: not_ok("granted but unused: " + fmt(t), "granted by " + granted[t])
finish()
PY
