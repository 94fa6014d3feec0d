"""Private keys and their public look-alikes, built deterministically from a seeded RNG.

Elliptic-curve and Ed25519 keys are real keys (derived from RNG bytes, so the corpus is
reproducible); RSA bodies are the real DER header followed by random bytes, which is all a scanner
can see without parsing. OpenSSH and PGP containers are assembled by hand because the library
versions use fresh OS randomness (check integers, salts).
"""

from __future__ import annotations

import base64
import random
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def _wrap(text: str, width: int) -> list[str]:
    return [text[index : index + width] for index in range(0, len(text), width)]


def pem(label: str, der: bytes, width: int = 64) -> str:
    """A PEM block with ``label`` around ``der`` (base64, wrapped)."""
    body = _wrap(base64.b64encode(der).decode(), width)
    return "\n".join([f"-----BEGIN {label}-----", *body, f"-----END {label}-----"])


def rsa_pkcs1(rng: random.Random) -> str:
    # RSAPrivateKey SEQUENCE, version 0, then the 257-byte modulus INTEGER header; the rest random.
    header = bytes.fromhex("308204a40201000282010100")
    return pem("RSA PRIVATE KEY", header + rng.randbytes(1192 - len(header)))


def rsa_pkcs8(rng: random.Random) -> str:
    header = bytes.fromhex("308204be020100300d06092a864886f70d0101010500048204a8308204a40201000282010100")
    return pem("PRIVATE KEY", header + rng.randbytes(1218 - len(header)))


def encrypted_pkcs8(rng: random.Random) -> str:
    # EncryptedPrivateKeyInfo with PBES2 (PBKDF2 + AES-256-CBC) algorithm identifiers.
    header = bytes.fromhex("30820525305706092a864886f70d01050d304a302906092a864886f70d01050c301c0408")
    return pem("ENCRYPTED PRIVATE KEY", header + rng.randbytes(1321 - len(header)))


def _ec_key(rng: random.Random) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(rng.randrange(1, order), ec.SECP256R1())


def ec_sec1(rng: random.Random) -> str:
    return (
        _ec_key(rng)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        .decode()
        .strip()
    )


def ec_pkcs8(rng: random.Random) -> str:
    return (
        _ec_key(rng)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
        .strip()
    )


def ec_public(rng: random.Random) -> str:
    return (
        _ec_key(rng)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        .strip()
    )


def _sshstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _openssh_container(public_blob: bytes, private_body: bytes, rng: random.Random) -> str:
    check = rng.randbytes(4)
    section = check + check + private_body + _sshstr(b"deploy@build-01")
    section += bytes(range(1, 1 + (-len(section) % 8)))
    blob = (
        b"openssh-key-v1\0"
        + _sshstr(b"none")
        + _sshstr(b"none")
        + _sshstr(b"")
        + struct.pack(">I", 1)
        + _sshstr(public_blob)
        + _sshstr(section)
    )
    return pem("OPENSSH PRIVATE KEY", blob, width=70)


def openssh_ed25519(rng: random.Random) -> str:
    seed = rng.randbytes(32)
    public = (
        ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    public_blob = _sshstr(b"ssh-ed25519") + _sshstr(public)
    body = _sshstr(b"ssh-ed25519") + _sshstr(public) + _sshstr(seed + public)
    return _openssh_container(public_blob, body, rng)


def openssh_rsa(rng: random.Random) -> str:
    modulus = b"\0" + rng.randbytes(256)
    public_blob = _sshstr(b"ssh-rsa") + _sshstr(b"\x01\x00\x01") + _sshstr(modulus)
    body = public_blob + b"".join(_sshstr(rng.randbytes(size)) for size in (256, 129, 129, 129))
    return _openssh_container(public_blob, body, rng)


def ssh_ed25519_public(rng: random.Random) -> str:
    public = (
        ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    return public.decode() + " ops@bastion"


def ssh_rsa_public(rng: random.Random) -> str:
    blob = _sshstr(b"ssh-rsa") + _sshstr(b"\x01\x00\x01") + _sshstr(b"\0" + rng.randbytes(256))
    return "ssh-rsa " + base64.b64encode(blob).decode() + " deploy@ci"


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_private(rng: random.Random) -> str:
    # New-format packet tag 5 (secret key), version 4, EdDSA: then random key material.
    packet = bytes.fromhex("c558") + b"\x04" + rng.randbytes(4) + b"\x16" + rng.randbytes(600)
    body = _wrap(base64.b64encode(packet).decode(), 64)
    checksum = base64.b64encode(_crc24(packet).to_bytes(3, "big")).decode()
    return "\n".join(
        ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "", *body, f"={checksum}", "-----END PGP PRIVATE KEY BLOCK-----"]
    )


def pgp_public(rng: random.Random) -> str:
    packet = bytes.fromhex("c633") + b"\x04" + rng.randbytes(4) + b"\x16" + rng.randbytes(300)
    body = _wrap(base64.b64encode(packet).decode(), 64)
    checksum = base64.b64encode(_crc24(packet).to_bytes(3, "big")).decode()
    return "\n".join(
        ["-----BEGIN PGP PUBLIC KEY BLOCK-----", "", *body, f"={checksum}", "-----END PGP PUBLIC KEY BLOCK-----"]
    )


def putty_ed25519(rng: random.Random) -> str:
    seed = rng.randbytes(32)
    public = (
        ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    public_b64 = base64.b64encode(_sshstr(b"ssh-ed25519") + _sshstr(public)).decode()
    private_b64 = base64.b64encode(_sshstr(seed)).decode()
    return "\n".join(
        [
            "PuTTY-User-Key-File-3: ssh-ed25519",
            "Encryption: none",
            "Comment: eddsa-key-20240311",
            "Public-Lines: 2",
            *_wrap(public_b64, 64),
            "Private-Lines: 1",
            private_b64,
            f"Private-MAC: {rng.randbytes(32).hex()}",
        ]
    )


def certificate(rng: random.Random) -> str:
    # X.509 Certificate SEQUENCE / TBSCertificate header; the rest random.
    header = bytes.fromhex("3082030d308201f5a003020102021400")
    return pem("CERTIFICATE", header + rng.randbytes(785 - len(header)))


PRIVATE_KEY_MAKERS = {
    "private-key-rsa": rsa_pkcs1,
    "private-key-pkcs8": rsa_pkcs8,
    "private-key-ec": ec_sec1,
    "private-key-ec-pkcs8": ec_pkcs8,
    "private-key-openssh": openssh_ed25519,
    "private-key-openssh-rsa": openssh_rsa,
    "private-key-pgp": pgp_private,
    "private-key-putty": putty_ed25519,
    "private-key-encrypted": encrypted_pkcs8,
}
