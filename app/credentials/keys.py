"""The issuer's signing key: an RSA key kept in the instance folder (mode 0600), like the secret key.

Open Badges 3.0 asks every verifier to support RS256, so the key is RSA (3072 bits). It is made on the
first signature and read from the file afterwards; every worker and server of a deployment must share the
file (copy it with the database's backups: badges signed with a lost key can no longer be verified).
Verifiers find the public half at the key id (`kid`), a URL answering with the JWK. `cryptography` and
PyJWT are imported when the key is first read or made, not when the app is built.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "credential_signing_key.pem"
KEY_BITS = 3072


class SigningKeyError(RuntimeError):
    """The signing key file cannot be read as an RSA private key; the message says which file and what to do."""


@dataclass(frozen=True)
class SigningKey:
    """The issuer's private key, its public JWK and the thumbprint naming it."""

    private: rsa.RSAPrivateKey
    public_jwk: dict
    thumbprint: str

    @property
    def public(self) -> rsa.RSAPublicKey:
        """The public half."""
        return self.private.public_key()


def key_path() -> Path:
    """Where this instance keeps its signing key (the setting CREDENTIAL_KEY_FILE, else the instance folder)."""
    configured = current_app.config.get("CREDENTIAL_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE


def _write_new_key(path: Path) -> None:
    """Make a key and link it into place whole; processes starting together all end up with the one that won."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credential_key.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)


def thumbprint(jwk: dict) -> str:
    """The RFC 7638 thumbprint of an RSA public JWK (SHA-256 of its required members, base64url)."""
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def load(path: Path) -> SigningKey:
    """The key in this file (made first if there is none)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    if not path.is_file():
        _write_new_key(path)
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"The credential signing key {path} cannot be read ({exc}). Restore it from a backup, or remove it "
            "to make a new one (badges signed with the old key will then fail verification)."
        ) from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise SigningKeyError(f"The credential signing key {path} is not an RSA key; Open Badges need RS256.")
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}  # never "d": only the public members
    return SigningKey(private, public, thumbprint(public))


def signing_key() -> SigningKey:
    """The app's signing key, read once per process."""
    cached = current_app.extensions.get("alliance.credential_key")
    if cached is None:
        cached = current_app.extensions["alliance.credential_key"] = load(key_path())
    return cached
