"""Adapters that let other tools (Crackerjack, Oneiric) run leakvault."""
