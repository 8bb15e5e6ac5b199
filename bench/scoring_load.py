"""Load benchmark of the scoring service against the HTTP floor, Azure ML's inference server and MLflow's.

    .venv/bin/python bench/scoring_load.py              # everything (about 7 minutes)
    .venv/bin/python bench/scoring_load.py --quick      # shorter runs, no soak
    .venv/bin/python bench/scoring_load.py --servers floor,ours,ours-base --baseline-ref main --soak ''
    .venv/bin/python bench/scoring_load.py --servers ours,ours-collect --soak ''   # collection off/on

The floor (``bench/floor_app.py``) is a bare uvicorn ASGI app that reads the body and answers a
constant: the service is reported as a share of it, in the same run. ``--baseline-ref REF``
adds ``ours-base``: the service as it is at git ``REF`` (its ``scoring/`` extracted with
``git archive``), for a before/after in the same run. ``ours-collect`` is the service with
production data collection on (``SCORING_COLLECT_RATE``, ``--collect-rate``, every request by
default) into ``bench/.work/collected``: beside ``ours``, the cost of collecting (req/s, and the
server's own CPU time per request, read from ``/proc``: steadier on a shared machine).
This service runs with its production defaults plus an API key (every request sends
``Authorization: Bearer``) and INFO request records.

What it sets up (idempotent; all under git-ignored folders):
- ``wrk`` (Debian's package) if it is not on PATH (``apt-get install wrk``, as root);
- ``bench/.venv-azureml``: azureml-inference-server-http + the pinned scikit-learn, in a venv
  of its own because it pins OpenTelemetry;
- ``bench/.work/model``: StandardScaler + Ridge fitted on the default use case's data, written
  per the model artifact contract, plus the same estimator as an MLflow model (``mlflow-model``)
  and an Azure ML ``score.py`` (the MLOpsPython shape: ``init()`` + ``run(raw_data)``).

Then, one server at a time on 127.0.0.1, it runs wrk (1 thread, 4 connections, a Lua script for
the POST body) at 1 and 100 rows per request, after a warm-up, and prints req/s, p50, p99 and
the ratios; then a soak of this service (32 connections, 60 s): errors and RSS growth after a
warm-up. Results also go to ``bench/results/scoring_load.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
AZ_VENV = BENCH / ".venv-azureml"
COLLECTED = WORK / "collected"
RESULTS = BENCH / "results"
PY = sys.executable
HOST = "127.0.0.1"
SKLEARN_PIN = "scikit-learn==1.9.1"


# --- set-up -----------------------------------------------------------------------------------


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    print("  $", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package)")
    sh("apt-get", "update", "-qq")
    sh("apt-get", "install", "-y", "-qq", "wrk")
    return shutil.which("wrk") or "wrk"


def uv() -> str:
    return shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")


def ensure_azureml_venv() -> Path:
    python = AZ_VENV / "bin" / "python"
    if not (AZ_VENV / "bin" / "azmlinfsrv").exists():
        print("creating", AZ_VENV)
        sh(uv(), "venv", "-q", str(AZ_VENV), "--python", PY)
        env = {**os.environ, "VIRTUAL_ENV": str(AZ_VENV)}
        sh(uv(), "pip", "install", "-q", "azureml-inference-server-http", SKLEARN_PIN, env=env)
    return python


SCORE_PY = '''
"""Azure ML entry script (the MLOpsPython shape) serving the benchmark's estimator."""
import json
import os

import joblib
import numpy as np

model = None


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "estimator.joblib"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"], dtype=float)
    return {"result": model.predict(data).tolist()}
'''


def bench_data() -> tuple[list[str], str, Any, Any]:
    """The default use case's features, target name and data (tests/model_folders.py reads it)."""
    sys.path.insert(0, str(ROOT))
    from tests.model_folders import DEFAULT_USECASE, FEATURES, bundled

    x, y = bundled()
    return FEATURES, DEFAULT_USECASE.target.name, x, y


def ensure_models() -> Path:
    """Fit the benchmark model once; write the contract folder, the MLflow model, score.py."""
    model_dir = WORK / "model"
    if (model_dir / "metadata.json").exists() and (WORK / "mlflow-model" / "MLmodel").exists():
        return model_dir
    import joblib
    import numpy as np
    import sklearn
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features, target, x, y = bench_data()
    estimator = Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=1.0))]).fit(x, y)
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, model_dir / "estimator.joblib")
    meta = {
        "name": "bench",
        "sklearn_version": sklearn.__version__,
        "features": features,
        "target": target,
        "lineage": {"run_id": "bench", "packages": {"numpy": np.__version__}},
        "sample": {"data": x[:3].tolist(), "result": estimator.predict(x[:3]).tolist()},
    }
    (model_dir / "metadata.json").write_text(json.dumps(meta, indent=2))
    (WORK / "score.py").write_text(SCORE_PY.lstrip())
    import mlflow.sklearn

    shutil.rmtree(WORK / "mlflow-model", ignore_errors=True)
    mlflow.sklearn.save_model(estimator, str(WORK / "mlflow-model"))
    return model_dir


# --- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    body_key: str  # "data" (MLOpsPython contract) or "inputs" (MLflow)
    path: str = "/score"
    headers: tuple[tuple[str, str], ...] = ()
    cwd: Path = ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


API_KEY = "bench-key-0123456789"
AUTH = (("Authorization", f"Bearer {API_KEY}"),)


def baseline_tree(ref: str) -> Path:
    """``scoring/`` as it is at git ``ref``, extracted under ``bench/.work`` (for ``ours-base``)."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True, capture_output=True, text=True
    ).stdout.strip()
    tree = WORK / f"baseline-{sha}"
    if not (tree / "scoring" / "__main__.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "scoring"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def servers(
    model_dir: Path, az_python: Path, baseline: Path | None = None, collect_rate: float = 1.0
) -> dict[str, Server]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SCORING_", "AZUREML_"))}
    ours_env = {
        **base,
        "AZUREML_MODEL_DIR": str(model_dir),
        "SCORING_MODEL_VERSION": "1",
        # Production defaults: INFO, one JSON request record per request (into results/*.log),
        # and an API key, so each request is authenticated too.
        "SCORING_API_KEY": API_KEY,
        "PYTHONPATH": str(ROOT),
    }
    gunicorn = str(Path(PY).parent / "gunicorn")

    def guni(workers: int) -> list[str]:
        return [
            gunicorn, "scoring.app:create_app()", "-k", "uvicorn.workers.UvicornWorker",
            "-w", str(workers), "--log-level", "warning",
        ]  # fmt: skip

    floor = [
        PY, "-m", "uvicorn", "bench.floor_app:app", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning", "--no-server-header",
    ]  # fmt: skip
    table = {
        "floor": Server(
            "floor", "HTTP floor (bare ASGI app, uvicorn)", floor, {**base, "PYTHONPATH": str(ROOT)}, "data"
        ),
        "ours": Server(
            "ours", "this service (uvicorn, 1 process)", [PY, "-m", "scoring"], ours_env, "data", headers=AUTH
        ),
        "ours-g1": Server(
            "ours-g1", "this service (gunicorn, 1 uvicorn worker)", guni(1), ours_env, "data", headers=AUTH
        ),
        "ours-g2": Server(
            "ours-g2", "this service (gunicorn, 2 uvicorn workers)", guni(2), ours_env, "data", headers=AUTH
        ),
        "ours-collect": Server(
            "ours-collect",
            f"this service, collecting {collect_rate:.0%} of requests",
            [PY, "-m", "scoring"],
            {**ours_env, "SCORING_COLLECT_RATE": str(collect_rate), "SCORING_COLLECT_DIR": str(COLLECTED)},
            "data",
            headers=AUTH,
        ),
        "ours-sklearn": Server(
            "ours-sklearn",
            "this service, estimator.predict path",
            [PY, "-m", "scoring"],
            {**ours_env, "SCORING_FAST_PATH": "false"},
            "data",
            headers=AUTH,
        ),
        "azureml": Server(
            "azureml",
            "azureml-inference-server-http",
            [
                str(az_python.parent / "azmlinfsrv"),
                "--entry_script",
                str(WORK / "score.py"),
                "--model_dir",
                str(model_dir),
            ],
            {**base, "AZUREML_MODEL_DIR": str(model_dir)},
            "data",
        ),
        "mlflow": Server(
            "mlflow",
            "mlflow models serve",
            [
                str(Path(PY).parent / "mlflow"),
                "models",
                "serve",
                "-m",
                str(WORK / "mlflow-model"),
                "--env-manager",
                "local",
                "-h",
                HOST,
            ],
            # mlflow runs `uvicorn` through bash: the venv's bin must be on PATH.
            {**base, "PATH": f"{Path(PY).parent}{os.pathsep}{base.get('PATH', '')}"},
            "inputs",
            path="/invocations",
        ),
    }
    if baseline is not None:
        table["ours-base"] = Server(
            "ours-base",
            f"this service at {baseline.name.removeprefix('baseline-')} (baseline)",
            [PY, "-m", "scoring"],
            {**ours_env, "PYTHONPATH": str(baseline)},
            "data",
            headers=AUTH,
            cwd=baseline,  # `python -m` puts the working folder first on sys.path
        )
    return table


def _port_args(server: Server, port: int) -> list[str]:
    if server.key.startswith("ours-g"):
        return ["-b", f"{HOST}:{port}"]
    if server.key.startswith("ours") or server.key == "floor":
        return ["--host", HOST, "--port", str(port)]
    if server.key == "azureml":
        return ["--port", str(port), "--health_port", str(free_port())]
    return ["-p", str(port)]


@contextlib.contextmanager
def running(server: Server) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = (RESULTS / f"{server.key}.log").open("wb")
    proc = subprocess.Popen(
        [*server.argv, *_port_args(server, port)],
        env=server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=WORK if server.key == "azureml" else server.cwd,
    )
    url = f"http://{HOST}:{port}"
    try:
        body = {server.body_key: [[0.01] * 10]}
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{server.key} exited; see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.post(url + server.path, json=body, headers=dict(server.headers), timeout=5)
                if response.status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.key} not ready after 120 s; see {log.name}")
            time.sleep(0.3)
        yield url + server.path, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


# --- load -------------------------------------------------------------------------------------


def lua_script(server: Server, rows: int) -> Path:
    import numpy as np

    x = bench_data()[2]
    data = np.resize(x, (rows, x.shape[1])).tolist()
    body = json.dumps({server.body_key: data})
    path = RESULTS / f"post-{server.key}-{rows}.lua"
    headers = "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in server.headers)
    path.write_text(
        textwrap.dedent(
            f"""\
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.body = [==[{body}]==]
            """
        )
        + headers
    )
    return path


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(wrk_bin: str, url: str, script: Path, *, connections: int, seconds: int) -> Load:
    out = subprocess.run(
        [wrk_bin, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(n) for n in sock.groups())
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(pct["50"]),
        p99_ms=_ms(pct["99"]),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        errors=errors,
    )


def cpu_ticks(pid: int) -> int:
    """User + system CPU clock ticks of a process and its descendants (all its threads)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
            pids.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
    return total


def rss_kb(pid: int) -> int:
    """RSS of a process and its descendants (gunicorn workers, uvicorn), in kB."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids.extend(int(c) for c in children)
    return total


def median_load(loads: list[Load]) -> Load:
    def med(values: list[float]) -> float:
        return float(statistics.median(values))

    return Load(
        rps=med([x.rps for x in loads]),
        p50_ms=med([x.p50_ms for x in loads]),
        p99_ms=med([x.p99_ms for x in loads]),
        requests=sum(x.requests for x in loads),
        errors=sum(x.errors for x in loads),
    )


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="floor,ours,azureml,mlflow")
    parser.add_argument(
        "--baseline-ref", default="", help="git ref to run as 'ours-base' (add it to --servers)"
    )
    parser.add_argument("--rows", default="1,100")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--soak", default="ours", help="server to soak ('' to skip)")
    parser.add_argument("--soak-seconds", type=int, default=60)
    parser.add_argument("--soak-connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="one 3 s round, no soak")
    parser.add_argument(
        "--collect-rate", type=float, default=1.0, help="SCORING_COLLECT_RATE of ours-collect"
    )
    args = parser.parse_args()
    # A SIGTERM (timeout, kill) unwinds like Ctrl-C, so the servers started here are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.seconds, args.rounds, args.soak = 3, 1, ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)

    keys = [k for k in args.servers.split(",") if k]
    wrk_bin = ensure_wrk()
    az_python = ensure_azureml_venv() if "azureml" in keys else AZ_VENV / "bin" / "python"
    model_dir = ensure_models()
    baseline = baseline_tree(args.baseline_ref) if args.baseline_ref else None
    table = servers(model_dir, az_python, baseline, args.collect_rate)
    shutil.rmtree(COLLECTED, ignore_errors=True)  # each run's collection starts empty
    if unknown := set(keys) - set(table):
        parser.error(f"unknown servers {sorted(unknown)}: choose from {sorted(table)}")
    row_counts = [int(r) for r in args.rows.split(",")]
    print(f"\nwrk 1 thread, {args.connections} connections; {args.rounds} interleaved rounds of "
          f"{args.seconds} s per server and size (after {args.warmup} s warm-up), median kept; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    samples: dict[str, dict[int, list[Load]]] = {k: {r: [] for r in row_counts} for k in keys}
    # The server's own CPU time per request (all its threads): what collecting costs, read
    # from /proc and so much less sensitive than req/s to other work on a shared machine.
    cpu_us: dict[str, dict[int, list[float]]] = {k: {r: [] for r in row_counts} for k in keys}
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    with contextlib.ExitStack() as stack:
        urls, pids = {}, {}
        for key in keys:
            print(f"- starting {table[key].label}", flush=True)
            urls[key], pids[key] = stack.enter_context(running(table[key]))
        # All servers are up (idle ones cost nothing); interleaving the runs spreads any
        # outside noise on this shared machine over every server alike.
        for round_no in range(1, args.rounds + 1):
            for rows in row_counts:
                for key in keys:
                    script = lua_script(table[key], rows)
                    conns = args.connections
                    wrk(wrk_bin, urls[key], script, connections=conns, seconds=args.warmup)
                    before = cpu_ticks(pids[key])
                    load = wrk(wrk_bin, urls[key], script, connections=conns, seconds=args.seconds)
                    used = (cpu_ticks(pids[key]) - before) * tick_us
                    samples[key][rows].append(load)
                    cpu_us[key][rows].append(used / max(load.requests, 1))
                    print(f"  round {round_no} {key:<13} {rows:>3} rows: {load.rps:8.0f} req/s  "
                          f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms  "
                          f"errors {load.errors}", flush=True)  # fmt: skip
    results = {k: {r: median_load(v) for r, v in by_rows.items()} for k, by_rows in samples.items()}

    print(f"\n{'server':<44} {'rows':>4} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'% floor':>8} {'x azureml':>9} {'x mlflow':>9}")  # fmt: skip
    for key in keys:
        for rows, load in results[key].items():
            floor_load = results.get("floor", {}).get(rows)
            share = f"{load.rps / floor_load.rps * 100:7.1f}%" if floor_load else f"{'-':>8}"
            ratios = []
            for ref in ("azureml", "mlflow"):
                base = results.get(ref, {}).get(rows)
                ratios.append(f"{load.rps / base.rps:8.2f}x" if base else f"{'-':>9}")
            print(f"{table[key].label:<44} {rows:>4} {load.rps:>9.0f} {load.p50_ms:>7.2f} "
                  f"{load.p99_ms:>7.2f} {share:>8} {ratios[0]:>9} {ratios[1]:>9}")  # fmt: skip

    if "ours" in results and "ours-collect" in results:
        for rows, on in results["ours-collect"].items():
            off = results["ours"][rows]
            cpu_off = statistics.median(cpu_us["ours"][rows])
            cpu_on = statistics.median(cpu_us["ours-collect"][rows])
            print(f"server CPU per request at {rows} rows: off {cpu_off:.0f} us, on {cpu_on:.0f} us "
                  f"({cpu_on / cpu_off - 1:+.1%})")  # fmt: skip
            p50, p99 = on.p50_ms / off.p50_ms - 1, on.p99_ms / off.p99_ms - 1
            print(f"collection on/off at {rows} rows: req/s {on.rps / off.rps - 1:+.1%}, "
                  f"p50 {p50:+.1%}, p99 {p99:+.1%}")  # fmt: skip

    soak: dict[str, object] = {}
    if args.soak:
        server = table[args.soak]
        print(f"\nsoak: {server.label}, {args.soak_connections} connections, "
              f"{args.soak_seconds} s, 1 row per request", flush=True)  # fmt: skip
        with running(server) as (url, pid):
            script = lua_script(server, 1)
            warm = wrk(wrk_bin, url, script, connections=args.soak_connections, seconds=10)
            rss_before = rss_kb(pid)
            load = wrk(wrk_bin, url, script, connections=args.soak_connections, seconds=args.soak_seconds)
            rss_after = rss_kb(pid)
        growth = (rss_after - rss_before) / rss_before * 100
        soak = {
            "server": args.soak,
            "warmup_errors": warm.errors,
            "load": asdict(load),
            "rss_kb_after_warmup": rss_before,
            "rss_kb_after_soak": rss_after,
            "rss_growth_pct": round(growth, 2),
        }
        print(f"  {load.requests} requests, {load.rps:.0f} req/s, p50 {load.p50_ms:.2f} ms, "
              f"p99 {load.p99_ms:.2f} ms, errors {load.errors}")  # fmt: skip
        print(f"  RSS after warm-up {rss_before / 1024:.1f} MiB, after soak "
              f"{rss_after / 1024:.1f} MiB: {growth:+.2f} %")  # fmt: skip

    out = RESULTS / "scoring_load.json"
    out.write_text(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_average_at_end": os.getloadavg(),
                "connections": args.connections,
                "seconds": args.seconds,
                "results": {k: {r: asdict(v) for r, v in rs.items()} for k, rs in results.items()},
                "server_cpu_us_per_request": {
                    k: {r: statistics.median(v) for r, v in rs.items()} for k, rs in cpu_us.items()
                },
                "soak": soak,
            },
            indent=2,
        )
    )
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
