"""The encrypted secret store (filled in by the vault issues)."""
