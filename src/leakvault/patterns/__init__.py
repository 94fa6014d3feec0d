"""Rule data (TOML files under ``rules/``), the loader that lints and compiles it, and validators."""
