"""The tool's RSA key pair, kept in the instance folder like the secret key, and its rotation.

`lti_key.pem` (mode 0600) signs what Alliance sends a platform: deep linking responses and the
client-credentials assertions that fetch grade and roster tokens. Rotating moves it to
`lti_key.previous.pem` and makes a new one; the key set (`/lti/jwks`) publishes both until the previous
one is retired, so platforms that cached the old key keep verifying while they pick up the new one.
"""

import functools
import os
import tempfile
from pathlib import Path

from flask import current_app

# cryptography and pylti1p3 are imported in the functions that use them: building the app loads neither.

CURRENT = "lti_key.pem"
PREVIOUS = "lti_key.previous.pem"
KEY_BITS = 2048  # what platforms expect for RS256; generating it takes a fraction of a second


class KeyFileError(Exception):
    """A key file that cannot be used; the message says which and what to do."""


def _new_private_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_once(path: Path, data: bytes) -> None:
    """Write a private file whole and link it into place: of processes starting together, one key wins."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)


def _folder() -> Path:
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def private_pem() -> str:
    """The current private key (PEM), generated and kept on first use."""
    path = _folder() / CURRENT
    if not path.is_file():
        _write_once(path, _new_private_pem())
    return path.read_text()


@functools.lru_cache(maxsize=8)
def public_pem(private: str) -> str:
    """The public half of a private key, as PEM (remembered: reading an RSA key costs tens of milliseconds)."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(private.encode(), password=None)
    except ValueError as exc:
        raise KeyFileError(
            f"The LTI key in the instance folder cannot be read ({exc}); run `alliance lti rotate-key`."
        ) from None
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def jwks() -> dict:
    """The public key set platforms verify Alliance's signatures with: the current key, then the previous one."""
    from pylti1p3.registration import Registration

    keys = [Registration.get_jwk(public_pem(private_pem()))]
    previous = _folder() / PREVIOUS
    if previous.is_file():
        keys.append(Registration.get_jwk(public_pem(previous.read_text())))
    return {"keys": keys}


def rotate() -> str:
    """Make a new current key; the old one stays published as the previous key. Returns the new key's id."""
    from pylti1p3.registration import Registration

    folder = _folder()
    current = folder / CURRENT
    private_pem()  # a first rotation on a new instance still leaves a previous key to publish
    os.replace(current, folder / PREVIOUS)
    _write_once(current, _new_private_pem())
    return Registration.get_jwk(public_pem(current.read_text()))["kid"]


def retire_previous() -> bool:
    """Stop publishing the previous key (once every platform has fetched the new one); False when there was none."""
    previous = _folder() / PREVIOUS
    if not previous.is_file():
        return False
    previous.unlink()
    return True
