"""The code stays ruff-clean (lint rules and formatting from pyproject.toml) and free of import cycles."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycle_and_packages_import_only_lower_layers():
    """core <- jou, pmi <- maps, stats <- fixtures (scripts/import_cycles.py): a package imports no package
    of its own or a higher layer, so no cycle between modules or packages can form."""
    script = ROOT / "scripts" / "import_cycles.py"
    for flag in ([], ["--packages"], ["--layers"]):
        result = subprocess.run(
            [sys.executable, str(script), *flag], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
