"""Binary keystore files (PKCS#12 .p12/.pfx, Java .jks/.jceks/.keystore) found by their path.

A committed keystore holds private keys, protected by a password that is often the default or
written next to it. Its bytes are binary, which every source skips; for a file whose name says
it is a keystore, the source scans instead one line that stands for the file:
``binary keystore file (PKCS#12) sha256:<digest>``, which the ``keystore-file`` rule reports. The
digest is the secret's stand-in: it makes the fingerprint follow the file's content (a baseline
accepts this keystore, not the next one) and never shows key material.
"""

from __future__ import annotations

import hashlib
import re

KEYSTORE_PATH = re.compile(r"(?i)\.(?:p12|pfx|jks|jceks|bks|bcfks|keystore)$")
MAGIC = {b"\xfe\xed\xfe\xed": "JKS", b"\xce\xce\xce\xce": "JCEKS"}


def keystore_text(path: str, data: bytes) -> bytes | None:
    """The line standing for a binary keystore file at ``path``, or None when the path names none."""
    if KEYSTORE_PATH.search(path) is None or not data:
        return None
    kind = MAGIC.get(data[:4], "PKCS#12" if data[:1] == b"\x30" else "unknown format")
    return f"binary keystore file ({kind}) sha256:{hashlib.sha256(data).hexdigest()}\n".encode("ascii")
