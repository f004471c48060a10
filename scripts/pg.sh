#!/usr/bin/env bash
# pg.sh start  -> prints a directory holding a running throwaway cluster (url in DIR/url)
# pg.sh stop DIR
set -euo pipefail
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/link-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$pg_bin/initdb -D $dir/data -A trust -U postgres >$dir/initdb.log 2>&1"
    as_pg "$pg_bin/pg_ctl -D $dir/data -l $dir/server.log -w -o \"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    as_pg "$pg_bin/createdb -h 127.0.0.1 -p $port -U postgres link_test"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/link_test" > "$dir/url"
    echo "$dir"
    ;;
  stop)
    dir=$2
    as_pg "$pg_bin/pg_ctl -D $dir/data -m fast -w stop >/dev/null" || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac
