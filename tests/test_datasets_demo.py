"""The built-in leukemia data, the ``python -m sksafe`` demo and the example scripts."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from conftest import DATA_DIR
from sksafe.datasets import load_leukemia

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FLOAT = r"[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?"


# ---------------------------------------------------------------------------------------------
# load_leukemia
# ---------------------------------------------------------------------------------------------
def test_load_leukemia_bunch():
    data = load_leukemia()
    assert isinstance(data, Bunch)
    assert set(data) >= {"data", "target", "feature_names", "target_names", "sample_names",
                         "is_train", "DESCR"}
    X, y = data.data, data.target
    assert X.shape == (72, 7129)
    assert X.dtype == np.float64
    assert np.all(np.isfinite(X))
    assert X.min() < 0  # raw expression values, negative ones included, not standardised
    assert not np.allclose(X.std(axis=0), 1.0)
    assert y.shape == (72,)
    assert np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(np.unique(y), [0, 1])
    np.testing.assert_array_equal(np.bincount(y), [47, 25])  # 47 ALL, 25 AML
    np.testing.assert_array_equal(data.target_names, ["ALL", "AML"])

    names = data.feature_names
    assert names.shape == (7129,)
    assert all(isinstance(name, str) for name in names[:50])
    assert len(set(names)) == 7129
    assert names[0] == "AFFX-BioB-5_at"
    for probe in ("M23197_at", "X95735_at", "M27891_at"):  # CD33, zyxin, cystatin C
        assert probe in set(names)

    assert data.sample_names.shape == (72,)
    assert data.is_train.dtype == bool
    # Golub's split: 38 training samples (27 ALL, 11 AML), 34 test samples (20 ALL, 14 AML)
    np.testing.assert_array_equal(np.bincount(y[data.is_train]), [27, 11])
    np.testing.assert_array_equal(np.bincount(y[~data.is_train]), [20, 14])
    assert "Golub" in data.DESCR and "7129" in data.DESCR


def test_load_leukemia_return_X_y():
    X, y = load_leukemia(return_X_y=True)
    data = load_leukemia()
    np.testing.assert_array_equal(X, data.data)
    np.testing.assert_array_equal(y, data.target)
    X[0, 0] = 1e9  # every call returns fresh arrays
    assert load_leukemia().data[0, 0] != 1e9
    with pytest.raises(TypeError):
        load_leukemia(True)  # keyword-only


def test_leukemia_is_well_separated_by_a_sparse_model():
    """Golub's classic result: a handful of genes separate ALL from AML on held-out samples."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sksafe import SafeScreeningLogisticRegression

    data = load_leukemia()
    train = data.is_train
    model = make_pipeline(StandardScaler(),
                          SafeScreeningLogisticRegression(alpha=0.05, tol=1e-8))
    model.fit(data.data[train], data.target[train])
    nnz = np.count_nonzero(model[-1].coef_)
    assert 1 <= nnz <= 38
    assert model.score(data.data[~train], data.target[~train]) >= 0.8


# ---------------------------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------------------------
def _demo_output(capsys, tmp_path, monkeypatch):
    from sksafe.__main__ import main

    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    figure = tmp_path / "demo.png"
    status = main(["--output", str(figure)])
    out = capsys.readouterr().out
    return status, out, figure


def test_demo_runs_and_reports(capsys, tmp_path, monkeypatch):
    status, out, figure = _demo_output(capsys, tmp_path, monkeypatch)
    assert status == 0

    # the sections, in order
    sections = ["Golub leukemia microarray: 72 samples x 7129 genes (47 ALL, 25 AML)",
                "alpha_max =", "5-fold cross-validation", "Best CV accuracy at alpha =",
                "Screening during that fit (7129 features", "Time to relative duality gap",
                "speed-up"]
    positions = [out.find(section) for section in sections]
    assert all(pos >= 0 for pos in positions), (sections, positions, out)
    assert positions == sorted(positions)

    # the cross-validation table: five alphas, certified gaps, screening counts
    rows = re.findall(rf"^\s+({FLOAT})\s+({FLOAT})±({FLOAT})\s+(\d+)\s+(\d+)\s+({FLOAT})\s+"
                      rf"({FLOAT})s$", out, flags=re.M)
    assert len(rows) == 5, out
    fractions = [float(r[0]) for r in rows]
    assert fractions == sorted(fractions, reverse=True)
    for _, acc, _, genes, screened, gap, _ in rows:
        assert 0.5 <= float(acc) <= 1.0
        assert 1 <= int(genes) <= 72
        assert int(genes) + int(screened) <= 7129
        assert int(screened) > 7000  # screening removes almost every gene
        assert float(gap) <= 1e-6

    # the selected genes are real probe names, with non-zero weights
    best = re.search(r"Best CV accuracy at alpha = \S+ alpha_max: (\d+) genes selected", out)
    assert best and int(best.group(1)) >= 1
    names = set(load_leukemia().feature_names)
    listed = re.findall(rf"^  (\S+)\s+({FLOAT})$", out, flags=re.M)
    assert 1 <= len(listed) <= 15
    assert all(name in names and float(w) != 0 for name, w in listed)

    # the screening timeline ends at the certified gap
    timeline = re.findall(rf"^\s+(\d+)\s+({FLOAT})\s+(\d+)\s+(\d+)$", out, flags=re.M)
    assert timeline
    assert float(timeline[-1][1]) <= 1e-6
    assert [int(t[0]) for t in timeline] == list(range(1, len(timeline) + 1))

    # both solvers certified at the same precision
    for solver in ("sksafe", "liblinear"):
        match = re.search(rf"{solver}\s+({FLOAT}) ms\s+\(gap ({FLOAT})", out)
        assert match, solver
        assert float(match.group(1)) > 0 and float(match.group(2)) <= 1e-6

    if HAS_MATPLOTLIB:
        assert f"Figure written to {figure}" in out
        assert figure.is_file()
        content = figure.read_bytes()
        assert content[:8] == PNG_SIGNATURE
        assert len(content) > 10_000
        width, height = int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24],
                                                                              "big")
        assert width > height > 100
    else:
        assert "matplotlib is not installed" in out
        assert not figure.exists()


def test_demo_command_line_help():
    result = subprocess.run([sys.executable, "-m", "sksafe", "--help"], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--output" in result.stdout and "--tol" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "sksafe", "--tol", "x"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2
    assert "invalid float value" in bad.stderr


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
def _run_example(name, tmp_path, timeout=120):
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, timeout=timeout, cwd=tmp_path,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_example_leukemia_gene_selection(tmp_path):
    out = _run_example("leukemia_gene_selection.py", tmp_path)
    kept = re.search(r"^(\d+) genes kept: (.+)$", out, flags=re.M)
    assert kept, out
    genes = kept.group(2).split(", ")
    assert len(genes) == int(kept.group(1)) >= 1
    assert set(genes) <= set(load_leukemia().feature_names)
    screened = re.search(rf"screened (\d+) of 7129 genes; relative duality gap ({FLOAT})", out)
    assert screened and int(screened.group(1)) + len(genes) <= 7129
    assert float(screened.group(2)) <= 1e-8
    accuracy = re.search(rf"held-out accuracy on Golub's test set: ({FLOAT})", out)
    assert accuracy and float(accuracy.group(1)) >= 0.8
    assert list(tmp_path.iterdir()) == []  # writes nothing


def test_example_lasso_sparse_text(tmp_path):
    if not (DATA_DIR / "libsvm" / "reuters.trn.bz2").is_file():
        pytest.skip(f"shared data file {DATA_DIR / 'libsvm' / 'reuters.trn.bz2'} is absent")
    out = _run_example("lasso_sparse_text.py", tmp_path, timeout=300)
    lines = re.findall(rf"^\s*(sksafe|scikit-learn): \s*({FLOAT}) ms to relative gap ({FLOAT}), "
                       r"(\d+) non-zero coefficients$", out, flags=re.M)
    assert [line[0] for line in lines] == ["sksafe", "scikit-learn"], out
    for _, ms, gap, _ in lines:
        assert float(ms) > 0 and float(gap) <= 1e-6
    nnz = [int(line[3]) for line in lines]
    assert nnz[0] > 0
    assert abs(nnz[0] - nnz[1]) <= max(2, 0.05 * nnz[1])  # same model at gap 1e-6


def test_demo_figure_is_optional(monkeypatch, capsys, tmp_path):
    """Without matplotlib the demo says how to get the figure and writes nothing."""
    import sksafe.__main__ as demo

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes ``import matplotlib`` fail
    output = tmp_path / "never.png"
    assert demo._plot(None, None, alphas=[], report=None, p=0, output=str(output)) is None
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not output.exists()
