#!/bin/sh
# behave.sh: misbehaves as the provision parameter "mode" asks, for check_exec's failure tests.
in=$(cat)
case $in in
*'"mode":"fail-stdout"'*)
        echo '{"description": "quota exceeded for organization org-1"}'
        echo 'this is not the description' >&2
        exit 3
        ;;
*'"mode":"fail-stderr"'*)
        echo 'connecting to the database' >&2
        echo 'fatal: disk full on /data' >&2
        exit 1
        ;;
*'"mode":"fail-silent"'*)
        exit 4
        ;;
*'"mode":"slow"'*)
        sleep 30 &
        echo $! >"$OUT/slow-child.pid"
        wait
        ;;
*'"mode":"huge"'*)
        yes 0123456789abcdef | head -c 300000
        ;;
*'"mode":"crash"'*)
        ulimit -c 0
        echo 'about to crash' >&2
        kill -SEGV $$
        ;;
*'"mode":"wait-go"'*)
        # Holds its request until the test creates $OUT/go (at most 20 s).
        : >"$OUT/waiting"
        n=0
        while [ ! -e "$OUT/go" ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
        echo '{}'
        ;;
*'"mode":"until-done"'*)
        # "Not finished" (exit 75) until the test creates $OUT/done.
        if [ ! -e "$OUT/done" ]; then
                echo '{"retry_after": 1}'
                exit 75
        fi
        echo '{}'
        ;;
*'"mode":"garbage-secret"'*)
        # Malformed JSON (an invalid escape) around a password: no message may quote it.
        printf '%s\n' '{"credentials":{"password":"p\qsecret"}}'
        ;;
*'"mode":"garbage"'*)
        echo 'provisioned!'
        ;;
*)
        echo '{}'
        ;;
esac
