#!/bin/sh
# async.sh: "still in progress" (exit 75) on its first two runs, done on the third. Each run's
# stdin goes to $OUT/async-ID-N.json.
set -eu
in=$(cat)
id=$(printf '%s\n' "$in" | sed -n 's/.*"instance_id":"\([^"]*\)".*/\1/p')
n=$(($(cat "$OUT/async-$id.count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$OUT/async-$id.count"
printf '%s\n' "$in" >"$OUT/async-$id-$n.json"
if [ "$n" -lt 3 ]; then
        echo '{"retry_after": 1, "description": "creating the database"}'
        exit 75
fi
echo '{"dashboard_url": "https://dash.example/async"}'
