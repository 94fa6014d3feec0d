"""A connection to HashiCorp Vault or OpenBao, shared by the KV v2 and Transit backends.

Settings (``MAHAVISHNU_SECRETS__HASHICORP__*``): ``URL``; ``TOKEN``, or AppRole ``ROLE_ID`` +
``SECRET_ID`` (``APPROLE_MOUNT``, default ``approle``); ``NAMESPACE``; TLS: ``CA_CERT`` (a PEM
bundle to verify the server), ``VERIFY`` (default true; false only for throw-away dev servers),
``CLIENT_CERT`` + ``CLIENT_KEY`` (mutual TLS); ``ALLOW_INSECURE_HTTP`` (plain http to a host that is
not loopback is refused without it); ``TIMEOUT`` seconds; ``MAX_RETRIES`` and
``RETRY_BASE_DELAY`` for throttled (429) or briefly unavailable (502/503) responses.

Every call goes through `HvacConnection.call`, which turns the SDK's and `requests`' exceptions
into the one-line errors of `leakvault.vault.backends.errors`. A 403 is ambiguous in Vault (a bad
token and a policy refusal look alike), so it is classified with a token self-lookup, which every
valid token may do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from leakvault.errors import ConfigError
from leakvault.vault.backends._support import (
    RetryPolicy,
    Section,
    check_transport,
    describe,
    import_sdk,
    with_retries,
)
from leakvault.vault.backends.errors import (
    BackendAuthError,
    BackendDeniedError,
    BackendUnreachableError,
)
from leakvault.vault.config import VaultSettings
from leakvault.vault.errors import BackendError

T = TypeVar("T")

SERVICE = "HashiCorp Vault"


@dataclass(frozen=True, slots=True)
class HvacSettings:
    """Connection settings; credentials never appear in repr()."""

    url: str
    token: str | None = field(default=None, repr=False)
    role_id: str | None = None
    secret_id: str | None = field(default=None, repr=False)
    approle_mount: str = "approle"
    namespace: str | None = None
    verify: bool | str = True
    client_cert: tuple[str, str] | None = None
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: VaultSettings) -> HvacSettings:
        section = Section("hashicorp", settings.section("hashicorp"))
        url = section.required("url", "the server address, e.g. https://vault.example.com:8200")
        check_transport(section, "url", url)
        token = section.text("token")
        role_id, secret_id = section.text("role_id"), section.text("secret_id")
        if token is None and (role_id is None or secret_id is None):
            raise ConfigError(
                f"{section.variable('token')} is not set (nor {section.variable('role_id')} and "
                f"{section.variable('secret_id')} for AppRole): the hashicorp backend needs credentials"
            )
        ca_cert = section.file("ca_cert")
        verify: bool | str = str(ca_cert) if ca_cert is not None else section.flag("verify", True)
        cert, key = section.file("client_cert"), section.file("client_key")
        if (cert is None) != (key is None):
            raise ConfigError(
                f"mutual TLS needs both {section.variable('client_cert')} and {section.variable('client_key')}"
            )
        return cls(
            url=url.rstrip("/"),
            token=token,
            role_id=role_id,
            secret_id=secret_id,
            approle_mount=section.text("approle_mount", "approle") or "approle",
            namespace=section.text("namespace"),
            verify=verify,
            client_cert=(str(cert), str(key)) if cert is not None and key is not None else None,
            timeout=section.number("timeout", 10.0, minimum=0.1),
            retry=RetryPolicy.from_section(section),
        )

    @property
    def credential_source(self) -> str:
        if self.token is not None:
            return "MAHAVISHNU_SECRETS__HASHICORP__TOKEN"
        return "the AppRole credentials (MAHAVISHNU_SECRETS__HASHICORP__ROLE_ID / __SECRET_ID)"


class HvacConnection:
    """An authenticated `hvac.Client` plus error translation and bounded retries."""

    def __init__(self, config: HvacSettings) -> None:
        self.config = config
        hvac = import_sdk("hvac", backend="hashicorp", package="hvac", extra="hashicorp")
        self._exceptions = import_sdk("hvac.exceptions", backend="hashicorp", package="hvac", extra="hashicorp")
        self._requests = import_sdk("requests", backend="hashicorp", package="requests", extra="hashicorp")
        self.client: Any = hvac.Client(
            url=config.url,
            token=config.token,
            namespace=config.namespace,
            verify=config.verify,
            cert=config.client_cert,
            timeout=config.timeout,
        )
        self._approle = config.token is None
        if self._approle:
            self._login()

    def _login(self) -> None:
        def login() -> None:
            self.client.auth.approle.login(
                role_id=self.config.role_id,
                secret_id=self.config.secret_id,
                mount_point=self.config.approle_mount,
            )

        try:
            self._translate_call("log in with AppRole", None, login)
        except (BackendDeniedError, self._exceptions.InvalidRequest):  # Vault answers 400 to a bad secret id
            raise BackendAuthError(
                f"{SERVICE} at {self.config.url} rejected {self.config.credential_source}: "
                "wrong role id or secret id, or the secret id expired"
            ) from None

    def call(self, operation: str, path: str | None, function: Callable[[], T]) -> T:
        """Run one SDK call; translate its failure; log in again once if an AppRole token expired."""
        try:
            return self._translate_call(operation, path, function)
        except BackendAuthError:
            if not self._approle:
                raise
        self._login()
        return self._translate_call(operation, path, function)

    def _translate_call(self, operation: str, path: str | None, function: Callable[[], T]) -> T:
        exc_mod = self._exceptions

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, (exc_mod.RateLimitExceeded, exc_mod.BadGateway)) or (
                isinstance(exc, exc_mod.VaultDown) and "sealed" not in str(exc).lower()
            )

        try:
            return with_retries(function, policy=self.config.retry, is_retryable=retryable, service=SERVICE)
        except self._requests.exceptions.SSLError as exc:
            raise BackendUnreachableError(
                f"TLS handshake with {SERVICE} at {self.config.url} failed ({_tls_reason(exc)}); check "
                "MAHAVISHNU_SECRETS__HASHICORP__CA_CERT and __CLIENT_CERT/__CLIENT_KEY"
            ) from None
        except (self._requests.exceptions.ConnectionError, self._requests.exceptions.Timeout) as exc:
            raise BackendUnreachableError(
                f"cannot reach {SERVICE} at {self.config.url} ({_connection_reason(exc)}); "
                "check MAHAVISHNU_SECRETS__HASHICORP__URL and that the server is running"
            ) from None
        except exc_mod.Unauthorized:
            raise self._auth_error() from None
        except exc_mod.Forbidden as exc:
            if operation != "log in with AppRole" and not self._token_is_valid():
                raise self._auth_error() from None
            raise BackendDeniedError(SERVICE, operation, path, describe(exc, 120)) from None
        except exc_mod.VaultDown as exc:
            raise BackendError(f"{SERVICE} at {self.config.url} is unavailable ({describe(exc)}); unseal it") from None
        except exc_mod.VaultNotInitialized:
            raise BackendError(f"{SERVICE} at {self.config.url} is not initialized") from None
        except (exc_mod.InternalServerError, exc_mod.UnexpectedError) as exc:
            raise BackendError(f"{SERVICE} failed to {operation}: {describe(exc)}") from None

    def _token_is_valid(self) -> bool:
        try:
            self.client.auth.token.lookup_self()
        except self._exceptions.Forbidden:
            return False
        except Exception:  # cannot tell; report the original refusal as a denial
            return True
        return True

    def _auth_error(self) -> BackendAuthError:
        return BackendAuthError(
            f"{SERVICE} at {self.config.url} rejected {self.config.credential_source}: the token is "
            "invalid, expired or revoked"
        )

    @property
    def exceptions(self) -> Any:
        return self._exceptions

    def close(self) -> None:
        adapter = getattr(self.client, "adapter", None)
        if adapter is not None:
            adapter.close()


def _connection_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("timed out", "timed out"),
        ("no route", "no route to host"),
    ):
        if needle in text:
            return reason
    return describe(exc, 120)


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    for needle in (
        "CERTIFICATE_VERIFY_FAILED",
        "certificate required",
        "CERTIFICATE_REQUIRED",
        "WRONG_VERSION_NUMBER",
        "hostname mismatch",
        "self-signed certificate",
    ):
        if needle.lower() in text.lower():
            return needle.lower().replace("_", " ")
    return describe(exc, 120)
