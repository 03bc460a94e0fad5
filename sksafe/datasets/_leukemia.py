"""The Golub et al. (1999) ALL/AML leukemia microarray, shipped with the package."""
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

DESCR = """Golub leukemia data (ALL vs AML)
================================

72 bone-marrow / blood samples of acute lymphoblastic (ALL, 47) and acute
myeloid (AML, 25) leukemia, 7129 Affymetrix Hu6800 probe sets, raw expression
values (negative values included, nothing standardised).

Golub, T. R. et al. (1999). Molecular classification of cancer: class discovery
and class prediction by gene expression monitoring. Science 286(5439), 531-537.

Copied from the R data package ``datamicroarray`` (ramhiser/datamicroarray,
commit a95f6f68, MIT licence). ``is_train`` marks Golub's original 38-sample
training set (the LIBSVM ``leu`` file); the other 34 form ``leu.t``.
"""


def load_leukemia(*, return_X_y=False):
    """Load the Golub ALL/AML leukemia microarray (72 samples x 7129 genes).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (72, 7129) float64, ``target`` (72,) int (0 = ALL, 1 = AML),
        ``feature_names`` (probe-set ids), ``target_names`` (``["ALL", "AML"]``),
        ``sample_names``, ``is_train`` (Golub's 38-sample training split), ``DESCR``.
    (X, y) : tuple of ndarray
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from sksafe.datasets import load_leukemia
    >>> X, y = load_leukemia(return_X_y=True)
    >>> X.shape
    (72, 7129)
    """
    path = resources.files("sksafe.datasets") / "data" / "golub.npz"
    with resources.as_file(path) as file, np.load(file, allow_pickle=False) as archive:
        X = archive["X"].astype(np.float64)
        y = archive["y"].astype(np.int64)
        bunch = Bunch(data=X, target=y, feature_names=archive["feature_names"].astype(str),
                      target_names=archive["target_names"].astype(str),
                      sample_names=archive["sample_names"].astype(str),
                      is_train=archive["is_train"].astype(bool), DESCR=DESCR)
    if return_X_y:
        return X, y
    return bunch
