"""Content versions: a short hash of the bytes a module, its lessons or a quiz file was built from."""

import hashlib


def digest(*parts: bytes) -> str:
    """A 16-hex-digit hash of these byte strings, each length-prefixed so no two splits collide."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()[:16]
