#!/usr/bin/env bash
# The cost of TLS and JWT auth (docs/BENCHMARKS.md, "Security features").
# Usage: bench/security.sh DIR LANG...   (DIR holds the generated and built
# projects echo-LANG and secure-echo-LANG, ca.pem, cert.pem, key.pem, jwt;
# the rust builds in DIR/rtgt). Every server listens on 127.0.0.1 and is
# stopped on exit, failure included.
set -u
D=$1; shift
W=${WSGEN:-wsgen}
JWT=$(cat "$D/jwt")
SECRET=${SECRET:-bench-secret-0123456789abcdef0123}
DUR=${DUR:-5s}
IDLE=${IDLE:-2000}
ulimit -n 65536 2>/dev/null || true
PID=
stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }
trap stop EXIT
cmd() { # LANG SPEC -> command line of the server
  case $1 in
    go) echo "$D/$2-go/server";;
    node) echo "node $D/$2-node/src/main.js";;
    python) echo "$D/$2-python/.venv/bin/python -m $(echo "$2" | tr - _)_server";;
    rust) echo "$D/rtgt/release/$2";;
  esac
}
start() { # LANG SPEC PORT TLS(0/1)
  local env=(HOST=127.0.0.1 PORT=$3 WS_JWT_SECRET=$SECRET WS_RATE_LIMIT=off
    WS_MAX_CONNECTIONS=100000 WS_MAX_CONNECTIONS_PER_IP=0 WS_LOG_FORMAT=json)
  [ "$4" = 1 ] && env+=(WS_TLS_CERT=$D/cert.pem WS_TLS_KEY=$D/key.pem)
  (cd "$D/$2-$1" && exec env "${env[@]}" $(cmd "$1" "$2") >/dev/null 2>&1) &
  PID=$!
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$3) 2>/dev/null && return 0; sleep 0.1
  done
  echo "server $1 $2 did not start" >&2; return 1
}
rss() { awk '/VmRSS/{print $2}' /proc/$1/status; }
# The pid serving the port (npm-less, but python/node may fork nothing).
spid() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
val() { python3 -c "import json,sys;d=json.load(open(sys.argv[1]));print(eval(sys.argv[2]))" "$@"; }
for L in "$@"; do
  echo "== $L  $(uptime | sed 's/.*load/load/')"
  P=18$RANDOM; P=${P:0:5}
  for mode in ws wss; do
    t=0; s=ws; [ $mode = wss ] && t=1 && s=wss
    start "$L" secure-echo "$P" $t || { stop; continue; }
    U="$s://127.0.0.1:$P/ws"; F=(--token "$JWT"); [ $t = 1 ] && F+=(--ca "$D/ca.pem")
    $W bench --url "$U" "${F[@]}" -c 50 --rate 0 -d "$DUR" -q --json /tmp/sec-$L-$mode-closed.json >/dev/null
    $W bench --url "$U" "${F[@]}" -c 100 --rate 20 -d "$DUR" -q --json /tmp/sec-$L-$mode-open.json >/dev/null
    $W bench --url "$U" "${F[@]}" --handshakes -c 4 -d "$DUR" -q --json /tmp/sec-$L-$mode-hs.json >/dev/null
    sp=$(spid "$P"); b=$(rss "$sp")
    $W bench --url "$U" "${F[@]}" -c "$IDLE" --rate 0.01 -d 6s --ramp 4s --drain 1s -q --json /tmp/sec-$L-$mode-idle.json >/dev/null &
    BP=$!; sleep 8; a=$(rss "$sp"); wait $BP
    echo "$b $a" > /tmp/sec-$L-$mode-rss
    stop
  done
  start "$L" echo "$P" 0 || { stop; continue; }
  $W bench --url "ws://127.0.0.1:$P/" --handshakes -c 4 -d "$DUR" -q --json /tmp/sec-$L-none-hs.json >/dev/null
  stop
  for mode in ws wss; do
    c=/tmp/sec-$L-$mode
    printf '%s %s closed=%s msg/s p99@2000/s=%s us (achieved %s) hs/s=%s hs-fail=%s rss=%s conns=%s\n' "$L" "$mode" \
      "$(val $c-closed.json 'round(d["achieved_rate"])')" "$(val $c-open.json 'round(d["latency"]["p99_us"])')" \
      "$(val $c-open.json 'round(d["achieved_rate"])')" "$(val $c-hs.json 'round(d["handshakes_per_sec"])')" \
      "$(val $c-hs.json 'd["failures"]')" "$(cat $c-rss)" "$(val $c-idle.json 'd["connected"]')"
  done
  printf '%s none hs/s=%s fail=%s\n' "$L" "$(val /tmp/sec-$L-none-hs.json 'round(d["handshakes_per_sec"])')" "$(val /tmp/sec-$L-none-hs.json 'd["failures"]')"
done
