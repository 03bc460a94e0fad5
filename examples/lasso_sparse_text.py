"""Lasso on sparse text data (Reuters, 7770 x 8315, 0.5 % non-zeros) without densifying.

Compares the time to a relative duality gap of 1e-6 with scikit-learn's Lasso, both
certified by the same duality-gap function. Needs the project's shared data folder
(``../shared/data/libsvm/reuters.trn.bz2`` from the repository root); exits cleanly
when it is absent.

Run: ``python examples/lasso_sparse_text.py``
"""
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from sksafe import SafeScreeningLasso
from sksafe.datafits import Quadratic
from sksafe.penalties import L1
from sksafe.solvers import duality_gap

path = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "libsvm" / "reuters.trn.bz2"
if not path.exists():
    print(f"data not found ({path}); nothing to do")
    sys.exit(0)
X, y = load_svmlight_file(str(path))
X = X.tocsc()
alpha = np.max(np.abs(X.T @ (y - y.mean()))) / X.shape[0] / 100


def certified(model):
    return duality_gap(X, y, Quadratic(), L1(alpha), model.coef_, model.intercept_)[1]


for name, make in [("sksafe", lambda tol: SafeScreeningLasso(alpha=alpha, tol=tol)),
                   ("scikit-learn", lambda tol: Lasso(alpha=alpha, tol=tol, max_iter=100_000))]:
    make(1e-2).fit(X, y)  # warm-up (JIT compilation for sksafe)
    for tol in 10.0 ** -np.arange(2, 13):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model = make(tol).fit(X, y)
            elapsed = time.perf_counter() - start
        gap = certified(model)
        if gap <= 1e-6:
            break
    print(f"{name:>12}: {elapsed * 1e3:8.1f} ms to relative gap {gap:.1e}, "
          f"{np.count_nonzero(model.coef_)} non-zero coefficients")
