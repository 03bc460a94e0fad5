"""Every Python block of the paths / CV user guide page runs (as in test_doc_snippets)."""
import warnings

import matplotlib
from sklearn.datasets import make_regression

from test_doc_snippets import DOC, python_blocks


def test_paths_cv_page_runs():
    blocks = python_blocks(DOC / "user_guide" / "paths_cv.rst")
    assert len(blocks) >= 5
    matplotlib.use("Agg")
    X, y = make_regression(n_samples=40, n_features=60, n_informative=5, random_state=0)
    namespace = {"X": X, "y": y}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, block in enumerate(blocks):
            exec(compile(block, f"paths_cv.rst (block {k})", "exec"), namespace)
    assert namespace["gaps"].max() <= 1e-8
    import matplotlib.pyplot as plt
    plt.close("all")
