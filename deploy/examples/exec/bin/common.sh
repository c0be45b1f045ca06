# bin/common.sh: what the example's programs share (sourced, not run). They read the request
# from stdin, answer one JSON object on stdout, and exit 0 (done) or 1 (failed, with a
# description). Everything they do is safe to repeat: the broker runs a program again after a
# crash or restart.
set -eu

request=$(cat)

# field NAME: the member NAME (instance_id or binding_id) of the request, when it is made of
# safe characters only: ids become file names here, so anything else is refused rather than
# escaped. The broker writes the request on one line with these ids before any nested object,
# which is what lets sed find them; a program with more to read should use a JSON parser.
field() {
        printf '%s\n' "$request" |
                sed -n "s/^{[^{]*\"$1\":\"\([A-Za-z0-9_-][A-Za-z0-9._-]*\)\".*/\1/p"
}

fail() {
        printf '{"description": "%s"}\n' "$1"
        exit 1
}

instance_id=$(field instance_id)
[ -n "$instance_id" ] || fail "instance ids must be made of letters, digits, '.', '_' and '-'"
instance_dir=$DATA_DIR/instances/$instance_id
