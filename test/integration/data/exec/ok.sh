#!/bin/sh
# ok.sh OPERATION: a well-behaved exec program for check_exec. It keeps what it was given in
# $OUT (its stdin, environment and working directory, and how often it ran) and answers as a
# real program would.
set -eu
op=$1
in=$(cat)
id=$(printf '%s\n' "$in" | sed -n 's/.*"instance_id":"\([^"]*\)".*/\1/p')
bid=$(printf '%s\n' "$in" | sed -n 's/.*"binding_id":"\([^"]*\)".*/\1/p')
name=$op-$id${bid:+-$bid}
printf '%s\n' "$in" >"$OUT/$name.json"
env >"$OUT/$name.env"
pwd -P >"$OUT/$name.pwd"
if [ -d /proc/self/fd ]; then
        ls /proc/self/fd >"$OUT/$name.fds"
fi
case $op in
provision | update)
        printf '{"dashboard_url":"https://dash.example/%s"}\n' "$id"
        ;;
bind)
        printf '{"credentials":{"user":"u-%s","instance":"%s"},' "$bid" "$id"
        printf '"endpoints":[{"host":"db.example","ports":["5432"]}],"not_copied":true}\n'
        ;;
esac
