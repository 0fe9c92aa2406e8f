#!/usr/bin/env bash
# The MCP bridge (docs/BENCHMARKS.md, "MCP bridge"): each language's
# generated bridge for specs/mcp.yaml next to supergateway 4.0.0 bridging the
# same child (server-everything, started directly with node, no npx), in one run.
#
# Usage: bench/mcp.sh LANG...        e.g. bench/mcp.sh node go
# Env:   WSGEN (default: wsgen), DUR (seconds per round-trip run, 10),
#        CONNS (connections of the second round-trip run, 8),
#        SESSIONS (sessions opened one after another, 30),
#        HOLD (sessions held open for the memory figure, 20).
#
# Per server: tools/call `echo` round trips (closed loop, one call in flight
# per connection; 1 connection, then CONNS), sessions per second (connect,
# initialize, close: the cost of a child per session), and the server's RSS
# per open session (HOLD initialized sessions; the server's own VmRSS, its
# children excluded; their RSS, summed over every descendant, in a column of
# its own: supergateway's one shared child is divided by HOLD too). Every server listens on 127.0.0.1 and is stopped on
# exit, failure included. Prints one markdown table.
set -u
cd "$(dirname "$0")/.."
W=${WSGEN:-wsgen}
DUR=${DUR:-10}
CONNS=${CONNS:-8}
SESSIONS=${SESSIONS:-30}
HOLD=${HOLD:-20}
B=bench/mcp
[ $# -gt 0 ] || { echo "usage: bench/mcp.sh LANG..." >&2; exit 2; }
command -v node >/dev/null || { echo "bench/mcp.sh needs node and npm (Node.js >= 20)" >&2; exit 3; }

# server-everything at the version specs/mcp.yaml pins, where tests/mcp_sdk.rs puts it.
PKG=$(grep -o '@modelcontextprotocol/server-everything@[0-9][0-9.]*' specs/mcp.yaml | head -1)
SE_DIR=target/mcp-servers/server-everything-${PKG##*@}
SE=$PWD/$SE_DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js
if [ ! -f "$SE" ]; then
  mkdir -p "$SE_DIR" && echo '{"private": true}' > "$SE_DIR/package.json"
  (cd "$SE_DIR" && npm install --no-audit --no-fund --loglevel=error "$PKG") || exit 3
fi
[ -d $B/node_modules/supergateway ] || (cd $B && npm ci --no-audit --no-fund --loglevel=error) || exit 3

PID=
stop() {
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  PID=
}
trap stop EXIT
wait_port() { # PORT SECONDS
  for _ in $(seq $(($2 * 10))); do
    (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
    [ -n "$PID" ] && ! kill -0 "$PID" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}
# The pid listening on PORT (the server itself, not `wsgen run` around it).
spid() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
# Every descendant of PID (the children and what they started).
children() { local c; for c in $(ps -o pid= --ppid "$1"); do echo "$c"; children "$c"; done; }
field() { node -e 'const v=JSON.parse(process.argv[1]);if(!v.ok){console.error(v.error);process.exit(1)}const x=v[process.argv[2]];console.log(typeof x==="number"?(Number.isInteger(x)?x:x.toFixed(process.argv[3]??1)):x)' "$@"; }

start() { # NAME PORT LOG -> PID, URL
  local name=$1 port=$2 log=$3
  if [ "$name" = supergateway ]; then
    node $B/node_modules/supergateway/dist/index.js --stdio "node $SE stdio" \
      --outputTransport ws --port "$port" --logLevel none >"$log" 2>&1 &
    PID=$!; URL=ws://127.0.0.1:$port/message
  else
    # `wsgen run` generates, installs and builds (cached), then runs the server.
    WS_MCP_COMMAND="[\"node\",\"$SE\",\"stdio\"]" WS_MCP_MAX_SESSIONS=1000 \
      WS_MAX_CONNECTIONS=100000 WS_MAX_CONNECTIONS_PER_IP=0 WS_RATE_LIMIT=off \
      HOST=127.0.0.1 "$W" run --spec specs/mcp.yaml --language "$name" --port "$port" >"$log" 2>&1 &
    PID=$!; URL=ws://127.0.0.1:$port/
  fi
  wait_port "$port" 900 || { echo "$name did not start (log: $log)" >&2; tail -5 "$log" >&2; stop; return 1; }
}

echo "bench/mcp.sh $*: $(date -u '+%F %H:%M UTC'), $(uptime | sed 's/.*load/load/')" >&2
ROWS=()
for NAME in "$@" supergateway; do
  PORT=$((20000 + RANDOM % 20000)); LOG=/tmp/mcp-bench-$NAME.log
  start "$NAME" "$PORT" "$LOG" || continue
  SP=$(spid "$PORT")
  node $B/bench.mjs calls "$URL" 2 1 >/dev/null # warm-up: a session, JIT
  c1=$(node $B/bench.mjs calls "$URL" "$DUR" 1) || { echo "$NAME: $c1" >&2; stop; continue; }
  cN=$(node $B/bench.mjs calls "$URL" "$DUR" "$CONNS") || { echo "$NAME: $cN" >&2; stop; continue; }
  ss_=$(node $B/bench.mjs sessions "$URL" "$SESSIONS") || { echo "$NAME: $ss_" >&2; stop; continue; }
  sleep 2 # the children of the last sessions stop
  before=$(rss "$SP")
  FIFO=$(mktemp -u); mkfifo "$FIFO"
  node $B/bench.mjs hold "$URL" "$HOLD" <"$FIFO" >/tmp/mcp-bench-hold.out &
  HP=$!; exec 4>"$FIFO"
  for _ in $(seq 600); do grep -q holding /tmp/mcp-bench-hold.out && break; sleep 0.1; done
  sleep 1; after=$(rss "$SP")
  kids=0; for k in $(children "$SP"); do kids=$((kids + $(rss "$k" 2>/dev/null || echo 0))); done
  exec 4>&-; wait $HP; rm -f "$FIFO"
  per=$(( (after - before) / HOLD ))
  ROWS+=("| $NAME | $(field "$c1" perSecond 0) | $(field "$c1" p50 2) / $(field "$c1" p99 2) | $(field "$cN" perSecond 0) | $(field "$cN" p50 2) / $(field "$cN" p99 2) | $(field "$ss_" perSecond 1) | $(field "$ss_" p50 0) | $per KB ($before -> $after KB) | $((kids / HOLD / 1024)) MB |")
  echo "$NAME done: $(uptime | sed 's/.*load/load/')" >&2
  stop
done
echo "| server | calls/s, 1 conn | p50 / p99 ms | calls/s, $CONNS conns | p50 / p99 ms | sessions/s | session open p50 ms | RSS per open session ($HOLD) | children's RSS per session |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
