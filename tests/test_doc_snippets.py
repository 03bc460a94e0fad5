"""Every Python code block of the user guide and the documentation front page runs.

The blocks of one page share a namespace, as a reader would run them one after the
other; fragments that use ``X`` and ``y`` get a small regression problem. (The
``sksafe.nn`` pages need torch and are covered by the tests of ``tests/nn``.)
"""
import re
import textwrap
import warnings
from pathlib import Path

import matplotlib
import pytest
from sklearn.datasets import make_regression

DOC = Path(__file__).parents[1] / "doc"
PAGES = ["index.rst", "user_guide/objective.rst", "user_guide/screening.rst",
         "user_guide/extending.rst", "user_guide/nonconvex.rst", "user_guide/distributed.rst"]


def python_blocks(path):
    """The ``.. code-block:: python`` bodies of a reST file, dedented."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = re.match(r"^(\s*)\.\. code-block:: python\s*$", lines[i])
        i += 1
        if not match:
            continue
        indent, body = len(match.group(1)), []
        while i < len(lines) and (not lines[i].strip()
                                  or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i])
            i += 1
        blocks.append(textwrap.dedent("\n".join(body)))
    return blocks


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_run(page, capsys):
    path = DOC / page
    if not path.exists():
        pytest.skip(f"{path} is absent")
    blocks = python_blocks(path)
    assert blocks, f"{page} has no Python block: update PAGES"
    matplotlib.use("Agg")
    X, y = make_regression(n_samples=40, n_features=60, n_informative=5, random_state=0)
    namespace = {"X": X, "y": y}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the snippets' own reference fits may warn
        for k, block in enumerate(blocks):
            exec(compile(block, f"{page} (block {k})", "exec"), namespace)
