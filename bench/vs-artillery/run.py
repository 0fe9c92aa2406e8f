#!/usr/bin/env python3
"""wsgen bench vs Artillery (npm `artillery`, ws engine) on the same server and
scenario. Prints a Markdown table: messages/s, load-generator CPU, messages
per CPU-second, and both tools' latency figures.

    python3 bench/vs-artillery/run.py [--connections 50] [--messages 4000] [--size 64]

Installs Artillery into ~/.cache/wsgen/bench-tools (npm), builds wsgen and the
fastwebsockets baseline in release mode, boots the server on 127.0.0.1, runs:
  1. closed loop (each connection: send, await echo, repeat) with both tools;
  2. wsgen open loop at the message rate Artillery reached, for CPU per message
     at equal load.
The server is always stopped. Fixed start-up costs (node/artillery boot) are
measured with a one-message run and subtracted from the CPU figures.
"""
import argparse, json, os, resource, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("WSGEN_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wsgen")
TOOLS = os.path.join(CACHE, "bench-tools", "artillery")
ARTILLERY_VERSION = "2.0.34"


def sh(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


def ensure_artillery():
    exe = os.path.join(TOOLS, "node_modules", ".bin", "artillery")
    if not os.path.exists(exe):
        os.makedirs(TOOLS, exist_ok=True)
        if not os.path.exists(os.path.join(TOOLS, "package.json")):
            with open(os.path.join(TOOLS, "package.json"), "w") as f:
                f.write('{"name":"wsgen-bench-tools","private":true}\n')
        # --ignore-scripts: Artillery's Playwright engine would download a browser.
        env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        sh(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", f"artillery@{ARTILLERY_VERSION}"], cwd=TOOLS, env=env)
    return exe


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def timed(cmd, **kw):
    """Runs cmd; returns (wall seconds, CPU seconds of the child tree, stdout)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw).stdout
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, out


def artillery_config(url, connections, messages, path, think=None):
    # Plain JSON is valid YAML; Artillery reads either.
    cfg = {
        "config": {
            "target": url,
            "phases": [{"duration": 1, "arrivalRate": connections}],
            "processor": os.path.join(HERE, "echo-processor.cjs"),
        },
        "scenarios": [{"engine": "ws", "flow": [{"loop": [{"function": "echoOnce"}] + ([{"think": think}] if think else []), "count": messages}]}],
    }
    with open(path, "w") as f:
        json.dump(cfg, f)


def run_artillery(exe, url, connections, messages, size, tmp, think=None):
    cfg = os.path.join(tmp, f"a-{connections}-{messages}-{think}.json")
    out = os.path.join(tmp, f"a-{connections}-{messages}-{think}-report.json")
    artillery_config(url, connections, messages, cfg, think)
    env = dict(os.environ, ECHO_SIZE=str(size), ARTILLERY_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
    wall, cpu, _ = timed([exe, "run", "--quiet", "--output", out, cfg], env=env)
    with open(out) as f:
        rep = json.load(f)
    agg = rep["aggregate"]
    c = agg.get("counters", {})
    s = agg.get("summaries", {}).get("websocket.echo_rtt_ms", {})
    span = (agg.get("lastMetricAt", 0) - agg.get("firstMetricAt", 0)) / 1000.0
    return {"wall": wall, "cpu": cpu, "echoes": c.get("websocket.echoes", 0), "mismatch": c.get("websocket.echo_mismatch", 0),
            "errors": sum(v for k, v in c.items() if k.startswith("errors.")), "span": span, "rtt": s}


def run_wsgen(wsgen, url, connections, rate, duration, size, tmp):
    out = os.path.join(tmp, f"w-{connections}-{rate}.json")
    wall, cpu, _ = timed([wsgen, "bench", "--url", url, "-c", str(connections), "--rate", str(rate), "--duration", f"{duration}s",
                          "--size", str(size), "--quiet", "--json", out])
    with open(out) as f:
        rep = json.load(f)
    return {"wall": wall, "cpu": cpu, "report": rep}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--messages", type=int, default=4000, help="per connection, Artillery closed loop")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--duration", type=float, default=20.0, help="wsgen window, seconds")
    ap.add_argument("--paced-messages", type=int, default=1000, help="per connection, Artillery paced run (10 ms think)")
    ap.add_argument("--wsgen", help="a release wsgen binary (default: build target/release/wsgen)")
    args = ap.parse_args()
    exe = ensure_artillery()
    wsgen = args.wsgen
    if not wsgen:
        sh(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
        wsgen = os.path.join(ROOT, "target", "release", "wsgen")
    target_dir = os.path.join(CACHE, "cargo-target")
    base = os.path.join(ROOT, "bench", "baselines", "rust-fastwebsockets")
    sh(["cargo", "build", "--release", "--quiet"], cwd=base, env=dict(os.environ, CARGO_TARGET_DIR=target_dir))
    port = free_port()
    server = subprocess.Popen([os.path.join(target_dir, "release", "echo-baseline-fastwebsockets")],
                              env=dict(os.environ, HOST="127.0.0.1", PORT=str(port)), stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/"
        with tempfile.TemporaryDirectory() as tmp:
            load0 = open("/proc/loadavg").read().split()[:3]
            a0 = run_artillery(exe, url, 1, 1, args.size, tmp)  # fixed start-up cost
            a = run_artillery(exe, url, args.connections, args.messages, args.size, tmp)
            w0 = run_wsgen(wsgen, url, 1, 0, 0.1, args.size, tmp)
            w = run_wsgen(wsgen, url, args.connections, 0, args.duration, args.size, tmp)
            a_rate = a["echoes"] / max(a["wall"] - a0["wall"], 1e-9)
            per_conn = a_rate / args.connections
            wo = run_wsgen(wsgen, url, args.connections, round(per_conn, 1), args.duration, args.size, tmp)
            # Paced: Artillery thinks 10 ms between echoes (light load, where
            # neither tool is busy and the latencies should agree).
            # "10ms": Artillery reads an integer as seconds and anything else
            # through `ms`, which turns a bare 0.01 into ~0.
            ap_ = run_artillery(exe, url, args.connections, args.paced_messages, args.size, tmp, think="10ms")
            ap_rate = ap_["echoes"] / max(ap_["wall"] - a0["wall"], 1e-9)
            wp = run_wsgen(wsgen, url, args.connections, round(ap_rate / args.connections, 1), args.duration, args.size, tmp)
            load1 = open("/proc/loadavg").read().split()[:3]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
    a_cpu = max(a["cpu"] - a0["cpu"], 1e-9)
    rows = []
    def arow(name, x):
        # Time under load: the run's wall time less a one-message run's
        # (Node and Artillery start-up). Artillery's own first/last metric
        # timestamps are period-aligned and understate it.
        cpu = max(x["cpu"] - a0["cpu"], 1e-9)
        busy = max(x["wall"] - a0["wall"], 1e-9)
        rate = x["echoes"] / busy
        rows.append((name, rate, cpu / busy, x["echoes"] / cpu,
                     x["rtt"].get("p50"), x["rtt"].get("p99"), x["rtt"].get("max"), f'{x["mismatch"]} mism, {x["errors"]} err'))
    arow("Artillery 2.0.34 (ws engine), closed loop", a)
    ws_rows = [("wsgen bench, closed loop", w, w0), (f"wsgen bench, open loop at Artillery's closed-loop rate ({per_conn:.1f} msg/s/conn)", wo, None)]
    for name, r, r0 in ws_rows:
        rep = r["report"]
        cpu = r["cpu"] - (r0["cpu"] if r0 else w0["cpu"])
        lat = rep["latency"]
        rows.append((name, rep["achieved_rate"], rep["client_cpu_cores"], rep["received"] / max(cpu, 1e-9),
                     lat["p50_us"] / 1000, lat["p99_us"] / 1000, lat["max_us"] / 1000,
                     f'{rep["mismatches"]} mism, {rep["errors"]} err'))
    arow("Artillery 2.0.34, paced (think 10 ms)", ap_)
    for name, r in ((f"wsgen bench, open loop at Artillery's paced rate ({ap_rate / args.connections:.1f} msg/s/conn)", wp),):
        rep = r["report"]
        cpu = r["cpu"] - w0["cpu"]
        lat = rep["latency"]
        rows.append((name, rep["achieved_rate"], rep["client_cpu_cores"], rep["received"] / max(cpu, 1e-9),
                     lat["p50_us"] / 1000, lat["p99_us"] / 1000, lat["max_us"] / 1000, f'{rep["mismatches"]} mism, {rep["errors"]} err'))
    print(f"\nserver: fastwebsockets baseline; {args.connections} connections, {args.size}-octet text messages; load average before/after {' '.join(load0)} / {' '.join(load1)}")
    print(f"Artillery: {args.messages} messages per connection; start-up cost subtracted: {a0['cpu']:.2f} CPU-s (Artillery), {w0['cpu']:.2f} CPU-s (wsgen)\n")
    print("| load generator | msg/s | generator CPU (cores) | msg per CPU-s | p50 ms | p99 ms | max ms | checks |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        f = lambda v: "?" if v is None else f"{v:.2f}"
        print(f"| {r[0]} | {r[1]:,.0f} | {r[2]:.2f} | {r[3]:,.0f} | {f(r[4])} | {f(r[5])} | {f(r[6])} | {r[7]} |")


if __name__ == "__main__":
    main()
