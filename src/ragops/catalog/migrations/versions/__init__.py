"""One module per catalog migration, applied in order (``down_revision`` chains them)."""
