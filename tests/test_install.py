"""A newcomer's install: the README's two commands, what CI runs, the Dockerfile, and the runtime
dependencies, all kept in step."""

import json
import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from app.config import ROOT

README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
DOCKERFILE = ROOT / "Dockerfile"
FIRST_RUN = ROOT / "scripts" / "first-run.sh"


def readme_commands() -> list[str]:
    """The lines of the README's first ```bash block, without their trailing comments."""
    block = README.read_text(encoding="utf-8").split("```bash\n", 1)[1].split("```", 1)[0]
    return [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines() if line.strip()]


def shell_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_readme_opens_with_the_two_commands() -> None:
    serve, test = readme_commands()
    assert serve == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/kg serve"
    assert test == "bash scripts/test.sh"


def test_ci_runs_the_first_command_then_exactly_the_test_command() -> None:
    serve, test = readme_commands()
    lines = shell_lines(CI_RUN)
    assert lines.count(test) == 1, f"{CI_RUN} must run the README's test command {test!r}"
    assert lines.count("bash scripts/first-run.sh") == 1
    assert lines.index("bash scripts/first-run.sh") < lines.index(test)
    assert "set -euo pipefail" in lines  # a failed first run fails CI
    printed = subprocess.run(["bash", str(FIRST_RUN), "--print-command"], capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == serve


def test_dockerfile_installs_and_starts_as_the_readme_does() -> None:
    serve, _ = readme_commands()
    install, start = serve.rsplit(" && ", 1)
    runs = [line.removeprefix("RUN ").strip() for line in shell_lines(DOCKERFILE) if line.startswith("RUN ")]
    assert install in runs, f"the Dockerfile must RUN {install!r} (the README's install, no extras)"
    assert not any("pip install" in run and run != install for run in runs), runs
    cmd = [line for line in shell_lines(DOCKERFILE) if line.startswith("CMD ")]
    assert len(cmd) == 1
    assert json.loads(cmd[0].removeprefix("CMD ")) == shlex.split(start)
    env = " ".join(line for line in shell_lines(DOCKERFILE) if line.startswith(("ENV ", "KG_", "PIP_", "PYTHON")))
    assert "KG_HOST=0.0.0.0" in env and "KG_PORT=8000" in env


def test_no_machine_paths_in_code_or_tests() -> None:
    """No path of a development machine: everything resolves from the repository."""
    machine_paths = (str(ROOT), str(ROOT.parent / "shared"), str(Path.home()))
    offenders = []
    for folder in ("app", "tests", "scripts", "bench", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".sh", ".toml", "") and "vendor" not in path.parts:
                text = path.read_text(encoding="utf-8", errors="replace")
                offenders += [f"{path.relative_to(ROOT)}: {p}" for p in machine_paths if p + "/" in text]
    assert offenders == []


def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with `pip install -e .` and nothing else: the one .ci/run's first run made, or a new one."""
    given = os.environ.get("KG_BARE_VENV")
    if given and (Path(given) / "bin" / "python").exists():
        return Path(given)
    target = tmp_path_factory.mktemp("bare") / ".venv"
    venv.create(target, with_pip=True)
    subprocess.run([str(target / "bin" / "pip"), "install", "--quiet", "-e", str(ROOT)], check=True, timeout=900)
    return target


@pytest.mark.slow
def test_every_app_module_imports_with_runtime_dependencies_alone(tmp_path_factory: pytest.TempPathFactory) -> None:
    python = bare_venv(tmp_path_factory) / "bin" / "python"
    script = (
        "import importlib, json, pkgutil, app\n"
        "names = ['app'] + [m.name for m in pkgutil.walk_packages(app.__path__, 'app.')"
        " if not m.name.endswith('__main__')]\n"
        "for n in names: importlib.import_module(n)\n"
        "try:\n    import pytest\n    extras = True\nexcept ImportError:\n    extras = False\n"
        "print(json.dumps({'modules': names, 'extras': extras}))\n"
    )
    # Run outside the repository so that the test venv's path cannot leak in.
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True, cwd="/", timeout=300,
                          env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["extras"] is False, "the bare venv has test packages"
    expected = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                for p in (ROOT / "app").rglob("*.py") if p.name != "__main__.py"}
    imported = set(result["modules"])
    # The bare venv may be a copy of this checkout (.ci/run's first run): compare by module name.
    assert expected <= imported, sorted(expected - imported)
    assert sys.executable != str(python)
