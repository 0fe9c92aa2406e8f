// Artillery processor for the echo comparison with `wsgen bench`.
// Artillery's ws engine counts messages but does not time them, so one
// function step sends a message, waits for its echo and reports the round
// trip as an Artillery histogram (aggregated and summarised by Artillery).
const size = Number(process.env.ECHO_SIZE || 64);
const base = "x".repeat(size);

function echoOnce(context, ee, done) {
  const ws = context.ws;
  const seq = String(context.vars.$loopCount ?? 0).padStart(8, "0");
  const payload = seq + base.slice(8);
  const t0 = process.hrtime.bigint();
  ws.once("message", (data) => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    ee.emit("histogram", "websocket.echo_rtt_ms", ms);
    ee.emit("counter", "websocket.echoes", 1);
    if (data.toString() !== payload) ee.emit("counter", "websocket.echo_mismatch", 1);
    done();
  });
  ws.send(payload);
}

module.exports = { echoOnce };
