"""Sphinx configuration of the sksafe documentation.

Build from the repository root with warnings as errors::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

The build needs no network: intersphinx is loaded but has no mapping (so
nothing is fetched), and MathJax is only loaded by the browser at view time.
"""
import os
import sys
from datetime import date

# Prefer the checkout next to this directory over any other installed copy.
sys.path.insert(0, os.path.abspath(".."))

import sksafe  # noqa: E402

# -- Project information -------------------------------------------------------

project = "sksafe"
author = "sksafe developers"
copyright = f"{date.today().year}, {author}"
release = sksafe.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration -----------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary -----------------------------------------------------

# Stub pages are written to doc/generated/ (git-ignored) at every build.
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # types are documented in the numpydoc sections

# -- numpydoc ------------------------------------------------------------------

# Members are listed by the autosummary class template (doc/_templates), not
# by numpydoc: letting both do it duplicates entries and produces warnings.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- intersphinx ---------------------------------------------------------------

# Left empty on purpose: the build must work offline, so no inventory is fetched.
# References such as :class:`sklearn.linear_model.Lasso` render as plain code.
intersphinx_mapping = {}

# -- HTML output ---------------------------------------------------------------

try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:
    pydata_sphinx_theme = None

if pydata_sphinx_theme is not None:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
else:
    html_theme = "alabaster"
    html_theme_options = {}

html_title = f"sksafe {release}"
html_static_path = []
