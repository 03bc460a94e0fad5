"""sksafe: sparse convex models with dynamic Gap Safe screening, scikit-learn compatible."""
__version__ = "0.1.0.dev0"
