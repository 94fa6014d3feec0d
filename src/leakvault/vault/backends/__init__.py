"""Remote storage for the vault: one module per service, each importing its SDK only when opened.

``MAHAVISHNU_SECRETS__BACKEND`` picks one (`leakvault.vault.factory.BACKENDS` maps the names):
``hashicorp`` (Vault / OpenBao KV v2), ``transit`` (a local file of Vault transit ciphertexts),
``aws`` (Secrets Manager), ``azure`` (Key Vault) and ``gcp`` (Secret Manager). Each implements
`leakvault.vault.backend.SecretBackend`; docs/backends.md lists where the services differ.
"""

from leakvault.vault.backends._support import Section

__all__ = ["Section"]  # typed settings sections, also read by the Oneiric provider
