#!/usr/bin/env bash
# Client libraries (docs/BENCHMARKS.md, "Client libraries"): each language's
# GENERATED client library (wsgen --client, for specs/chat.yaml and
# specs/session.yaml, generated into a temporary folder and built there)
# against the same loop written directly on the WebSocket library it uses
# (ws / websockets / coder/websocket / tokio-tungstenite): the ratio is the
# library's cost. Programs: bench/clients/<lang>/ (lib + raw, one JSON line
# each run), bench/clients/proxy.py (the cutting TCP proxy).
#
# Usage: bench/clients.sh LANG...        e.g. bench/clients.sh node python go rust
# Env:   WSGEN (default: wsgen; generates the libraries and runs the servers),
#        SERVER (rust: the server language, the fastest; see BENCHMARKS.md),
#        ROUNDS (3; the table shows the medians), COUNT (messages, one in
#        flight, 5000), PCOUNT (messages, WINDOW in flight, 20000), WINDOW (16),
#        EVENTS (session events per rate run, 20000), CUTS (cuts per resume
#        run, 7), CARGO_TARGET_DIR (Rust builds; default: a folder in the
#        temporary one).
#
# Per round, per language, one after another (lib and raw back to back, the
# order swapped every other round):
# - chat, one in flight: join a fresh room, then COUNT `message`s (after 500
#   for warm-up), each awaited as its own copy (the answer with its ref):
#   messages/s and the p50/p99 of one round trip; the library's event
#   stream (which gets every message too) is read all along;
# - chat, WINDOW in flight: PCOUNT messages (the library: WINDOW tasks each
#   awaiting its requests; raw: a new request sent as each answer arrives);
# - session: `start` with a worker (generated-tests/session/worker.py)
#   emitting EVENTS events of 64 pad characters as fast as it can, read
#   until `exit` (raw acks every 64 events as the library does): events/s
#   from the first event to the exit (the worker's start-up left out);
# - cut -> resume (library only): a session whose worker emits events 1 ms
#   apart, read through proxy.py; CUTS times the proxy aborts the TCP
#   connection (both sides, no close frame); from the cut to the first event
#   the library delivers after it noticed (its state left `open`): the
#   backoff's random first wait (0..100 ms), the new handshake, `attach`
#   after the last seq and the replay. Median of the cuts; every event is
#   checked in order, once, across the cuts.
# The two servers (chat, session; `wsgen run`, Rust in release) listen on
# 127.0.0.1 and are stopped on exit, failure included. Prints one markdown
# table (medians) on stdout, each round's rows on stderr.
set -u
cd "$(dirname "$0")/.."
W=${WSGEN:-wsgen}
SERVER=${SERVER:-rust}
ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-5000}
PCOUNT=${PCOUNT:-20000}
WINDOW=${WINDOW:-16}
EVENTS=${EVENTS:-20000}
CUTS=${CUTS:-7}
ROOT=$PWD
WORKER=$ROOT/generated-tests/session/worker.py
[ $# -gt 0 ] || { echo "usage: bench/clients.sh LANG..." >&2; exit 2; }
for t in node python3; do command -v $t >/dev/null || { echo "bench/clients.sh needs $t (the summary, the proxy, the worker)" >&2; exit 3; }; done

TMP=$(mktemp -d)
PIDS=() PROXY=
stop() {
  [ -n "$PROXY" ] && { kill "$PROXY" 2>/dev/null; wait "$PROXY" 2>/dev/null; }
  PROXY=
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=()
  # No worker may outlive its server: report (and stop, by pid) any left.
  local left
  left=$(pgrep -f -- "$WORKER" || true)
  if [ -n "$left" ]; then
    sleep 1; left=$(pgrep -f -- "$WORKER" || true)
    [ -n "$left" ] && echo "note: session workers of $WORKER still running: pids $left" >&2
  fi
}
trap 'stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
wait_port() { # PORT SECONDS PID
  for _ in $(seq $(($2 * 10))); do
    (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
free_port() { local p; while :; do p=$((20000 + RANDOM % 20000)); (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
serve() { # SPEC VAR -> VAR=PORT (a `wsgen run` of SERVER, its pid kept for stop)
  local spec=$1 port log=$TMP/server-$1.log
  port=$(free_port)
  env WS_SESSION_COMMAND="[\"python3\",\"$WORKER\"]" WS_MAX_CONNECTIONS=100000 \
    WS_MAX_CONNECTIONS_PER_IP=0 WS_RATE_LIMIT=off HOST=127.0.0.1 \
    "$W" run --spec "specs/$spec.yaml" --language "$SERVER" --port "$port" >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_port "$port" 1800 "$pid" || { echo "the $SERVER $spec server did not start (log below)" >&2; tail -5 "$log" >&2; return 1; }
  printf -v "$2" '%s' "$port"
}

# Builds LANG's programs in $TMP/LANG (the libraries generated into gen/) and
# sets LIB_<lang> / RAW_<lang> (the commands, arguments appended).
build() { # LANG
  local l=$1 d=$TMP/$1 s
  mkdir -p "$d" && cp -a "bench/clients/$l/." "$d/" || return 1
  for s in chat session; do
    "$W" --spec "specs/$s.yaml" --language "$l" --client --out "$d/gen/$s" >"$d/gen-$s.log" 2>&1 ||
      { echo "$l: wsgen --client for $s failed" >&2; cat "$d/gen-$s.log" >&2; return 1; }
  done
  case $l in
    node)
      for s in chat session; do
        (cd "$d/gen/$s" && npm install --no-audit --no-fund --loglevel=error && npm run build) >"$d/build.log" 2>&1 ||
          { echo "node: the $s library did not build" >&2; tail -20 "$d/build.log" >&2; return 1; }
      done
      (cd "$d" && npm install --no-audit --no-fund --loglevel=error) >"$d/build.log" 2>&1 || { tail -20 "$d/build.log" >&2; return 1; }
      printf -v "LIB_$l" '%s' "node $d/lib.mjs"; printf -v "RAW_$l" '%s' "node $d/raw.mjs" ;;
    python)
      (python3 -m venv "$d/.venv" && "$d/.venv/bin/pip" install -q "$d/gen/chat" "$d/gen/session") >"$d/build.log" 2>&1 ||
        { echo "python: pip install of the libraries failed" >&2; tail -20 "$d/build.log" >&2; return 1; }
      printf -v "LIB_$l" '%s' "$d/.venv/bin/python $d/lib.py"; printf -v "RAW_$l" '%s' "$d/.venv/bin/python $d/raw.py" ;;
    go)
      cp "$d/gen/chat/go.sum" "$d/go.sum"
      (cd "$d" && go build -o bin/lib ./lib && go build -o bin/raw ./raw) >"$d/build.log" 2>&1 ||
        { echo "go: build failed" >&2; tail -20 "$d/build.log" >&2; return 1; }
      printf -v "LIB_$l" '%s' "$d/bin/lib"; printf -v "RAW_$l" '%s' "$d/bin/raw" ;;
    rust)
      local target=${CARGO_TARGET_DIR:-$d/target}
      cp "$d/gen/session/Cargo.lock" "$d/Cargo.lock"
      (cd "$d" && CARGO_TARGET_DIR=$target cargo build --release --bins) >"$d/build.log" 2>&1 ||
        { echo "rust: build failed" >&2; tail -20 "$d/build.log" >&2; return 1; }
      mkdir -p "$d/bin" && cp "$target/release/clients-bench-lib" "$d/bin/lib" && cp "$target/release/clients-bench-raw" "$d/bin/raw" || return 1
      printf -v "LIB_$l" '%s' "$d/bin/lib"; printf -v "RAW_$l" '%s' "$d/bin/raw" ;;
    *) echo "unknown language $l" >&2; return 1 ;;
  esac
}

# Runs one program (a command and its arguments) into VAR; in the
# background, so that a signal to the script is handled at once.
CP=
run() { # VAR CMD...
  local var=$1 rc; shift
  "$@" >"$TMP/run.out" 2>"$TMP/run.err" &
  CP=$!; wait "$CP"; rc=$?; CP=
  printf -v "$var" '%s' "$(tail -1 "$TMP/run.out")"
  [ $rc -eq 0 ] || { echo "  $*: exit $rc: $(tail -c 600 "$TMP/run.out") $(tail -c 600 "$TMP/run.err")" >&2; return 1; }
}
field() { node -e 'const v=JSON.parse(process.argv[1]);if(!v.ok){console.error(v.error);process.exit(1)}const x=v[process.argv[2]];console.log(Array.isArray(x)?x.map((t)=>t.toFixed(0)).join(","):x)' "$@"; }

one() { # LANG ROUND -> one TSV line on $TMP/rows
  local l=$1 r=$2 lib raw ls rs lp rp le re cut first second
  lib=LIB_$l raw=RAW_$l; lib=${!lib} raw=${!raw}
  # lib and raw back to back; which goes first alternates with the round.
  pair() { # VAR_LIB VAR_RAW ARGS... (the raw program gets the same arguments)
    local a=$1 b=$2; shift 2
    if [ $((r % 2)) -eq 1 ]; then run "$a" $lib "$@" && run "$b" $raw "$@"
    else run "$b" $raw "$@" && run "$a" $lib "$@"; fi
  }
  pair ls rs chat "ws://127.0.0.1:$CHAT/" "$COUNT" 1 || return 1
  pair lp rp chat "ws://127.0.0.1:$CHAT/" "$PCOUNT" "$WINDOW" || return 1
  pair le re session "ws://127.0.0.1:$SESS/" "$EVENTS" || return 1
  run cut $lib resume "ws://127.0.0.1:$PPORT/" "$CPORT" "$CUTS" || return 1
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$l" \
    "$(field "$ls" perSecond)" "$(field "$rs" perSecond)" "$(field "$ls" p50)" "$(field "$ls" p99)" \
    "$(field "$rs" p50)" "$(field "$rs" p99)" "$(field "$lp" perSecond)" "$(field "$rp" perSecond)" \
    "$(field "$lp" p99)" "$(field "$rp" p99)" "$(field "$le" perSecond)" "$(field "$re" perSecond)" \
    "$(field "$cut" median)" >>"$TMP/rows"
  echo "round $r $l: $(tail -1 "$TMP/rows" | tr '\t' ' '); cuts ms: $(field "$cut" cuts); $(uptime | sed 's/.*load/load/')" >&2
}

echo "bench/clients.sh $*: $(date -u '+%F %H:%M UTC'), SERVER=$SERVER ROUNDS=$ROUNDS COUNT=$COUNT PCOUNT=$PCOUNT WINDOW=$WINDOW EVENTS=$EVENTS CUTS=$CUTS, $(uptime | sed 's/.*load/load/')" >&2
LANGS=()
for l in "$@"; do
  if build "$l"; then LANGS+=("$l"); else echo "$l: not built, left out" >&2; fi
done
[ ${#LANGS[@]} -gt 0 ] || exit 1
serve chat CHAT || exit 1
serve session SESS || exit 1
PPORT=$(free_port) CPORT=$(free_port)
python3 bench/clients/proxy.py "$PPORT" "$SESS" "$CPORT" >"$TMP/proxy.out" 2>&1 &
PROXY=$!
for _ in $(seq 50); do grep -q ready "$TMP/proxy.out" && break; sleep 0.1; done
grep -q ready "$TMP/proxy.out" || { echo "proxy.py did not start: $(cat "$TMP/proxy.out")" >&2; exit 1; }
echo "servers ($SERVER, built; load after the builds): chat :$CHAT, session :$SESS (proxy :$PPORT); $(uptime | sed 's/.*load/load/')" >&2
: >"$TMP/rows"
for R in $(seq "$ROUNDS"); do
  for L in "${LANGS[@]}"; do one "$L" "$R" || echo "round $R $L: failed" >&2; done
done
echo "end: $(date -u '+%F %H:%M UTC'), $(uptime | sed 's/.*load/load/')" >&2
# Medians over the rounds (each column on its own; each ratio is the median
# of the rounds' own lib / raw ratios, lib and raw having run back to back).
node - "$TMP/rows" "$WINDOW" "$@" <<'JS'
const fs = require('fs');
const [file, window, ...langs] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
const med = (xs) => { const s = xs.map(Number).sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`| client | rounds | msgs/s, 1 in flight: lib / raw (ratio) | p50 ms lib / raw | p99 ms lib / raw | msgs/s, ${window} in flight: lib / raw (ratio) | p99 ms, ${window} in flight: lib / raw | session events/s: lib / raw (ratio) | cut -> first resumed event, ms |`);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const lang of langs) {
  const rs = rows.filter((r) => r[0] === lang);
  if (!rs.length) { console.log(`| ${lang} | 0 | failed or not built |`); continue; }
  const c = (i) => med(rs.map((r) => r[i]));
  const q = (i, j) => med(rs.map((r) => r[i] / r[j])).toFixed(2);
  console.log(`| ${lang} | ${rs.length} | ${fmt(c(1))} / ${fmt(c(2))} (${q(1, 2)}) | ${c(3).toFixed(2)} / ${c(5).toFixed(2)} | ${c(4).toFixed(2)} / ${c(6).toFixed(2)} | ${fmt(c(7))} / ${fmt(c(8))} (${q(7, 8)}) | ${c(9).toFixed(2)} / ${c(10).toFixed(2)} | ${fmt(c(11))} / ${fmt(c(12))} (${q(11, 12)}) | ${fmt(c(13))} |`);
}
JS
