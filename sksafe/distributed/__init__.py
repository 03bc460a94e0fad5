"""Distributed fitting on Dask: row blocks, dynamic Gap Safe screening, exact certificates.

``est.fit(X, y)`` with ``X`` a :class:`dask.array.Array` runs the estimator's
solver on the cluster of the default ``dask.distributed`` client (or the one
given to :func:`solve_distributed`): every data pass is one reduction over row
blocks, each computed where its block lives, and the fit is certified by the
same relative duality gap as on one machine. Install with ``pip install
'sksafe[dask]'``. See the user guide, "Distributed fitting".
"""
from ._api import path_distributed, solve_distributed
from ._runtime import CommunicationLedger

__all__ = ["solve_distributed", "path_distributed", "CommunicationLedger"]
