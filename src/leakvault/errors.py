"""Exceptions every part of leakvault raises, and the exit code each one maps to.

A `LeakvaultError` message is one line that says what went wrong and what to do about it; the CLI
prints it as ``leakvault: error: <message>`` and exits with ``exit_code`` (2 unless a subclass says
otherwise). Messages never contain a secret value.
"""

from __future__ import annotations


class LeakvaultError(Exception):
    """Base class of the errors leakvault reports to the user without a traceback."""

    exit_code = 2


class UsageError(LeakvaultError):
    """The command line asked for something impossible (a missing path, a bad flag combination)."""


class ConfigError(LeakvaultError):
    """A configuration file or environment variable is invalid; the message names the file and key."""


class RuleError(ConfigError):
    """A rule definition is invalid (built-in or user-supplied)."""
