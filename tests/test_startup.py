"""Start-up: a graph that does not conform to the shapes is never served, and the report says why."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ROOT


def broken_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    districts = data / "districts.ttl"
    districts.write_text(districts.read_text(encoding="utf-8").replace('"110108"', '"999999"'), encoding="utf-8")
    return data


@pytest.mark.slow
def test_kg_serve_exits_with_the_report(tmp_path: Path) -> None:
    env = {"KG_DATA_DIR": str(broken_copy(tmp_path)), "KG_QUERY_WORKERS": "1", "PATH": ""}
    result = subprocess.run([sys.executable, "-m", "app", "serve", "--port", "0"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr  # uvicorn's exit status when the lifespan start-up fails
    assert "does not conform" in result.stderr
    assert "999999" in result.stderr and "S01" in result.stderr  # the offending value and the shape
