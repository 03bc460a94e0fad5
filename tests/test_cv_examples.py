"""The path / CV examples run and print what they promise (real data: skipped when absent)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import data_dir_or_skip

EXAMPLES = Path(__file__).parents[1] / "examples"
FLOAT = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def _run(name, tmp_path, *args):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _needs(*relative):
    """The shared data folder, or skip when a file is absent."""
    data_dir = data_dir_or_skip()
    for path in relative:
        if not (data_dir / path).is_file():
            pytest.skip(f"shared data file {data_dir / path} is absent")
    return data_dir


def test_genomics_cv_leukemia(tmp_path):
    out = _run("genomics_cv_leukemia.py", tmp_path)
    gap = re.search(rf"largest fold duality gap ({FLOAT})", out)
    assert gap and float(gap.group(1)) <= 1e-6, out
    selected = re.search(r"^(\d+) genes selected", out, flags=re.M)
    assert selected and 1 <= int(selected.group(1)) < 7129
    accuracy = re.search(rf"held-out accuracy on Golub's 34 test samples: ({FLOAT})", out)
    assert accuracy and float(accuracy.group(1)) >= 0.85
    assert re.search(r"Stability selection .* the 10 most stable:", out)
    assert (tmp_path / "genomics_cv_leukemia.png").stat().st_size > 10_000


def test_riboflavin_lasso_cv(tmp_path):
    data_dir = _needs("regression/riboflavin.npz")
    out = _run("riboflavin_lasso_cv.py", tmp_path, data_dir)
    assert re.search(rf"largest relative duality gap ({FLOAT})", out)
    stable = re.search(r"stable genes \(selection probability >= 0.55\): (.*)$", out, flags=re.M)
    assert stable and stable.group(1).strip(), out
    bound = re.search(rf"expected number of false selections <= ({FLOAT})", out)
    assert bound and float(bound.group(1)) >= 0


def test_singh_prostate_cv(tmp_path):
    data_dir = _needs("expression/singh.npz", "expression/singh_test.npz")
    out = _run("singh_prostate_cv.py", tmp_path, data_dir)
    result = re.search(rf"independent test set: accuracy ({FLOAT}), ROC AUC ({FLOAT})", out)
    assert result, out
    assert float(result.group(1)) >= 0.7 and float(result.group(2)) >= 0.7


def test_example_exits_cleanly_without_data(tmp_path):
    # both real-data examples share this guard; one subprocess is enough to test it
    assert "nothing to do" in _run("singh_prostate_cv.py", tmp_path, tmp_path / "no-data-here")
