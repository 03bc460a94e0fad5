"""Lazy access to the optional Flower dependency (``pip install sksafe[federated]``)."""

_HINT = ("sksafe.nn.federated runs on the Flower federated-learning engine, an optional "
         "dependency: install it with `pip install sksafe[federated]` (flwr[simulation])")


def require_flwr():
    """Return the ``flwr`` module, or raise an ImportError that says how to install it."""
    try:
        import flwr
    except ImportError as exc:  # pragma: no cover - exercised only without flwr
        raise ImportError(_HINT) from exc
    return flwr
