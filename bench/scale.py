"""Scaling curve: load time, peak memory and route latency of the three store backends, 10k to 10M triples.

    .venv/bin/pip install -e '.[bench]'                      # oxigraph (server), matplotlib, httpx
    .venv/bin/python bench/scale.py run --sizes 10000,100000 --backends memory,disk,sparql
    .venv/bin/python bench/scale.py phases --size 1000000    # where the start-up build's time goes (in-process)
    .venv/bin/python bench/scale.py report                   # bench/RESULTS-scale.md and bench/scaling.png

``run`` generates the data directories with bench/generate.py (under ``--work``, default
/tmp/kgscale) and, for each size and backend, starts the service exactly as a user would:

* ``memory``: ``KG_STORE=memory kg serve``; load time = process start to ``/health`` answering
  (read, infer, SHACL-validate, query workers up);
* ``disk``: ``KG_STORE=disk:DIR kg serve`` on an empty DIR (first start loads like memory), then a
  restart on the filled DIR (serves what is stored);
* ``sparql``: ``oxigraph serve --location DIR`` (on disk), ``kg load --into sparql:…`` (validates, then
  pushes by the Graph Store Protocol), then ``KG_STORE=sparql:… kg serve``.

Peak RSS is sampled every 0.25 s as the sum over the server and its child processes (the query
workers), and also read from /proc VmHWM of each process before it is stopped (the sum of the
per-process peaks is an upper bound). While a server starts (or ``kg load`` runs), ``py-spy dump``
records every 15 s where it is (``stacks``; ``.venv/bin/pip install py-spy``, optional). Latency is
sequential (one request after another) over loopback, after one first request whose time is kept
as ``first_ms`` (the route's first, uncached rendering). A configuration whose start exceeds
``--budget-s`` or whose memory exceeds ``--rss-cap-gb`` (a global option: ``scale.py --rss-cap-gb 16
run …``) is stopped and reported with what was measured. Each result is one JSON file in
bench/scale_results/ with the commit measured; ``report`` turns them into the Markdown (with the
hand-written bench/scale_results/analysis.md appended) and the plot. Run by hand on an otherwise idle
machine; the load average is recorded with every figure.
"""

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, machine

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "scale_results"
SIZES = [10_000, 100_000, 1_000_000, 10_000_000]
BACKENDS = ["memory", "disk", "sparql"]

#: (label, URL) — one representative URL per /api route; ``{mechanism}`` and ``{theme}`` are filled
#: from the running service (the most shared mechanism, a theme with narrower ones).
ROUTES = [
    ("/api/districts", "/api/districts"),
    ("/api/districts/{id}", "/api/districts/haidian"),
    ("/api/districts/{id}/similar", "/api/districts/haidian/similar"),
    ("/api/mechanisms", "/api/mechanisms"),
    ("/api/mechanisms/shared", "/api/mechanisms/shared"),
    ("/api/mechanisms/{id}", "/api/mechanisms/{mechanism}"),
    ("/api/themes", "/api/themes"),
    ("/api/themes/{id}", "/api/themes/{theme}"),
    ("/api/compare", "/api/compare?districts=haidian,chaoyang"),
    ("/api/search", "/api/search?q=%E4%BB%A3%E8%A1%A8"),  # 代表
    ("/api/matrix", "/api/matrix"),
]
QUERIES = sorted((ROOT / "queries" / "examples").glob("*.rq"))


# ---------------------------------------------------------------- processes and memory


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB (empty when it is gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def pss_kb(pid: int) -> int:
    """Proportional set size of ``pid`` in kB (shared pages divided among the processes sharing them):
    summed over processes it does not count the pages forked workers share twice, as VmRSS does."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def where(pid: int) -> list[str]:
    """What ``pid`` is doing (py-spy dump): per busy thread, its innermost frame and innermost app/ frame."""
    spy = BIN / "py-spy"
    if not spy.exists():
        return []
    try:
        out = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60,
                             check=False).stdout
    except (subprocess.TimeoutExpired, OSError):
        return []
    found = []
    for thread in out.split("\nThread ")[1:]:
        frames = [line.strip() for line in thread.splitlines()[1:] if line.strip()]
        if "(idle)" in thread.splitlines()[0] or not frames:
            continue
        app = next((f for f in frames if "(app/" in f), None)
        found.append(frames[0] + (f" <- {app}" if app and app != frames[0] else ""))
    return found


class Watch:
    """Samples the summed RSS of a process tree; kills the tree above ``cap_kb``.

    Every ``spy_every`` seconds it also records where the process is (``where``) with the time and RSS."""

    def __init__(self, pid: int, cap_kb: int, interval: float = 0.25, spy_every: float = 15.0) -> None:
        self.pid, self.cap_kb, self.interval, self.spy_every = pid, cap_kb, interval, spy_every
        self.started = time.monotonic()
        self.next_spy = self.started + spy_every
        self.stacks: list[str] = []
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.hwm_kb: dict[int, int] = {}
        self.cpu_s: dict[int, float] = {}
        self.killed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            if time.monotonic() >= self.next_spy:
                self.next_spy += self.spy_every
                rss = proc_status(self.pid).get("VmRSS", 0) // 1024
                for frame in where(self.pid):
                    self.stacks.append(f"t={time.monotonic() - self.started:.0f}s rss={rss}MB: {frame}")
            self._stop.wait(self.interval)

    def sample(self) -> None:
        total = pss = 0
        for p in descendants(self.pid):
            st = proc_status(p)
            total += st.get("VmRSS", 0)
            pss += pss_kb(p)
            self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), st.get("VmHWM", 0))
            self.cpu_s[p] = max(self.cpu_s.get(p, 0.0), cpu_seconds(p))
        self.peak_kb = max(self.peak_kb, total)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        if total > self.cap_kb and not self.killed:
            self.killed = True
            kill_group(self.pid)

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()

    @property
    def hwm_sum_mb(self) -> float:
        return round(sum(self.hwm_kb.values()) / 1024, 1)

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)

    @property
    def peak_pss_mb(self) -> float:
        return round(self.peak_pss_kb / 1024, 1)


def kill_group(pid: int) -> None:
    """Stop the process group we started with ``pid`` as leader (the server and its workers)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def launch(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_process(p: subprocess.Popen) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            kill_group(p.pid)
            p.wait()


def wait_until_up(url: str, p: subprocess.Popen, watch: Watch, deadline: float) -> httpx.Response:
    """Poll ``url`` until it answers 200; raises TimeoutError / RuntimeError (process died)."""
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"exited with {p.returncode}" + (" (killed at the RSS cap)" if watch.killed else ""))
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not up within the budget")


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------- latency


@dataclass
class Timing:
    url: str
    status: int
    bytes: int = 0
    first_ms: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    n: int = 0
    note: str = ""


def measure(client: httpx.Client, method: str, url: str, seconds: float, max_n: int, min_n: int,
            **kwargs: Any) -> Timing:
    """First request, then sequential requests for ``seconds`` (at least ``min_n``, at most ``max_n``)."""
    t = time.perf_counter()
    r = client.request(method, url, **kwargs)
    first = (time.perf_counter() - t) * 1000
    timing = Timing(url, r.status_code, len(r.content), round(first, 2))
    if r.status_code != 200:
        timing.note = r.text[:200]
        return timing
    samples: list[float] = []
    stop_at = time.monotonic() + seconds
    while len(samples) < max_n and (len(samples) < min_n or time.monotonic() < stop_at):
        t = time.perf_counter()
        r = client.request(method, url, **kwargs)
        samples.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            timing.note = f"HTTP {r.status_code} during the run: {r.text[:200]}"
            break
    samples.sort()
    timing.n = len(samples)
    if samples:
        timing.p50_ms = round(statistics.median(samples), 2)
        timing.p99_ms = round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2)
    return timing


def bench_service(base: str, seconds: float, query_seconds: float) -> dict[str, Any]:
    """Every /api route the running service offers, and every example query through /sparql."""
    out: dict[str, Any] = {"routes": {}, "queries": {}, "skipped": []}
    with httpx.Client(base_url=base, timeout=900) as client:
        paths = set(client.get("/openapi.json").json()["paths"])
        t = time.perf_counter()
        r = client.get("/api/districts")
        out["first_api_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out["first_api_status"] = r.status_code
        shared = client.get("/api/mechanisms/shared", params={"limit": 1})
        mechanism = shared.json()[0]["id"] if shared.status_code == 200 and shared.json() else "deputy-stations"
        themes = client.get("/api/themes").json() if "/api/themes" in paths else []
        theme = next((t["id"] for t in themes if t["id"] == "station-building"), themes[0]["id"] if themes else "x")
        out["ids"] = {"mechanism": mechanism, "theme": theme}
        covered = set()
        for label, url in ROUTES:
            if label not in paths:
                out["skipped"].append(f"{label}: not in /openapi.json")
                continue
            covered.add(label)
            timing = measure(client, "GET", url.format(mechanism=mechanism, theme=theme), seconds, 300, 5)
            if timing.status == 404:
                out["skipped"].append(f"{label}: 404")
            out["routes"][label] = asdict(timing)
        out["not_benchmarked"] = sorted(p for p in paths if p.startswith("/api/") and p not in covered)
        for path in QUERIES:
            query = path.read_text(encoding="utf-8")
            timing = measure(client, "POST", "/sparql", query_seconds, 100, 3, data={"query": query})
            timing.url = f"/sparql ({path.name})"
            out["queries"][path.stem] = asdict(timing)
    return out


# ---------------------------------------------------------------- one configuration


@dataclass
class Result:
    size: int
    backend: str
    status: str = "not run"
    triples: int | None = None
    load_s: float | None = None
    load_cpu_s: float | None = None
    peak_rss_mb: float | None = None
    hwm_sum_mb: float | None = None
    peak_pss_mb: float | None = None  # the summed PSS: shared (forked) pages counted once
    kg_load_s: float | None = None
    kg_load_cpu_s: float | None = None
    kg_load_maxrss_mb: float | None = None
    service_start_s: float | None = None
    oxigraph_hwm_mb: float | None = None
    restart_s: float | None = None
    restart_rss_mb: float | None = None
    loadavg_before: float = 0.0
    loadavg_after: float = 0.0
    commit: str = ""
    variant: str = ""  # e.g. "timeout-120": a run with settings other than the defaults
    stacks: list[str] = field(default_factory=list)  # py-spy samples while starting / loading
    bench: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def commit() -> str:
    """The commit of the code measured, marked dirty when app/, queries/, ontology/ or data/ differ from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "app", "queries", "ontology", "data"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return head + ("-dirty" if dirty else "")


def data_dir(work: Path, size: int) -> Path:
    out = work / f"data-{size}"
    if not (out / "sources").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", str(size), "--out", str(out)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def serve(result: Result, env: dict[str, str], log: Path, args: argparse.Namespace,
          started: float | None = None) -> tuple[subprocess.Popen, Watch, str] | None:
    """Start ``kg serve`` and wait for /health; fills load figures. None when it did not come up."""
    port = free_port()
    started = started or time.monotonic()
    t0 = time.monotonic()
    p = launch([str(BIN / "kg"), "serve", "--port", str(port), "--log-level", "warning"], env, log)
    watch = Watch(p.pid, int(args.rss_cap_gb * 2**20))
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_until_up(f"{base}/health", p, watch, t0 + args.budget_s)
    except (TimeoutError, RuntimeError) as exc:
        result.status = f"failed: {exc}"
        result.notes.append(f"kg serve: {exc} after {time.monotonic() - t0:.0f} s; log: {log_tail(log)}")
        watch.stop()
        result.stacks += watch.stacks
        stop_process(p)
        result.peak_rss_mb, result.hwm_sum_mb = watch.peak_mb, watch.hwm_sum_mb
        return None
    elapsed = time.monotonic() - t0
    watch.next_spy = float("inf")  # py-spy pauses the process: not while latency is measured
    watch.sample()
    result.stacks += watch.stacks
    watch.stacks = []
    result.triples = health.json()["triples"]
    result.service_start_s = round(elapsed, 2)
    result.load_s = round(time.monotonic() - started, 2)
    result.load_cpu_s = round(sum(watch.cpu_s.values()), 1)
    return p, watch, base


def run_config(size: int, backend: str, args: argparse.Namespace) -> Result:
    result = Result(size, backend, loadavg_before=loadavg(), commit=args.code_commit or commit())
    data = data_dir(args.work, size)
    logs = args.work / ("logs" + (f"-{args.tag}" if args.tag else ""))
    # One client (this script) sends every request: the per-client limits on /sparql and on all routes
    # are lifted, as for any load test, or it measures the 429s.
    env = {"KG_DATA_DIR": str(data), "KG_QUERY_TIMEOUT_S": str(args.query_timeout_s),
           "KG_SPARQL_QUERY_SECONDS": "0", "KG_SPARQL_CLIENT_WORKERS": "0",
           "KG_SPARQL_CONCURRENCY": "0", "KG_RATE_LIMIT_RPS": "0"}
    if args.code:
        # Another checkout of the service (e.g. the baseline commit) shadows the installed package.
        env["PYTHONPATH"] = str(args.code)
    store_dir = args.work / f"store-{backend}-{size}"
    shutil.rmtree(store_dir, ignore_errors=True)
    oxigraph = None
    oxi_watch = None
    try:
        if backend == "memory":
            env["KG_STORE"] = "memory"
            started = None
        elif backend == "disk":
            env["KG_STORE"] = f"disk:{store_dir}"
            started = None
        else:
            oport = free_port()
            oxigraph = launch([str(BIN / "oxigraph"), "serve", "--location", str(store_dir), "--bind",
                               f"127.0.0.1:{oport}"], {}, logs / f"oxigraph-{size}.log")
            oxi_watch = Watch(oxigraph.pid, int(args.rss_cap_gb * 2**20), spy_every=float("inf"))
            wait_until_up(f"http://127.0.0.1:{oport}/query?query=ASK%7B%7D", oxigraph, oxi_watch, time.monotonic() + 60)
            o = f"http://127.0.0.1:{oport}"
            env["KG_STORE"] = f"sparql:{o}/query;update={o}/update;gsp={o}/store"
            started = time.monotonic()
            if not kg_load(result, env, logs / f"kg-load-{size}.log", args):
                return result
        up = serve(result, env, logs / f"serve-{backend}-{size}.log", args, started)
        if up is None:
            return result
        p, watch, base = up
        try:
            result.bench = bench_service(base, args.seconds, args.query_seconds)
        finally:
            watch.stop()
            result.peak_rss_mb, result.hwm_sum_mb = watch.peak_mb, watch.hwm_sum_mb
            result.peak_pss_mb = watch.peak_pss_mb
            stop_process(p)
        result.status = "done"
        if backend == "disk":
            restart(result, env, logs / f"serve-disk-restart-{size}.log", args)
    finally:
        if oxigraph is not None:
            oxi_watch.stop()
            result.oxigraph_hwm_mb = round(max(oxi_watch.hwm_kb.values(), default=0) / 1024, 1)
            stop_process(oxigraph)
        if not args.keep_stores:
            shutil.rmtree(store_dir, ignore_errors=True)
        result.loadavg_after = loadavg()
    return result


def kg_load(result: Result, env: dict[str, str], log: Path, args: argparse.Namespace) -> bool:
    """``kg load --into`` the remote store; fills kg_load_*; False when it failed or ran out of budget."""
    # Uploading a large graph takes longer than one query: give kg load its own deadline.
    load_env = {**env, "KG_QUERY_TIMEOUT_S": str(args.budget_s)}
    t0 = time.monotonic()
    p = launch([str(BIN / "kg"), "load", "--into", env["KG_STORE"]], load_env, log)
    watch = Watch(p.pid, int(args.rss_cap_gb * 2**20))
    rusage = None
    while time.monotonic() < t0 + args.budget_s:
        pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.25)
    else:
        kill_group(p.pid)
        _, status, rusage = os.wait4(p.pid, 0)
        p.returncode = -9
    watch.stop()
    result.stacks += [f"kg load {s}" for s in watch.stacks]
    result.kg_load_s = round(time.monotonic() - t0, 2)
    result.kg_load_maxrss_mb = round(rusage.ru_maxrss / 1024, 1)
    result.kg_load_cpu_s = round(rusage.ru_utime + rusage.ru_stime, 1)
    if p.returncode != 0:
        why = "killed at the RSS cap" if watch.killed else ("over the time budget" if p.returncode == -9 else
                                                             f"exit {p.returncode}")
        result.status = f"failed: kg load {why}"
        result.notes.append(f"kg load: {why} after {result.kg_load_s} s; log: {log_tail(log)}")
        return False
    return True


def restart(result: Result, env: dict[str, str], log: Path, args: argparse.Namespace) -> None:
    """Second start of the disk backend on the filled store."""
    probe = Result(result.size, result.backend)
    up = serve(probe, env, log, args)
    if up is None:
        result.notes.append(f"disk restart failed: {probe.notes}")
        return
    p, watch, base = up
    try:
        t = time.perf_counter()
        httpx.get(f"{base}/api/districts", timeout=900)
        result.notes.append(f"after the restart the first /api request took {(time.perf_counter() - t) * 1000:.0f} ms")
    finally:
        watch.stop()
        stop_process(p)
    result.restart_s = probe.load_s
    result.stacks += [f"restart {s}" for s in probe.stacks]
    result.restart_rss_mb = watch.peak_mb


# ---------------------------------------------------------------- phases (in-process profile)


def phases(args: argparse.Namespace) -> None:
    """Time each step of the start-up build in this process, as ``kg serve`` makes it over a memory
    store (app.build.build.build, then the /api catalog), with cProfile of the slow ones."""
    resource.setrlimit(resource.RLIMIT_AS, (int(args.rss_cap_gb * 2**30), int(args.rss_cap_gb * 2**30)))
    import pyoxigraph as ox

    from app.api.catalog import build_catalog
    from app.build import plan, reason
    from app.build.build import count_triples, load_files, shacl_engine, validate_store
    from app.build.graph import KnowledgeGraph
    from app.build.load import SourceFiles
    from app.config import Settings
    from app.store.backends import EmbeddedStore
    from app.store.graphs import GraphNames, content_hash
    from app.store.spec import StoreSpec

    settings = Settings(data_dir=data_dir(args.work, args.size))
    steps: list[dict[str, Any]] = []
    state: dict[str, Any] = {}

    def step(name: str, fn: Any, profile: bool = False) -> None:
        profiler = cProfile.Profile() if profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        fn()
        if profiler:
            profiler.disable()
        entry = {"step": name, "wall_s": round(time.perf_counter() - wall, 2),
                 "cpu_s": round(time.process_time() - cpu, 2),
                 "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        if profiler:
            stats = pstats.Stats(profiler)
            rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)[:25]  # cumulative time
            entry["top_cumulative"] = [f"{v[3]:8.2f}s {v[1]:>9} calls  "
                                       f"{k[0].replace(str(ROOT) + '/', '')}:{k[1]}({k[2]})"
                                       for k, v in rows]
        steps.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "top_cumulative"}), flush=True)
        save()

    def save() -> None:
        # After every step, so that a run stopped by the memory limit still reports the steps it finished.
        out = {"size": args.size, "triples_loaded": state.get("triples"), "conforms": state.get("conforms"),
               "engine": state.get("engine"), "loadavg": loadavg(), "steps": steps}
        RESULTS.mkdir(parents=True, exist_ok=True)
        # cProfile slows pure-Python steps (pySHACL) about 3x: profiled runs are kept apart from the timings.
        name = f"phases-{args.size}{'-profile' if args.profile else ''}.json"
        (RESULTS / name).write_text(json.dumps(out, indent=2, ensure_ascii=False))

    files = SourceFiles.from_settings(settings)
    names = GraphNames.for_base(settings.base_iri)
    embedded = EmbeddedStore(StoreSpec("memory"), settings.base_iri, settings.base_iri + "/")
    store = embedded.store

    def stream() -> None:
        load_files(store, files.ontology, names.ontology, settings.base_iri)
        load_files(store, files.data, names.data, settings.base_iri)

    def infer() -> None:
        plan.materialise(store, [names.ontology, names.data], names.inferred, reason.read_rules(settings.queries_dir))

    def count() -> None:
        state["triples"] = count_triples(store, names)

    def validate() -> None:
        state["engine"] = shacl_engine(settings, state["triples"])
        state["conforms"] = validate_store(store, list(names.all()), settings, state["engine"]).conforms

    def version() -> None:
        content_hash(q for g in names.all() for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))

    def catalog() -> None:
        embedded.backend.default_graphs = embedded.content_graphs()
        build_catalog(KnowledgeGraph(settings, embedded, "phases", triples=state["triples"]))

    step("stream the files in", stream)
    step("infer (in the store)", infer, profile=args.profile)
    step("count triples", count)
    step("validate", validate, profile=args.profile)
    step("content hash", version)
    step("/api catalog", catalog, profile=args.profile)


# ---------------------------------------------------------------- report

TARGETS_MD = ROOT / "bench" / "RESULTS-scale.md"
PHASES = ["stream the files in", "infer (in the store)", "count triples", "validate", "content hash", "/api catalog"]
PLOT = ROOT / "bench" / "scaling.png"
ANALYSIS = RESULTS / "analysis.md"  # hand-written findings, included in the report as they are


def load_results() -> dict[tuple[str, int], dict[str, Any]]:
    found = {}
    for path in sorted(RESULTS.glob("*-*.json")):
        if path.stem.startswith(("phases", "machine", "write")):  # write-*: bench/write.py
            continue
        d = json.loads(path.read_text())
        if not d.get("variant"):
            found[(d["backend"], d["size"])] = d
    return found


def route_p50s(d: dict[str, Any]) -> list[float]:
    return [t["p50_ms"] for t in d.get("bench", {}).get("routes", {}).values() if t.get("p50_ms") is not None]


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def cell(t: dict[str, Any] | None) -> str:
    if t is None:
        return "–"
    if t["status"] != 200:
        return f"HTTP {t['status']}"
    return f"{fmt(t['p50_ms'])} / {fmt(t['p99_ms'])}"


def hand_written_top() -> list[str]:
    """The hand-written sections at the top of RESULTS-scale.md (between its header and the first
    generated table, "## Load and memory"): kept as they are, newest first."""
    if not TARGETS_MD.exists():
        return []
    text = TARGETS_MD.read_text(encoding="utf-8")
    start, end = text.find("\n## "), text.find("\n## Load and memory")
    if start < 0 or end <= start:
        return []
    previous = text.find("\n## Previous series", start, end)  # the tables it introduced are made anew
    end = previous if previous > 0 else end
    return [text[start + 1:end].rstrip(), ""]


def report(args: argparse.Namespace) -> None:
    """Write bench/RESULTS-scale.md and bench/scaling.png from bench/scale_results/."""
    results = load_results()
    info = json.loads((RESULTS / "machine.json").read_text()) if (RESULTS / "machine.json").exists() else {}
    sizes = sorted({s for _, s in results})
    lines = ["# Scaling: 10k to 10M triples on the three store backends", "",
             ("Generated by `bench/scale.py report` from the JSON in `bench/scale_results/` "
              "(data: `bench/generate.py`; method: the docstring of `bench/scale.py`)."), "",
             f"Machine: {info.get('machine', 'unknown')}.", ""]
    lines += hand_written_top()
    lines += ["## Load and memory", "",
              ("| size | backend | status | triples | load s (CPU s) | peak RSS MB (Σ VmHWM) "
               "| `kg load` s (max RSS MB) | Oxigraph server VmHWM MB | restart s "
               "| first /api request after /health, ms | median route p50 ms | load avg | commit |"),
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in sizes:
        for backend in BACKENDS:
            d = results.get((backend, size))
            if d is None:
                continue
            p50s = route_p50s(d)
            kg_load = f"{fmt(d['kg_load_s'])} ({fmt(d['kg_load_maxrss_mb'], 0)})" if d["kg_load_s"] else "–"
            lines.append(
                f"| {size:,} | {backend} | {d['status'].split(':')[0]} "
                f"| {fmt(d['triples'], 0) if d['triples'] else '–'} "
                f"| {fmt(d['load_s'])} ({fmt(d['load_cpu_s'])}) "
                f"| {fmt(d['peak_rss_mb'], 0)} ({fmt(d['hwm_sum_mb'], 0)}) "
                f"| {kg_load} | {fmt(d['oxigraph_hwm_mb'], 0)} | {fmt(d['restart_s'])} "
                f"| {fmt(d.get('bench', {}).get('first_api_ms'), 0)} "
                f"| {fmt(statistics.median(p50s), 2) if p50s else '–'} "
                f"| {d['loadavg_before']:.1f}–{d['loadavg_after']:.1f} "
                f"| {d.get('commit', '')} |")
    lines += ["", ("Load: memory and disk = `kg serve` start to `/health` answering (read, infer, validate, "
                   "push, query workers); sparql = `kg load` + `kg serve` start. CPU s: user + system of the server "
                   "and its workers up to then. Peak RSS: largest sampled sum over the server and its children; "
                   "in brackets the sum of each process's own peak (VmHWM), an upper bound."), ""]
    lines += targets(results)
    for size in sizes:
        configs = [(b, results[(b, size)]) for b in BACKENDS if (b, size) in results]
        if not any(d.get("bench") for _, d in configs):
            continue
        lines += [f"## Latency at {size:,} triples (p50 / p99 ms, sequential)", "",
                  "| route or query | "
                  + " | ".join(f"{b} | bytes" if i == 0 else b for i, (b, _) in enumerate(configs))
                  + " |", "|---|" + "---|" * (len(configs) + 1)]
        labels = [label for label, _ in ROUTES] + [p.stem for p in QUERIES]
        for label in labels:
            cells = []
            for i, (_, d) in enumerate(configs):
                bench = d.get("bench", {})
                t = bench.get("routes", {}).get(label) or bench.get("queries", {}).get(label)
                cells.append(cell(t) + (f" | {t['bytes']:,}" if i == 0 and t else (" | –" if i == 0 else "")))
            lines.append(f"| {label if label.startswith('/') else 'sparql: ' + label} | "
                         + " | ".join(cells) + " |")
        lines += ["", "First (cold) request of each route, ms: " + "; ".join(
            f"{b}: " + ", ".join(f"{k.removeprefix('/api')} {fmt(v['first_ms'], 0)}"
                                 for k, v in d.get("bench", {}).get("routes", {}).items())
            for b, d in configs if d.get("bench")), ""]
    phase_files = sorted((p for p in RESULTS.glob("phases-*.json") if not p.stem.endswith("-profile")),
                         key=lambda p: int(p.stem.split("-")[1]))
    if phase_files:
        lines += ["## Where the start-up time goes (in-process, `bench/scale.py phases`)", "",
                  "| size | " + " | ".join(PHASES)
                  + " | peak RSS MB | load avg |", "|---|" + "---|" * (len(PHASES) + 2)]
        names = PHASES
        for path in phase_files:
            ph = json.loads(path.read_text())
            done = {s["step"]: s for s in ph["steps"]}
            cells = [f"{done[n]['wall_s']} s ({done[n]['cpu_s']} CPU)" if n in done else "not reached" for n in names]
            lines.append(f"| {ph['size']:,} | " + " | ".join(cells)
                         + f" | {max(s['maxrss_mb'] for s in ph['steps']):,} | {ph['loadavg']:.1f} |")
        lines.append("")
        lines += [f"- {json.loads(p.read_text())['size']:,}: {json.loads(p.read_text())['note']}"
                  for p in phase_files if "note" in json.loads(p.read_text())]
        lines.append("")
    notes = [(k, n) for k, d in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])) for n in d["notes"]]
    skipped = sorted({s for d in results.values() for s in d.get("bench", {}).get("skipped", [])})
    if notes or skipped:
        lines += ["## Notes recorded by the runs", ""]
        lines += [f"- {backend} {size:,}: {note.splitlines()[0][:300]}" for (backend, size), note in notes]
        lines += [f"- skipped: {s}" for s in skipped]
        lines.append("")
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text(encoding="utf-8").rstrip(), ""]
    TARGETS_MD.write_text("\n".join(lines), encoding="utf-8")
    plot(results)
    print(f"wrote {TARGETS_MD} and {PLOT}")


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**missed**")


def targets(results: dict[tuple[str, int], dict[str, Any]]) -> list[str]:
    """The issue's targets, each with the measured figure it is judged on."""
    rows = ["## Targets of the issue", "", "| target | measured | verdict |", "|---|---|---|"]
    m1 = results.get(("memory", 1_000_000))
    if m1 and m1.get("bench"):
        worst = max(m1["bench"]["routes"].items(), key=lambda kv: kv[1]["p50_ms"] or 0)
        rows.append(f"| 1M, memory: every /api route p50 < 50 ms | slowest {worst[0]} p50 {worst[1]['p50_ms']} ms "
                    f"(first request {fmt(worst[1]['first_ms'], 0)} ms) | {verdict(worst[1]['p50_ms'] < 50)} |")
        rows.append(f"| 1M, memory: load incl. validation < 120 s | {fmt(m1['load_s'])} s "
                    f"({m1['load_s'] / 120:.2f}× the target) | {verdict(m1['load_s'] < 120)} |")
        rows.append(f"| 1M, memory: peak RSS < 3 GB | {fmt(m1['peak_rss_mb'], 0)} MB sampled, "
                    f"{fmt(m1['hwm_sum_mb'], 0)} MB Σ VmHWM ({m1['peak_rss_mb'] / 3072:.2f}× the target) "
                    f"| {verdict(m1['peak_rss_mb'] < 3072)} |")
    d10 = results.get(("disk", 10_000_000))
    if d10:
        loaded = d10["status"] == "done"
        rows.append(f"| 10M: loads on the disk backend | {d10['status']}; peak RSS {fmt(d10['peak_rss_mb'], 0)} MB "
                    f"| {verdict(loaded)} |")
        p50s = route_p50s(d10)
        rows.append(f"| 10M, disk: routes p50 < 200 ms | "
                    f"{'slowest p50 ' + fmt(max(p50s)) + ' ms' if p50s else 'no service to measure'} "
                    f"| {verdict(max(p50s) < 200 if p50s else None)} |")
    mem, rem = results.get(("memory", 100_000)), results.get(("sparql", 100_000))
    if mem and rem and mem.get("bench") and rem.get("bench"):
        ratios = {k: rem["bench"]["routes"][k]["p50_ms"] / v["p50_ms"] for k, v in mem["bench"]["routes"].items()
                  if v["p50_ms"] and rem["bench"]["routes"].get(k, {}).get("p50_ms")}
        worst = max(ratios.items(), key=lambda kv: kv[1])
        rows.append(f"| 100k: sparql backend (Oxigraph server) route p50 within 2× of memory | worst ratio "
                    f"{worst[1]:.2f} ({worst[0]}); median ratio {statistics.median(ratios.values()):.2f} "
                    f"| {verdict(worst[1] <= 2)} |")
    return rows + [""]


def plot(results: dict[tuple[str, int], dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(17, 5.5))
    colours = {"memory": "tab:blue", "disk": "tab:orange", "sparql": "tab:green"}
    for backend in BACKENDS:
        points = sorted((d["triples"], d) for (b, _), d in results.items() if b == backend and d.get("bench"))
        if points:
            xs = [x for x, _ in points]
            for label, _ in ROUTES:
                ys = [d["bench"]["routes"].get(label, {}).get("p50_ms") for _, d in points]
                if all(y is not None for y in ys):
                    left.plot(xs, ys, color=colours[backend], alpha=0.2, linewidth=0.8)
            left.plot(xs, [statistics.median(route_p50s(d)) for _, d in points], color=colours[backend], marker="o",
                      linewidth=2.5, label=f"{backend}: median p50 over /api routes")
            left.plot(xs, [max(route_p50s(d)) for _, d in points], color=colours[backend], marker="^",
                      linestyle="--", label=f"{backend}: slowest route p50")
            left.plot(xs, [max(t["first_ms"] for t in d["bench"]["routes"].values()) for _, d in points],
                      color=colours[backend], marker="s", linestyle=":",
                      label=f"{backend}: slowest first (uncached) request")
            for p in QUERIES:
                ys = [d["bench"]["queries"].get(p.stem, {}) for _, d in points]
                ys = [t.get("p50_ms") if t.get("status") == 200 else None for t in ys]
                middle.plot(xs, ys, color=colours[backend], marker="o", alpha=0.6, linewidth=1,
                            label=backend if p == QUERIES[0] else None)
        loads = sorted((d["size"], d) for (b, _), d in results.items() if b == backend)
        done = [(d["triples"], d["load_s"]) for _, d in loads if d["load_s"]]
        if done:
            right.plot(*zip(*done, strict=True), color=colours[backend], marker="o",
                       label=f"{backend}: start to /health (s)")
        for size, d in loads:
            if not d["load_s"]:
                right.scatter([size], [900], color=colours[backend], marker="x", s=80,
                              label=f"{backend} {size:,}: not up after 900 s (stopped)")
    left.axhline(50, color="grey", linestyle="-.", linewidth=1, label="target 1M: 50 ms")
    left.axhline(200, color="black", linestyle="-.", linewidth=1, label="target 10M: 200 ms")
    right.axhline(120, color="grey", linestyle="-.", linewidth=1, label="target 1M memory: 120 s")
    for ax, title, unit in ((left, "/api routes (thin: each route's p50)", "ms"),
                            (middle, "example SPARQL queries via /sparql, p50 (one line each)", "ms"),
                            (right, "load: start until /health answers", "s")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("triples (data + ontology + inferred)")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


# ---------------------------------------------------------------- main


def run(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "machine.json").write_text(json.dumps({"machine": machine(), "nproc": os.cpu_count()}))
    for size in args.sizes:
        for backend in args.backends:
            print(f"== {backend} {size}", flush=True)
            result = run_config(size, backend, args)
            result.variant = args.tag
            path = RESULTS / f"{backend}-{size}{'-' + args.tag if args.tag else ''}.json"
            path.write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False))
            summary = {k: v for k, v in asdict(result).items() if k not in ("bench", "notes")}
            print(json.dumps(summary), flush=True)
            for note in result.notes:
                print("  note:", note[:2000], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/kgscale"), help="data and stores go here")
    parser.add_argument("--rss-cap-gb", type=float, default=16.0, help="stop a configuration above this memory")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=SIZES)
    r.add_argument("--backends", type=lambda s: s.split(","), default=BACKENDS)
    r.add_argument("--budget-s", type=float, default=900.0, help="time budget of one start (and of kg load)")
    r.add_argument("--seconds", type=float, default=3.0, help="time spent per route (at least 5 requests)")
    r.add_argument("--query-seconds", type=float, default=5.0, help="time spent per example query (at least 3)")
    r.add_argument("--query-timeout-s", type=float, default=10.0, help="KG_QUERY_TIMEOUT_S of the service")
    r.add_argument("--keep-stores", action="store_true")
    r.add_argument("--tag", default="", help="names a variant run (other settings); its results are kept apart")
    r.add_argument("--code", type=Path, help="run the service from this checkout (PYTHONPATH), e.g. the baseline: "
                   "git archive BASE | tar -x -C DIR; use with --tag baseline")
    r.add_argument("--code-commit", default="", help="the commit of --code, recorded with its results")
    r.set_defaults(func=run)
    ph = sub.add_parser("phases")
    ph.add_argument("--size", type=int, required=True)
    ph.add_argument("--profile", action="store_true", help="cProfile inference, validation and the catalog")
    ph.set_defaults(func=phases)
    rep = sub.add_parser("report")
    rep.set_defaults(func=report)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
