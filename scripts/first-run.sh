#!/usr/bin/env bash
# The README's first command, exactly as the README writes it, as a newcomer would run it: on a
# fresh copy of the checkout, in a new virtual environment with no extras, `kg serve` in the
# background on a free port (KG_PORT). Then /health, `ASK {}` on /sparql and one /api route must
# answer, and every module of the app package must import in that environment (a runtime import
# missing from [project].dependencies fails here). The service is stopped at the end.
#
# .ci/run runs this before the test suite; any failed step fails it (exit 1).
#   bash scripts/first-run.sh                  run it (in a temporary folder, removed afterwards)
#   bash scripts/first-run.sh --print-command  print the command it runs, read from the README
# KG_FIRST_RUN_DIR=DIR keeps the copy and its venv in DIR (the tests reuse that venv).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# The first line of the README's first ```bash block, without its trailing comment.
command="$(awk '/^```bash/ {inside=1; next} inside {print; exit}' "$repo/README.md" | sed -E 's/[[:space:]]+#.*$//')"
if [ "${1:-}" = "--print-command" ]; then
  printf '%s\n' "$command"
  exit 0
fi
case "$command" in
  *"kg serve"*) ;;
  *) echo "first-run: the README's first command does not serve (read: '$command')" >&2; exit 1 ;;
esac

work="${KG_FIRST_RUN_DIR:-}"
if [ -z "$work" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
copy="$work/bjrd-kg"
rm -rf "$copy" && mkdir -p "$copy"
# A fresh copy: the files git knows (committed or new), never ignored ones such as .venv/.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$copy"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$work/serve.log"
echo "first-run: $command   (in a fresh copy, KG_PORT=$port; log: $log)"
cd "$copy"
KG_PORT="$port" setsid bash -c "$command" >"$log" 2>&1 &
server=$!
stop() {
  kill -TERM -- "-$server" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL -- "-$server" 2>/dev/null || true
}
fail() {
  echo "first-run: FAILED: $*" >&2
  tail -n 40 "$log" >&2 || true
  stop
  exit 1
}

# Installing takes a while on a fresh machine; the server must be up within 15 minutes.
python3 - "$port" "$server" <<'EOF' || fail "the service did not answer /health"
import os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 900
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the command ended before the service answered")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(1)
sys.exit("no answer within 900 s")
EOF

python3 - "$port" <<'EOF' || fail "a route did not answer as it should"
import json, sys, urllib.parse, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"

def get(path, accept="application/json"):
    request = urllib.request.Request(base + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status == 200, (path, r.status)
        return json.loads(r.read())

health = get("/health")
assert health["status"] == "ok" and health["triples"] > 0, health
ask = get("/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}), "application/sparql-results+json")
assert ask["boolean"] is True, ask
districts = get("/api/districts")
assert len(districts) == 16, len(districts)
print(f"first-run: /health {health['triples']} triples; ASK {{}} = true; /api/districts: {len(districts)} districts")
EOF

# Every module of the app package imports with the runtime dependencies alone.
.venv/bin/python - <<'EOF' || fail "a module of app does not import with [project].dependencies alone"
import importlib, pkgutil, sys
import app
# app.__main__ runs the command line when imported: it is checked by the serve above.
names = ["app"] + [m.name for m in pkgutil.walk_packages(app.__path__, "app.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
try:
    import pytest  # noqa: F401
    sys.exit("this venv has test packages: it does not prove the runtime dependencies")
except ImportError:
    pass
print(f"first-run: {len(names)} modules of app import in a venv with no extras")
EOF

stop
echo "first-run: passed"
