#!/usr/bin/env bash
# A throwaway PostgreSQL server for the one end-to-end database test (tests/test_database.py).
#
#   eval "$(.ci/postgres.sh start DIR)"   # installs Debian's postgresql if missing, starts a
#                                         # server in DIR, prints `export FORECAST_POSTGRES_URL=...`
#   .ci/postgres.sh stop DIR
#
# The server listens on a unix socket in DIR only (no TCP port to collide with), trusts local
# connections, and runs as an unprivileged user (initdb refuses root: as root it runs as the
# `postgres` user the package creates). Takes a few seconds.
set -euo pipefail
command=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
start)
    if [ -z "$(bindir)" ]; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo -n"
        echo "installing postgresql (apt-get)" >&2
        $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            postgresql >&2
    fi
    bin=$(bindir)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >&2
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses='' -k $dir -c fsync=off" start >&2
    echo "export FORECAST_POSTGRES_URL='postgresql+psycopg://postgres@/postgres?host=$dir'"
    ;;
stop)
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    ;;
*)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
