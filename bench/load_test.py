"""Many users at once against the real server: N simultaneous clients x M questions each.

Starts ``rag serve`` (the real chat page and its HTTP API, real default model unless
``--model``) as a subprocess on 127.0.0.1, waits until it answers, then starts the clients
together (a barrier). Each client is a ``gradio_client.Client`` calling the server's
``/ask`` API (the same queue, model lock and error handling as the page) with its own
questions about the sample corpus, one after the other. Prints, and writes as JSON:

- how every request ended: an answer (including the pipeline's reasoned refusals), a
  clear busy message, or an error message; and how many mention "Internal error";
- tracebacks in the server's log (stdout + stderr);
- the server's peak RSS (VmHWM) and the highest RSS sampled during the run;
- p50 / p95 latency per client and overall (request sent -> JSON received).

    rag index build --corpus rag/sample_corpus --index-dir /tmp/sample-idx
    python bench/load_test.py --index-dir /tmp/sample-idx --clients 8 --questions 3

Not a timed test: the numbers depend on the machine (and on anything else running on it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

QUESTIONS = [
    "Which supplier made the faulty battery cells in the Arro 2 e-bike?",
    "How much did the Arro 2 recall cost Kestrel?",
    "When did Arro 2 sales resume?",
    "Who is the new chief of the Glenmoor Housing Trust?",
    "What was Marcus Delane accused of?",
    "What sentence did Marcus Delane receive?",
    "Did the finance director warn the board about the Delane payments?",
    "What injury did Ferrand suffer?",
    "When did Ferrand return?",
    "Why did the Northfield transit workers go on strike?",
    "Was the transit contract ratified?",
    "How large was the fine against Quillon?",
    "Did Quillon's appeal succeed?",
    "What did the inquiry into Quillon find?",
    "Where did the Rovers finish the 2023 season?",
    "Did the Rovers win their opening game?",
    "Who is Quillon's security chief?",
    "What happened in the second week of the strike?",
    "What did the Riverside Business Review report about Glenmoor?",
    "Were scam calls linked to the Quillon data leak?",
    "How many riders did the strike affect?",
    "What was the 4% offer in the transit talks?",
    "When did Kestrel launch the Arro 2?",
    "Did the Rovers slip to fourth place?",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, math.ceil(q / 100 * len(v)) - 1))
    return v[k]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer within {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", default="/tmp/sample-idx")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--questions", type=int, default=3)
    ap.add_argument("--model", default="", help="model preset (default: the configured default model)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--out", default="bench/out/load_test.json")
    ap.add_argument("--log", default="bench/out/load_test_server.log")
    ap.add_argument("--warm", action="store_true", help="ask one question before the clients start (model loaded)")
    args = ap.parse_args()

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    rag = shutil.which("rag") or str(Path(sys.executable).with_name("rag"))
    cmd = [rag, "serve", "--index-dir", args.index_dir, "--port", str(port)]
    if args.model:
        cmd += ["--model", args.model]
    log = open(args.log, "w")
    t_start = time.time()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(rss_kib(proc.pid, "VmRSS"))
            stop.wait(0.2)

    threading.Thread(target=sample, daemon=True).start()
    results: list[dict] = []
    try:
        wait_ready(url, proc, 300)
        ready_s = time.time() - t_start
        from gradio_client import Client

        if args.warm:
            Client(url, verbose=False).predict(QUESTIONS[-1], api_name="/ask")
        barrier = threading.Barrier(args.clients)
        lock = threading.Lock()

        def client(i: int) -> None:
            c = Client(url, verbose=False)
            qs = [QUESTIONS[(i * args.questions + j) % len(QUESTIONS)] for j in range(args.questions)]
            barrier.wait()
            for q in qs:
                t0 = time.perf_counter()
                try:
                    got = c.predict(q, api_name="/ask")
                    kind = "busy" if got.get("busy") else "error" if "error" in got else "answer"
                    text = json.dumps(got, ensure_ascii=False)
                except Exception as e:  # a transport failure is a result too
                    kind, text, got = "client-failure", f"{type(e).__name__}: {e}", {}
                dt = time.perf_counter() - t0
                with lock:
                    results.append({
                        "client": i, "question": q, "kind": kind, "latency_s": round(dt, 3),
                        "internal_error": "Internal error" in text, "refused": bool(got.get("refused")),
                        "message": got.get("error", "") if kind != "answer" else "",
                        "answer": str(got.get("answer") or "")[:200],
                    })  # fmt: skip

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        t_run = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        run_s = time.perf_counter() - t_run
        peak_hwm = rss_kib(proc.pid, "VmHWM")
    finally:
        stop.set()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    server_log = Path(args.log).read_text(errors="replace")
    tracebacks = server_log.count("Traceback (most recent call last)")

    by_kind: dict[str, int] = {}
    for r in results:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    print(f"server ready in {ready_s:.1f} s; {args.clients} clients x {args.questions} questions in {run_s:.1f} s")
    print(f"requests: {len(results)}  " + "  ".join(f"{k}: {v}" for k, v in sorted(by_kind.items())))
    print(f"refusals among answers: {sum(r['refused'] for r in results if r['kind'] == 'answer')}")
    print(f"'Internal error' in responses: {sum(r['internal_error'] for r in results)}")
    print(f"tracebacks in the server log: {tracebacks}")
    print(f"server peak RSS (VmHWM): {peak_hwm / 1024:.0f} MiB; highest sampled RSS: {max(samples or [0]) / 1024:.0f} MiB")
    print(f"{'client':>6} {'n':>2} {'p50 s':>7} {'p95 s':>7} {'max s':>7}  kinds")
    per_client = []
    for i in range(args.clients):
        lat = [r["latency_s"] for r in results if r["client"] == i]
        kinds = ",".join(r["kind"] for r in results if r["client"] == i)
        per_client.append({"client": i, "p50_s": pct(lat, 50), "p95_s": pct(lat, 95), "max_s": max(lat or [0])})
        print(f"{i:>6} {len(lat):>2} {pct(lat, 50):>7.1f} {pct(lat, 95):>7.1f} {max(lat or [0]):>7.1f}  {kinds}")
    lat = [r["latency_s"] for r in results]
    print(f"{'all':>6} {len(lat):>2} {pct(lat, 50):>7.1f} {pct(lat, 95):>7.1f} {max(lat or [0]):>7.1f}")
    for r in results:
        if r["kind"] != "answer":
            print(f"  client {r['client']}: {r['kind']}: {r['message'][:160]}")
    summary = {
        "clients": args.clients, "questions_per_client": args.questions, "ready_s": ready_s, "run_s": run_s,
        "by_kind": by_kind, "internal_errors": sum(r["internal_error"] for r in results), "tracebacks": tracebacks,
        "peak_rss_mib": peak_hwm / 1024, "max_sampled_rss_mib": max(samples or [0]) / 1024,
        "p50_s": pct(lat, 50), "p95_s": pct(lat, 95), "per_client": per_client, "results": results,
    }  # fmt: skip
    Path(args.out).write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    print(f"written: {args.out} (server log: {args.log})")
    ok = tracebacks == 0 and summary["internal_errors"] == 0 and set(by_kind) <= {"answer", "busy"}
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
