#!/bin/bash
# J3/J4 on a real database (issue 7): osb-broker's "postgresql" backend behind a
# catalog-controller, against a throw-away PostgreSQL server (test/lib/pg-server.sh, on
# 127.0.0.1). A ServiceInstance of the plan "small" (connection_limit 5, readwrite) is a new
# database with that connection limit (psql as the superuser); a ServiceBinding's Secret holds
# uri, host, port, database, username, password and jdbcUrl, and those credentials, read from
# the Secret with kubectl, open a real session: CREATE TABLE, INSERT, SELECT the row back,
# current_user and current_database() as the Secret says; the uri works too. Deleting the
# binding removes its Secret and its login role (the old credentials no longer log in); deleting
# the instance drops the database. A binding of the plan "readonly" can SELECT what the
# database's owner wrote, and is refused CREATE TABLE and INSERT.
# Against a real cluster ($KUBECONFIG) nothing is skipped: like t-instance.sh and t-binding.sh,
# the controller runs on this machine and reaches the broker on 127.0.0.1, and the broker and
# psql reach the PostgreSQL server on 127.0.0.1 too.
. "$(dirname "$0")/lib.sh"
e2e_setup
e2e_require_daemon "$OSB_BROKER" osb-broker
e2e_require_daemon "$CATALOG_CONTROLLER" catalog-controller
# without psql or a PostgreSQL server this test fails (it does not skip): apt-get install
# postgresql (server) postgresql-client (psql)
_e2e_require psql postgresql-client || exit 1

ID=$E2E_ID
# The class's external name carries the run's id, as in the other tests, so it never collides
# with a class a real cluster already offers.
CLASS=bindery-postgresql-$ID
T0=$SECONDS
PG_SH="$top_srcdir/test/lib/pg-server.sh"
PGSTATE="$E2E_TMP/pg"
B1=e2e-pg-$ID
PG_STARTED=0

# --- teardown ----------------------------------------------------------------------------------
# Before lib.sh's: bindings and instances deleted while the controller still runs (leftovers
# lose their finalizers, a failure, so the namespace never stays stuck); then the broker
# object, the controller and the broker; then the PostgreSQL server, whatever happened.
_pg_teardown() {
  local rc=$? kind left o
  if kc get namespace "$E2E_NS" -o name >/dev/null 2>&1; then
    for kind in servicebindings serviceinstances; do
      if daemon_alive ctl; then kc delete "$kind" --all -n "$E2E_NS" --timeout=30s >/dev/null 2>&1 && continue
      else kc delete "$kind" --all -n "$E2E_NS" --wait=false >/dev/null 2>&1; fi
      left=$(kn get "$kind" -o name 2>/dev/null)
      [ -n "$left" ] || continue
      for o in $left; do kn patch "$o" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1; done
      e2e_not_ok "teardown: delete the $kind" "deleted (the controller releases its finalizer)" "$left"
    done
  fi
  # (lib.sh deletes it again, --ignore-not-found, and removes its finalizer if it is still there)
  daemon_alive ctl && kc delete --ignore-not-found --timeout=20s "clusterservicebroker/$B1" >/dev/null 2>&1
  e2e_stop_daemon ctl
  e2e_stop_daemon pg1
  if [ "$PG_STARTED" = 1 ]; then
    expect_ok "teardown: the PostgreSQL server stops" bash "$PG_SH" stop "$PGSTATE"
  fi
  (exit $rc); e2e_teardown
}
trap _pg_teardown EXIT

# --- the PostgreSQL server -----------------------------------------------------------------------
tick() { echo "# t+$((SECONDS - T0)) s: $1"; }   # where the time goes (shown with E2E_VERBOSE=1)
tick "the PostgreSQL server"
# (its data directory is made by pg-server.sh under $TMPDIR, not in $E2E_TMP: run as root the
# server runs as 'postgres', which cannot enter $E2E_TMP)
if ! expect_ok "start a PostgreSQL server on 127.0.0.1 (test/lib/pg-server.sh)" bash "$PG_SH" start "$PGSTATE"; then
  [ -f "$PGSTATE/pg.env" ] && PG_STARTED=1
  exit 1
fi
PG_STARTED=1
# a watchdog: should this test be killed without its teardown, the server is stopped anyway
( while kill -0 "$E2E_PID" 2>/dev/null; do sleep 1; done
  [ -f "$PGSTATE/pg.env" ] && bash "$PG_SH" stop "$PGSTATE" ) </dev/null >/dev/null 2>&1 &
# shellcheck disable=SC1091
. "$PGSTATE/pg.env"   # PG_URL (the superuser's, database postgres), PG_PORT, PG_DATA, PG_BINDIR

# psql, bounded in time, no ~/.psqlrc, no ~/.pgpass, unaligned tuples only, stopping at the
# first error
pq() { PGCONNECT_TIMEOUT=5 PGPASSFILE=/dev/null timeout -k 2 20 psql -X -q -At -v ON_ERROR_STOP=1 "$@" </dev/null; }
# admin SQL...: as the superuser, in the database postgres; admin_in DB SQL...: in DB
admin() { local a=() s; for s in "$@"; do a+=(-c "$s"); done; pq -d "$PG_URL" "${a[@]}"; }
admin_in() { local db=$1 a=() s; shift; for s in "$@"; do a+=(-c "$s"); done; pq -d "${PG_URL%/*}/$db" "${a[@]}"; }
expect_eq "psql as the superuser" "1" "$(admin 'select 1' 2>&1)"
# the databases an instance made: every one but postgres and the templates, "name limit" each
user_dbs() { admin "select datname || ' ' || datconnlimit from pg_database where datname not in ('postgres', 'template0', 'template1') order by 1"; }
expect_eq "a fresh server: no database of an instance" "" "$(user_dbs 2>&1)"

# --- catalog, broker, controller -----------------------------------------------------------------
tick "catalog, broker, controller"
e2e_install_crds "$top_srcdir/deploy/crds"
SVC=e2e-$ID-pg; P_SMALL=e2e-$ID-pg-small; P_RO=e2e-$ID-pg-ro
cat >"$E2E_TMP/pg1.json" <<JSON
{"services":[
 {"id":"$SVC","name":"$CLASS","description":"PostgreSQL databases (e2e $ID)","bindable":true,
  "instances_retrievable":true,"bindings_retrievable":true,"plans":[
  {"id":"$P_SMALL","name":"small","description":"a database, 5 connections, read-write bindings",
   "x-bindery-backend":{"type":"postgresql","admin_url_file":"$PGSTATE/pg-admin-url","connection_limit":5,
                        "grants":"readwrite","async":"optional"}},
  {"id":"$P_RO","name":"readonly","description":"a database, 3 connections, read-only bindings",
   "x-bindery-backend":{"type":"postgresql","admin_url_file":"$PGSTATE/pg-admin-url","connection_limit":3,
                        "grants":"readonly","async":"optional"}}]}]}
JSON
jq -e . "$E2E_TMP/pg1.json" >/dev/null || { echo "# bad catalog"; exit 1; }
PW=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_start_broker pg1 --catalog "$E2E_TMP/pg1.json" --username admin --password "$PW" || exit 1
kc get configmap cluster-info -n default -o name >/dev/null 2>&1 || e2e_cleanup_add "configmap cluster-info -n default"
e2e_start_controller ctl --max-retry-interval 2s || exit 1
eventually 15 curl -sf --max-time 2 -o /dev/null "$ctl_URL/readyz"
e2e_register_broker "$B1" "$pg1_URL" "$PW" || { echo "# the rest of this test needs a Ready broker: it ends here"; exit 1; }
BSEL="servicecatalog.k8s.io/spec.clusterServiceBrokerName=$(sha224 "$B1")"
listed() { kc get "$1" -l "$BSEL" -o json 2>/dev/null | jq -r '[.items[].spec.externalName] | sort | join(" ")'; }
catalog_listed() { [ "$(listed clusterserviceclasses)|$(listed clusterserviceplans)" = "$CLASS|readonly small" ]; }
eventually 15 catalog_listed
expect_eq "the class $CLASS and its plans readonly and small are listed" "$CLASS|readonly small" \
  "$(listed clusterserviceclasses)|$(listed clusterserviceplans)"

# --- helpers -------------------------------------------------------------------------------------
oj() { kn get "$1" "$2" -o json 2>/dev/null; }
conds() { oj "$1" "$2" | jq -r '[.status.conditions[]? | "\(.type) \(.status) \(.reason)"] | join(";")' 2>/dev/null; }
cmsgs() { oj "$1" "$2" | jq -r '[.status.conditions[]? | "\(.type): \(.message)"] | join("\n")' 2>/dev/null; }
gone() { local out; out=$(kn get "$1" "$2" 2>&1); grep -Eq 'NotFound|not found' <<<"$out"; }
si_create() { # NAME PLAN
  kn create -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceInstance
metadata: {name: $1}
spec: {clusterServiceClassExternalName: $CLASS, clusterServicePlanExternalName: $2}
YAML
}
sb_create() { # NAME INSTANCE
  kn create -f - <<YAML
apiVersion: servicecatalog.k8s.io/v1beta1
kind: ServiceBinding
metadata: {name: $1}
spec: {instanceRef: {name: $2}}
YAML
}
# wait_ready KIND NAME: kubectl wait for Ready (40 s); on failure the conditions are shown
wait_ready() {
  expect_ok "$1 $2 becomes Ready (kubectl wait, 40 s)" kn wait --for=condition=Ready "$1/$2" --timeout=40s && return 0
  cmsgs "$1" "$2" | sed 's/^/#   /'; return 1
}
CRED_KEYS="database host jdbcUrl password port uri username"
# read_secret NAME ARRAY: the Secret's keys, decoded, into the associative array ARRAY
read_secret() {
  local -n _s=$2
  local k v
  _s=()
  while read -r k v; do _s[$k]=$(printf '%s' "$v" | base64 -d); done < <(
    kn get secret "$1" -o json 2>/dev/null | jq -r '.data // {} | to_entries[] | "\(.key) \(.value)"')
}
# as_app ARRAY SQL...: psql with the credentials of a Secret read by read_secret (its host, port,
# database, username and password; nothing else)
as_app() {
  local -n _c=$1
  local a=() s; shift
  for s in "$@"; do a+=(-c "$s"); done
  PGHOST=${_c[host]-} PGPORT=${_c[port]-} PGDATABASE=${_c[database]-} PGUSER=${_c[username]-} PGPASSWORD=${_c[password]-} \
    pq "${a[@]}"
}
# check_secret WHAT NAME ARRAY: every credential is in the Secret, non-empty, and consistent
check_secret() {
  local what=$1 name=$2 k missing=""
  local -n _x=$3
  for k in $CRED_KEYS; do [ -n "${_x[$k]-}" ] || missing+=" $k"; done
  expect_eq "$what: the Secret $name has uri, host, port, database, username, password, jdbcUrl (decoded, none empty)" "" "$missing"
  expect_eq "$what: ... host and port are the server's" "127.0.0.1 $PG_PORT" "${_x[host]-} ${_x[port]-}"
  expect_match "$what: ... uri is postgres(ql)://username:password@host:port/database" \
    "^postgres(ql)?://${_x[username]-}:.+@${_x[host]-}:${_x[port]-}/${_x[database]-}(\\?.*)?\$" "${_x[uri]-}"
  expect_match "$what: ... jdbcUrl is jdbc:postgresql://host:port/database" \
    "^jdbc:postgresql://${_x[host]-}:${_x[port]-}/${_x[database]-}([?].*)?\$" "${_x[jdbcUrl]-}"
}

# --- a readwrite instance: a database ------------------------------------------------------------
tick "a readwrite instance"
expect_ok "kubectl create a ServiceInstance of $CLASS/small (by external names)" si_create db small
wait_ready serviceinstance db
expect_eq "db: conditions Ready True ProvisionedSuccessfully (no other)" "Ready True ProvisionedSuccessfully" "$(conds serviceinstance db)"
expect_eq "db: provisionStatus Provisioned, no operation in progress" "Provisioned false" \
  "$(oj serviceinstance db | jq -r '.status | "\(.provisionStatus) \(.asyncOpInProgress // false)"')"
DBS=$(user_dbs 2>&1)
expect_match "psql as the superuser: one new database, connection limit 5" '^[^ ]+ 5$' "$DBS"
expect_eq "... (only one)" 1 "$(grep -c . <<<"$DBS")"
DB1=${DBS%% *}
OWNER1=$(admin "select pg_get_userbyid(datdba) from pg_database where datname = '$DB1'" 2>&1)
expect_no_match "... owned by a role of its own, not the superuser" '^(bindery_admin|)$' "$OWNER1"

# --- a readwrite binding: a real session with the Secret's credentials ----------------------------
tick "a readwrite binding"
expect_ok "kubectl create a ServiceBinding to db" sb_create app db
wait_ready servicebinding app
expect_eq "app: conditions Ready True InjectedBindResult (no other)" "Ready True InjectedBindResult" "$(conds servicebinding app)"
declare -A RW
read_secret app RW
check_secret "app" app RW
expect_eq "app: ... the database is the instance's" "$DB1" "${RW[database]-}"
expect_ok "psql with the Secret's credentials connects" as_app RW 'select 1'
expect_eq "... current_user and current_database() are the Secret's username and database" \
  "${RW[username]-}|${RW[database]-}" "$(as_app RW 'select current_user, current_database()' 2>&1)"
VAL="hello from $ID"
expect_ok "... CREATE TABLE" as_app RW 'create table e2e_notes (id int primary key, body text not null)'
expect_ok "... INSERT" as_app RW "insert into e2e_notes values (1, '$VAL')"
expect_eq "... SELECT reads the row back" "$VAL" "$(as_app RW 'select body from e2e_notes where id = 1' 2>&1)"
expect_eq "psql with the Secret's uri alone: the same user and database" "${RW[username]-}|${RW[database]-}" \
  "$(pq -d "${RW[uri]-}" -c 'select current_user, current_database()' 2>&1)"
expect_eq "psql as the superuser sees the row in that database" "$VAL" "$(admin_in "$DB1" 'select body from e2e_notes where id = 1' 2>&1)"

# --- unbind: the Secret and the login go ---------------------------------------------------------
tick "unbind"
expect_ok "delete the binding (waits for the unbind, 30 s)" kn delete servicebinding app --timeout=30s
expect_ok "... it is gone" gone servicebinding app
expect_ok "... its Secret is gone" gone secret app
expect_eq "... its role is gone (psql as the superuser)" 0 "$(admin "select count(*) from pg_roles where rolname = '${RW[username]-}'" 2>&1)"
expect_fail_with "... the old credentials no longer log in" 'password authentication failed|role .* does not exist' as_app RW 'select 1'
expect_eq "... the database and its data stay with the instance" "$VAL" "$(admin_in "$DB1" 'select body from e2e_notes where id = 1' 2>&1)"

# --- deprovision: the database goes --------------------------------------------------------------
tick "deprovision"
expect_ok "delete the instance (waits for the deprovision, 30 s)" kn delete serviceinstance db --timeout=30s
expect_ok "... it is gone" gone serviceinstance db
expect_eq "... the database no longer exists (psql as the superuser)" 0 "$(admin "select count(*) from pg_database where datname = '$DB1'" 2>&1)"
expect_eq "... nor its owner role" 0 "$(admin "select count(*) from pg_roles where rolname = '$OWNER1'" 2>&1)"

# --- a readonly instance and binding -------------------------------------------------------------
tick "readonly"
expect_ok "kubectl create a ServiceInstance of $CLASS/readonly" si_create ro readonly
wait_ready serviceinstance ro
expect_eq "ro: conditions Ready True ProvisionedSuccessfully (no other)" "Ready True ProvisionedSuccessfully" "$(conds serviceinstance ro)"
DBS=$(user_dbs 2>&1)
expect_match "psql as the superuser: one database, connection limit 3" '^[^ ]+ 3$' "$DBS"
DB2=${DBS%% *}
OWNER2=$(admin "select pg_get_userbyid(datdba) from pg_database where datname = '$DB2'" 2>&1)
# what a read-only binding reads: written beforehand by the database's owner
expect_ok "as the database's owner (psql as the superuser, SET ROLE), create a table with a row" \
  admin_in "$DB2" "set role \"$OWNER2\"" 'create table e2e_ro (id int primary key, body text)' "insert into e2e_ro values (1, 'read me $ID')"
expect_ok "kubectl create a ServiceBinding to ro" sb_create reader ro
wait_ready servicebinding reader
declare -A RO
read_secret reader RO
check_secret "reader" reader RO
expect_eq "reader: ... the database is the instance's" "$DB2" "${RO[database]-}"
expect_eq "psql with the readonly Secret's credentials: current_user, current_database()" "${RO[username]-}|${RO[database]-}" \
  "$(as_app RO 'select current_user, current_database()' 2>&1)"
expect_eq "... SELECT works" "read me $ID" "$(as_app RO 'select body from e2e_ro where id = 1' 2>&1)"
expect_fail_with "... CREATE TABLE is refused" 'permission denied' as_app RO 'create table e2e_nope (id int)'
expect_fail_with "... INSERT is refused" 'permission denied' as_app RO "insert into e2e_ro values (2, 'no')"
expect_ok "delete the binding and the instance (30 s)" kn delete servicebinding reader --timeout=30s
expect_ok "... (the instance)" kn delete serviceinstance ro --timeout=30s
expect_fail_with "... the readonly credentials no longer log in" 'password authentication failed|role .* does not exist' as_app RO 'select 1'
expect_eq "... the database no longer exists" "" "$(user_dbs 2>&1)"
expect_eq "no role is left but the superuser" "bindery_admin" \
  "$(admin "select string_agg(rolname, ' ' order by rolname) from pg_roles where rolname !~ '^pg_'" 2>&1)"

tick "the end"
expect_ok "the controller is still healthy" curl -sf --max-time 5 "$ctl_URL/healthz"
echo "# t-postgresql: journey took $((SECONDS - T0)) s"
e2e_done
