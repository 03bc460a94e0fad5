"""Splitting a data set over the nodes of a decentralized run (IID or label-skewed)."""
import numpy as np

__all__ = ["split_iid", "split_by_label"]


def _check(n_samples, n_nodes):
    if int(n_nodes) != n_nodes or n_nodes < 1:
        raise ValueError(f"n_nodes must be an integer >= 1, got {n_nodes!r}")
    if n_samples < n_nodes:
        raise ValueError(f"{n_samples} samples cannot be split over {n_nodes} nodes")


def split_iid(n_samples, n_nodes, seed=None):
    """Shuffle ``range(n_samples)`` and cut it into ``n_nodes`` shards of near-equal size.

    Returns a list of index arrays, one per node.
    """
    _check(n_samples, n_nodes)
    perm = np.random.default_rng(seed).permutation(n_samples)
    return [np.sort(part) for part in np.array_split(perm, n_nodes)]


def split_by_label(y, n_nodes, seed=None):
    """Label-skewed split: samples sorted by label, then cut into ``n_nodes`` contiguous shards.

    Each node sees only one or two classes (with ten classes and eight nodes), the
    "sorted" non-IID split of McMahan et al. (AISTATS 2017) with one shard per node;
    within a label the order is random.
    """
    y = np.asarray(y)
    _check(y.size, n_nodes)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(y.size), y))
    return [np.sort(part) for part in np.array_split(order, n_nodes)]
