"""Errors a remote backend raises when the service, not the vault, is the problem.

Each message is one line naming the service, what happened and what to do, and never contains a
secret value or a credential (tokens are named by their settings variable, never printed).
"""

from __future__ import annotations

from leakvault.errors import ConfigError
from leakvault.vault.errors import AccessDeniedError, BackendError


class BackendUnreachableError(BackendError):
    """The service did not answer: connection refused, DNS failure, TLS handshake failure, timeout."""


class BackendAuthError(BackendError):
    """The service rejected our credentials (wrong, expired or revoked token; bad AppRole secret)."""


class BackendThrottledError(BackendError):
    """The service kept throttling the request after the bounded retries were spent."""


class BackendDeniedError(AccessDeniedError):
    """The service's own access control refused an operation our credentials are not allowed to do.

    A subclass of `AccessDeniedError`, so `SecretVault` audits it as ``denied`` like a refusal by
    the vault policy, but the message names the service and its policy instead of an identity.
    """

    def __init__(self, service: str, operation: str, path: str | None, detail: str = "") -> None:
        # Not AccessDeniedError.__init__: that message is about a leakvault identity and role.
        self.identity = service
        self.capability = operation
        self.path = path
        target = "" if path is None else f" on {path!r}"
        extra = f" ({detail})" if detail else ""
        message = f"{service} denied {operation}{target}{extra}; check the credentials' policy in {service}"
        Exception.__init__(self, message)


class BackendNotInstalledError(ConfigError):
    """The backend's optional SDK is not installed."""

    def __init__(self, backend: str, package: str, extra: str) -> None:
        super().__init__(
            f"the {backend!r} vault backend needs the {package!r} package: pip install 'leakvault[{extra}]'"
        )
