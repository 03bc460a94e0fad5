"""Built-in data: the Golub leukemia microarray (:func:`load_leukemia`)."""
from ._leukemia import load_leukemia

__all__ = ["load_leukemia"]
