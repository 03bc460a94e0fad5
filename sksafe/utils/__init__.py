"""Internal helpers (input validation)."""
