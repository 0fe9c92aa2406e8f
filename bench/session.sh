#!/usr/bin/env bash
# Sessions (docs/BENCHMARKS.md, "Sessions"): each language's generated server
# for specs/session.yaml (release builds through `wsgen run`, built once and
# reused), its worker replaced by bench/session/worker.py (WS_SESSION_COMMAND),
# driven by bench/session/bench.mjs (raw session-v1 frames over `ws`).
#
# Usage: bench/session.sh LANG...        e.g. bench/session.sh node python go rust
# Env:   WSGEN (default: wsgen), ROUNDS (3; the table shows the medians),
#        COUNT (events per rate run, 50000), SIZE (pad characters per event, 64),
#        LAT (paced events for the latency run, 2000), PACE (ms between them, 1),
#        REPLAY (retained events replayed on attach, 10000),
#        IDLE (idle sessions held for the memory figure, 20),
#        RETAIN (retained events for the memory figure, 100000).
#
# Per round, per language, one after another:
# - the worker alone writing COUNT lines to a file (the same code, one write
#   and flush per line): the rate the server's are divided by;
# - events/s from one worker to 1 client, then to 8 clients attached to the
#   same session (from the `input` that starts the emission to the last event
#   at every client; the owner acks the lowest seq all clients hold every
#   1,000 events, so `whenFull: pause` with the spec's limit of 10,000 holds);
# - latency: LAT events PACE ms apart, each stamped with the worker's wall
#   clock in microseconds, receipt minus stamp at the client (same machine);
# - replay: a session emits REPLAY events (not acked, all retained), then a
#   second connection attaches with after 0: attach sent -> last event;
# - RSS per idle session: the server's own VmRSS (workers excluded) before
#   and with IDLE started, idle sessions (one attached connection each),
#   delta / IDLE; the workers' RSS (every descendant, summed) / IDLE apart;
#   measured first, on a fresh server;
# - RSS per 1,000 retained events: a fresh server with
#   WS_SESSION_REPLAY_LIMIT=RETAIN, one session, VmRSS before its worker
#   emits and with RETAIN events retained, delta / (RETAIN / 1000).
# Every server listens on 127.0.0.1 and is stopped on exit, failure included;
# a worker left behind is reported and stopped by its pid. Prints one
# markdown table (medians) on stdout, each round's rows on stderr.
set -u
cd "$(dirname "$0")/.."
W=${WSGEN:-wsgen}
ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-50000}
SIZE=${SIZE:-64}
LAT=${LAT:-2000}
PACE=${PACE:-1}
REPLAY=${REPLAY:-10000}
IDLE=${IDLE:-20}
RETAIN=${RETAIN:-100000}
B=bench/session
WORKER=$PWD/$B/worker.py
[ $# -gt 0 ] || { echo "usage: bench/session.sh LANG..." >&2; exit 2; }
command -v node >/dev/null || { echo "bench/session.sh needs node and npm (Node.js >= 20)" >&2; exit 3; }
command -v python3 >/dev/null || { echo "bench/session.sh needs python3 (the worker)" >&2; exit 3; }
[ -d $B/node_modules/ws ] || (cd $B && npm ci --no-audit --no-fund --loglevel=error) || exit 3

TMP=$(mktemp -d)
PID= HP= CP=
stop() {
  if [ -n "$CP" ]; then kill "$CP" 2>/dev/null; wait "$CP" 2>/dev/null; fi
  CP=
  if [ -n "$HP" ]; then exec 4>&- 2>/dev/null; kill "$HP" 2>/dev/null; wait "$HP" 2>/dev/null; fi
  HP=
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  PID=
  # No worker may outlive its server: report (and stop, by pid) any left.
  local left
  left=$(pgrep -f -- "$WORKER" || true)
  if [ -n "$left" ]; then
    sleep 1; left=$(pgrep -f -- "$WORKER" || true)
    if [ -n "$left" ]; then echo "workers left behind: $left (stopped)" >&2; kill -KILL $left 2>/dev/null; fi
  fi
}
trap 'stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
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
children() { local c; for c in $(ps -o pid= --ppid "$1"); do echo "$c"; children "$c"; done; }
field() { node -e 'const v=JSON.parse(process.argv[1]);if(!v.ok){console.error(v.error);process.exit(1)}const x=v[process.argv[2]];console.log(typeof x==="number"?(Number.isInteger(x)?x:x.toFixed(process.argv[3]??1)):x)' "$@"; }

start() { # LANG LOG [VAR=VALUE...] -> PID, URL, SP
  local name=$1 log=$2; shift 2
  PORT=$((20000 + RANDOM % 20000))
  env "$@" WS_SESSION_COMMAND="[\"python3\",\"$WORKER\"]" WS_MAX_CONNECTIONS=100000 \
    WS_MAX_CONNECTIONS_PER_IP=0 WS_RATE_LIMIT=off HOST=127.0.0.1 \
    "$W" run --spec specs/session.yaml --language "$name" --port "$PORT" >"$log" 2>&1 &
  PID=$!; URL=ws://127.0.0.1:$PORT/
  wait_port "$PORT" 1800 || { echo "$name did not start (log: $log)" >&2; tail -5 "$log" >&2; stop; return 1; }
  SP=$(spid "$PORT")
}
# Runs bench.mjs MODE ARGS... with its stdin on a fifo (fd 4) until it prints WORD.
hold() { # WORD MODE ARGS...
  local word=$1; shift
  FIFO=$TMP/fifo; rm -f "$FIFO"; mkfifo "$FIFO"
  node $B/bench.mjs "$@" <"$FIFO" >"$TMP/hold.out" &
  HP=$!; exec 4>"$FIFO"
  for _ in $(seq 1200); do grep -q "$word" "$TMP/hold.out" && return 0; kill -0 $HP 2>/dev/null || break; sleep 0.1; done
  echo "hold $*: $(cat "$TMP/hold.out")" >&2; return 1
}
# Runs bench.mjs MODE ARGS... into VAR; in the background, so that a signal
# to the script is handled (the server stopped) at once, not after the run.
client() { # VAR MODE ARGS...
  local var=$1 rc; shift
  node $B/bench.mjs "$@" >"$TMP/client.out" 2>&1 &
  CP=$!; wait "$CP"; rc=$?; CP=
  printf -v "$var" '%s' "$(cat "$TMP/client.out")"
  return $rc
}
release() { exec 4>&-; wait "$HP"; local rc=$?; HP=; return $rc; }

one() { # LANG ROUND -> one TSV line on $TMP/rows
  local name=$1 log=$TMP/$1.log f r1 r8 lat rp before after kids per warm
  f=$(python3 "$WORKER" --file "$TMP/lines" --emit "$COUNT" --size "$SIZE") || return 1
  rm -f "$TMP/lines"
  start "$name" "$log" || return 1
  sleep 1; before=$(rss "$SP")
  hold holding idle "$URL" "$IDLE" || { stop; return 1; }
  sleep 1; after=$(rss "$SP")
  kids=0; for k in $(children "$SP"); do kids=$((kids + $(rss "$k" 2>/dev/null || echo 0))); done
  release || { stop; return 1; }
  local idle_per=$(( (after - before) / IDLE )) idle_kids=$(( kids / IDLE ))
  client warm rate "$URL" 5000 1 "$SIZE" # warm-up (JIT)
  client r1 rate "$URL" "$COUNT" 1 "$SIZE" || { echo "$name rate 1: $r1" >&2; stop; return 1; }
  client r8 rate "$URL" "$COUNT" 8 "$SIZE" || { echo "$name rate 8: $r8" >&2; stop; return 1; }
  client lat latency "$URL" "$LAT" 1 "$PACE" || { echo "$name latency: $lat" >&2; stop; return 1; }
  client rp replay "$URL" "$REPLAY" "$SIZE" || { echo "$name replay: $rp" >&2; stop; return 1; }
  stop
  start "$name" "$log" WS_SESSION_REPLAY_LIMIT="$RETAIN" || return 1
  hold ready retain "$URL" "$RETAIN" "$SIZE" || { stop; return 1; }
  sleep 1; local rb ra; rb=$(rss "$SP")
  echo go >&4
  for _ in $(seq 1200); do grep -q holding "$TMP/hold.out" && break; sleep 0.1; done
  grep -q holding "$TMP/hold.out" || { echo "$name retain: $(cat "$TMP/hold.out")" >&2; stop; return 1; }
  sleep 1; ra=$(rss "$SP")
  release || { stop; return 1; }
  stop
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" \
    "$(field "$f" perSecond 0)" "$(field "$r1" perSecond 0)" "$(field "$r8" perSecond 0)" \
    "$(field "$lat" p50 3)" "$(field "$lat" p99 3)" "$(field "$rp" ms 0)" \
    "$before" "$after" "$idle_per" "$idle_kids" "$rb" "$ra" \
    "$(awk -v b="$rb" -v a="$ra" -v n="$RETAIN" 'BEGIN{printf "%.1f", (a - b) / (n / 1000)}')" >>"$TMP/rows"
  echo "round $2 $name: $(tail -1 "$TMP/rows" | tr '\t' ' '); $(uptime | sed 's/.*load/load/')" >&2
}

echo "bench/session.sh $*: $(date -u '+%F %H:%M UTC'), ROUNDS=$ROUNDS COUNT=$COUNT SIZE=$SIZE LAT=$LAT PACE=$PACE REPLAY=$REPLAY IDLE=$IDLE RETAIN=$RETAIN, $(uptime | sed 's/.*load/load/')" >&2
: >"$TMP/rows"
for R in $(seq "$ROUNDS"); do
  for NAME in "$@"; do one "$NAME" "$R" || echo "round $R $NAME: failed" >&2; done
done
echo "end: $(date -u '+%F %H:%M UTC'), $(uptime | sed 's/.*load/load/')" >&2
# Medians over the rounds (each column on its own).
node - "$TMP/rows" "$IDLE" "$REPLAY" "$RETAIN" "$@" <<'JS'
const fs = require('fs');
const [file, idle, replay, retain, ...langs] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
const med = (xs) => { const s = xs.map(Number).sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`| server | rounds | worker to a file, events/s | 1 client, events/s (÷ file) | 8 clients, events/s (÷ file) | latency p50 / p99 ms | replay ${fmt(replay)} on attach, ms | RSS per idle session (${idle}) | worker RSS per session | RSS per 1,000 retained events (${fmt(retain)}) |`);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const lang of langs) {
  const rs = rows.filter((r) => r[0] === lang);
  if (!rs.length) { console.log(`| ${lang} | 0 | failed in every round |`); continue; }
  const c = (i) => med(rs.map((r) => r[i]));
  console.log(`| ${lang} | ${rs.length} | ${fmt(c(1))} | ${fmt(c(2))} (${(c(2) / c(1)).toFixed(2)}) | ${fmt(c(3))} (${(c(3) / c(1)).toFixed(2)}) | ${c(4).toFixed(2)} / ${c(5).toFixed(2)} | ${fmt(c(6))} | ${fmt(c(9))} KB (${fmt(c(7))} -> ${fmt(c(8))} KB) | ${fmt(c(10) / 1024, 1)} MB | ${fmt(c(13), 1)} KB (${fmt(c(11))} -> ${fmt(c(12))} KB) |`);
}
JS
