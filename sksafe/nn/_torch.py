"""Lazy access to the optional torch dependency.

``import sksafe`` and the NumPy parts of :mod:`sksafe.nn` (topologies, coding,
compression, the gossip engine) never import torch; the torch-backed objects call
:func:`require_torch` when they are first used.
"""

_HINT = ("this part of sksafe.nn needs PyTorch, which is an optional dependency: "
         "install it with `pip install sksafe[torch]`")


def require_torch():
    """Return the ``torch`` module, or raise an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(_HINT) from exc
    return torch
