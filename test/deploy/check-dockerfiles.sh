#!/bin/sh
# test/deploy/check-dockerfiles.sh: deploy/docker/Dockerfile.broker and Dockerfile.controller
# are right without a container engine. It parses each Dockerfile and checks the invariants
# (two stages, both FROM debian:bookworm-slim; the build stage installs the -dev packages of
# build-aux/setup.sh, the runtime stage none; a numeric non-root USER; ENTRYPOINT, EXPOSE, no
# HEALTHCHECK; what the broker's VOLUME and CMD say), then runs the build stage's own commands
# (extracted from the Dockerfile, DESTDIR=/out pointed at a temporary directory) on a copy of
# the source tree, and checks that every "COPY --from=build" source was installed and that
# every shared library ldd reports for it (and every one it loads at run time: a soname it names
# that ldd does not list, found with ldconfig -p) comes from a runtime-stage package or what
# those packages (and the base image's required packages) depend on, mapped with dpkg -S. Finally the
# broker image's ENTRYPOINT + CMD is started (its paths pointed at a temporary directory).
# Output: "ok - ..." / "not ok - ..." lines, then "N passed, M failed".
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v python3 >/dev/null 2>&1 || { echo "not ok - python3 is installed"; echo "0 passed, 1 failed"; exit 1; }
exec python3 - "$top_srcdir" <<'PY'
import json, os, re, shlex, shutil, signal, subprocess, sys, tempfile, time, urllib.request
top = os.path.abspath(sys.argv[1])
passed = failed = 0
def ok(what):
    global passed; passed += 1; print("ok - " + what, flush=True)
def not_ok(what, detail=""):
    global failed; failed += 1; print("not ok - " + what, flush=True)
    for l in str(detail).splitlines()[-40:]: print("#   " + l)
def check(cond, what, detail=""):
    (ok if cond else not_ok)(what, *(() if cond else (detail,))); return cond
tmp = tempfile.mkdtemp(prefix="bindery-dockerfiles.")
def finish():
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed)); sys.exit(1 if failed else 0)

# ---- parsing: instructions (continuations joined, comments dropped), split into stages
def parse(path):
    stages, cur, buf = [], None, ""
    for line in open(path):
        s = line.rstrip("\n")
        if not buf and re.match(r"\s*#", s): continue
        if s.endswith("\\"): buf += s[:-1] + " "; continue
        s = (buf + s).strip(); buf = ""
        if not s: continue
        word, _, rest = s.partition(" ")
        word = word.upper(); rest = rest.strip()
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            cur = {"from": m.group(1) if m else rest, "name": m.group(2) if m else None, "ins": []}
            stages.append(cur)
        elif cur is None: stages.append({"from": None, "name": None, "ins": [(word, rest)]})
        else: cur["ins"].append((word, rest))
    return stages
def apt_packages(run):
    m = re.search(r"apt-get\s+install\s+([^&;|]*)", run)
    return [w for w in m.group(1).split() if not w.startswith("-")] if m else []
def exec_form(rest):
    try:
        v = json.loads(rest)
        return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None
    except ValueError: return None

setup = open(os.path.join(top, "build-aux/setup.sh")).read()
m = re.search(r'packages="([^"]*)"', setup)
setup_pkgs = re.sub(r"\$\{[^}]*\}", "", m.group(1)).split() if m else []
setup_dev = [p for p in setup_pkgs if p.endswith("-dev")]
check(setup_dev, "build-aux/setup.sh lists -dev packages", setup)
BUILD_TOOLS = {"build-essential", "autoconf", "automake", "pkg-config"}

images = {"broker": "deploy/docker/Dockerfile.broker", "controller": "deploy/docker/Dockerfile.controller"}
parsed = {}
for img, rel in images.items():
    path = os.path.join(top, rel)
    if not check(os.path.isfile(path), rel + " exists"): continue
    st = parse(path)
    parsed[img] = st
    check(len(st) == 2, "%s: two stages (build, runtime)" % rel, "%d stages" % len(st))
    if len(st) < 2: continue
    build, rt = st[0], st[-1]
    for i, s in enumerate(st):
        check(s["from"] == "debian:bookworm-slim", "%s: stage %d is FROM debian:bookworm-slim" % (rel, i + 1), s["from"])
    check(build["name"] == "build", "%s: the first stage is named build" % rel, build["name"])
    bpk = [p for w, r in build["ins"] if w == "RUN" for p in apt_packages(r)]
    check(set(setup_dev) <= set(bpk), "%s: the build stage installs every -dev package of setup.sh" % rel,
          "missing: %s" % sorted(set(setup_dev) - set(bpk)))
    check(set(bpk) <= set(setup_pkgs) and BUILD_TOOLS <= set(bpk),
          "%s: the build stage installs the build tools and nothing setup.sh does not list" % rel,
          "installs %s" % bpk)
    rpk = [p for w, r in rt["ins"] if w == "RUN" for p in apt_packages(r)]
    rt["packages"] = rpk
    check(rpk and not [p for p in rpk if p.endswith("-dev") or p in BUILD_TOOLS],
          "%s: the runtime stage installs packages, and no -dev package or build tool" % rel, rpk)
    users = [r for w, r in rt["ins"] if w == "USER"]
    check(users and re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", users[-1]) is not None,
          "%s: USER is numeric and not root" % rel, users)
    check(users and users[-1] == "65532:65532", "%s: USER 65532:65532" % rel, users)
    rt_runs = " ".join(r for w, r in rt["ins"] if w == "RUN")
    check(re.search(r"useradd\b.*--uid 65532", rt_runs) is not None, "%s: the runtime stage creates user 65532" % rel)
    check(not [w for s in st for w, r in s["ins"] if w == "HEALTHCHECK"], "%s: no HEALTHCHECK (Kubernetes probes do it)" % rel)
    check([r for w, r in rt["ins"] if w == "EXPOSE"], "%s: EXPOSEs its port" % rel)
    ep = [exec_form(r) for w, r in rt["ins"] if w == "ENTRYPOINT"]
    cmd = [exec_form(r) for w, r in rt["ins"] if w == "CMD"]
    rt["entrypoint"] = ep[-1] if ep else None
    rt["cmd"] = cmd[-1] if cmd else []
    copies = []
    for w, r in rt["ins"]:
        if w == "COPY":
            a = r.split()
            check(a[0] == "--from=build" and len(a) == 3,
                  "%s: runtime COPY takes one file from the build stage: %s" % (rel, r))
            if a[0] == "--from=build" and len(a) == 3: copies.append((a[1], a[2]))
    rt["copies"] = copies
    check(rt["entrypoint"] and rt["entrypoint"][0] in [d for s, d in copies],
          "%s: ENTRYPOINT (exec form) runs a copied binary" % rel, rt["entrypoint"])
    for s, d in copies:
        check(s.startswith("/out/"), "%s: COPY source %s is under DESTDIR /out" % (rel, s))
    if img == "broker":
        check([r for w, r in rt["ins"] if w == "VOLUME" and "/var/lib/osb-broker" in r], "%s: VOLUME /var/lib/osb-broker" % rel)
        c = " ".join(rt["cmd"] or [])
        check(re.search(r"--db[ =]/var/lib/osb-broker/\S+", c) and re.search(r"--listen[ =]0\.0\.0\.0", c),
              "%s: CMD defaults to --db /var/lib/osb-broker/... --listen 0.0.0.0" % rel, c)

# ---- the build stage, for real: its RUN commands after "COPY . /src", in a copy of the tree
def build_cmds(st):
    out, copied = [], False
    for w, r in st[0]["ins"]:
        if w == "COPY" and r.split()[0] == "." : copied = True; continue
        if w == "RUN" and copied: out.append(r)
    return out
cmds = {img: build_cmds(st) for img, st in parsed.items() if len(st) >= 2}
if len(set(tuple(c) for c in cmds.values())) != 1 or not list(cmds.values())[0]:
    not_ok("both Dockerfiles run the same build commands after COPY . /src (one build serves both)", repr(cmds)); finish()
ok("both Dockerfiles run the same build commands after COPY . /src")
run = list(cmds.values())[0]
check(all("DESTDIR=/out" in r or "install" not in r for r in run) and any("DESTDIR=/out" in r for r in run),
      "the build stage installs with make install DESTDIR=/out", run)

src, out = os.path.join(tmp, "src"), os.path.join(tmp, "out")
def tree_files():
    try:
        # only when top is itself a work tree's top (not a dist tree unpacked inside one)
        t = subprocess.run(["git", "-C", top, "rev-parse", "--show-toplevel"], capture_output=True, text=True)
        if t.returncode != 0 or os.path.realpath(t.stdout.strip()) != os.path.realpath(top):
            raise OSError("not a git work tree")
        r = subprocess.run(["git", "-C", top, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, check=True)
        return [f for f in r.stdout.decode().split("\0") if f and os.path.lexists(os.path.join(top, f))]
    except (OSError, subprocess.CalledProcessError):
        skip = re.compile(r"(^|/)(\.git|_build[^/]*|autom4te\.cache|\.deps)(/|$)|\.(o|a|log|trs)$|^(config\.status|config\.h|Makefile|stamp-h1)$")
        res = []
        for d, dirs, files in os.walk(top):
            for f in files:
                rel = os.path.relpath(os.path.join(d, f), top)
                if not skip.search(rel): res.append(rel)
        return res
for f in tree_files():
    os.makedirs(os.path.dirname(os.path.join(src, f)), exist_ok=True)
    s = os.path.join(top, f)
    if os.path.islink(s): os.symlink(os.readlink(s), os.path.join(src, f))
    else: shutil.copy2(s, os.path.join(src, f))
t0 = time.time()
for r in run:
    r2 = r.replace("DESTDIR=/out", "DESTDIR=" + shlex.quote(out))
    p = subprocess.run(["/bin/sh", "-c", r2], cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not check(p.returncode == 0, "the build stage's RUN succeeds outside a container: %s" % r,
                 p.stdout.decode(errors="replace")):
        finish()
print("# build stage: %.0f s" % (time.time() - t0))

# ---- what the runtime stages copy, and the libraries it needs
def dpkg_owner(path):
    cands = [path, os.path.realpath(path)]
    for c in list(cands):
        if c.startswith("/usr/"): cands.append(c[4:])
        else: cands.append("/usr" + c)
    for c in cands:
        p = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        for l in p.stdout.splitlines() if p.returncode == 0 else []:
            if not l.startswith("diversion by"):
                return l.split(":")[0].split(",")[0].strip()
    return None
def deps_of(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}, ${Pre-Depends}", pkg], capture_output=True, text=True)
    res = set()
    for alt in p.stdout.split(","):
        for a in alt.split("|"):
            name = a.strip().split(" ")[0].split(":")[0]
            if name: res.add(name)
    return res
def closure(pkgs):
    seen, todo = set(), list(pkgs)
    while todo:
        x = todo.pop()
        if x in seen: continue
        seen.add(x); todo.extend(deps_of(x) - seen)
    return seen
req = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Priority} ${Essential}\n"], capture_output=True, text=True).stdout
base = {l.split()[0] for l in req.splitlines() if len(l.split()) >= 2 and (l.split()[1] == "required" or l.split()[-1] == "yes")}
base_closure = closure(base)

ldconfig = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
for img, st in parsed.items():
    rt = st[-1]; rel = images[img]
    for p in rt["packages"]:
        q = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", p], capture_output=True, text=True)
        check("install ok installed" in q.stdout, "%s: runtime package %s exists in this Debian (installed here)" % (rel, p), q.stderr)
    allowed = closure(rt["packages"]) | base_closure
    direct_used = set()
    for s, d in rt["copies"]:
        f = os.path.join(out, s[len("/out/"):])
        if not check(os.path.isfile(f) and os.access(f, os.X_OK), "%s: %s was installed by make install DESTDIR=/out" % (rel, s)):
            continue
        head = open(f, "rb").read(4)
        if head[:2] == b"#!":
            interp = open(f, "rb").readline()[2:].decode().split()[0]
            check(dpkg_owner(interp) in base_closure, "%s: %s's interpreter %s is in the base image" % (rel, s, interp))
            continue
        p = subprocess.run(["ldd", f], capture_output=True, text=True)
        libs = re.findall(r"=>\s*(/\S+)", p.stdout)
        bad = []
        for lib in libs:
            owner = dpkg_owner(lib)
            if owner is None or owner not in allowed: bad.append("%s (%s)" % (lib, owner or "no package"))
            if owner in rt["packages"]: direct_used.add(owner)
        check(libs and not bad, "%s: every library of %s (%d) comes from the runtime packages or the base image" % (rel, s, len(libs)),
              "not covered: " + ", ".join(bad) if libs else p.stdout + p.stderr)
        # libraries loaded at run time (dlopen): a soname the binary names that ldd did not list
        linked = {os.path.basename(l) for l in libs}
        named = {m.decode() for m in re.findall(rb"lib[A-Za-z0-9_+-]+\.so\.[0-9]+", open(f, "rb").read())}
        for so in sorted(named - linked):
            m = re.search(r"^\s*%s \(.*\) => (\S+)$" % re.escape(so), ldconfig, re.M)
            owner = dpkg_owner(m.group(1)) if m else None
            if check(owner is not None and owner in allowed,
                     "%s: %s, which %s loads at run time, comes from the runtime packages" % (rel, so, s),
                     "found: %s (%s)" % (m.group(1) if m else "not installed here", owner or "no package")) and owner in rt["packages"]:
                direct_used.add(owner)
    extra = [p for p in rt["packages"] if p not in direct_used and p != "ca-certificates"]
    check(not extra, "%s: every runtime package provides a library a copied binary links" % rel, "unneeded: %s" % extra)
    if img == "controller":
        bins = sorted(f for f in os.listdir(os.path.join(out, "usr/bin")) if f.startswith("kubectl"))
        dst = [os.path.basename(d) for s, d in rt["copies"]]
        check(bins and set(bins) <= set(dst) and "catalog-controller" in dst,
              "%s: copies catalog-controller and every kubectl plugin make install installs" % rel,
              "installed: %s; copied: %s" % (bins, dst))

# ---- the broker image's ENTRYPOINT + CMD starts (paths under a temporary root)
st = parsed.get("broker")
if st and st[-1]["entrypoint"]:
    rt = st[-1]
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "var/lib/osb-broker"))
    with open(os.path.join(root, "password"), "w") as f: f.write("s3cret")
    argv = [os.path.join(out, rt["entrypoint"][0].lstrip("/"))] + rt["entrypoint"][1:] + \
           [a.replace("/var/lib/osb-broker", os.path.join(root, "var/lib/osb-broker")) for a in rt["cmd"]] + \
           ["--port=0", "--port-file=" + os.path.join(root, "port")]
    env = dict(os.environ, OSB_BROKER_USERNAME="u", OSB_BROKER_PASSWORD_FILE=os.path.join(root, "password"))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    port = None
    for _ in range(100):
        try:
            port = open(os.path.join(root, "port")).read().strip()
            if port: break
        except OSError: pass
        if proc.poll() is not None: break
        time.sleep(0.1)
    status = None
    if port:
        try: status = urllib.request.urlopen("http://127.0.0.1:%s/readyz" % port, timeout=5).status
        except Exception as e: status = str(e)
    proc.send_signal(signal.SIGTERM)
    try: log = proc.communicate(timeout=15)[0].decode(errors="replace")
    except subprocess.TimeoutExpired: proc.kill(); log = proc.communicate()[0].decode(errors="replace")
    check(status == 200, "the broker image's ENTRYPOINT and CMD start a broker that is ready (with credentials from the environment)",
          "argv: %s\nreadyz: %s\n%s" % (argv, status, log))
    check(os.path.exists(os.path.join(root, "var/lib/osb-broker/osb-broker.db")), "the broker keeps its database in the VOLUME directory")
finish()
PY
