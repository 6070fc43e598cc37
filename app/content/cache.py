"""The parsed content catalog kept on disk between starts, keyed by a hash of everything parsing reads.

Parsing and checking every module, quiz and conversation takes about a second, most of a cold
start; unpickling the result takes milliseconds. The key hashes the content files (names and
bytes), the code that parses them (every file of app/content) and the versions of Python and of
the libraries it uses, so any change to one of them parses afresh. Only valid content is kept
(invalid content raises before anything is written). The cache lives in the instance folder
(`<instance>/cache/`); when it cannot be read or written (a read-only or full disk) the app
parses as before, and says nothing: the cache only saves time.
"""

import copyreg
import hashlib
import io
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from types import MappingProxyType

from app.content.catalog import Catalog

#: The libraries whose output ends up in the catalog (rendered Markdown, cleaned HTML, parsed YAML).
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "nh3", "PyYAML")
_CODE = Path(__file__).resolve().parent
PREFIX = "catalog-"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _hash_tree(digest, root: Path) -> None:
    """Feed every file under `root` (its path relative to `root`, then its bytes) into `digest`, in a fixed order."""
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def key(dirs: list[Path]) -> str:
    """The hash of everything that decides the parsed catalog of these folders."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update(" ".join(f"{name}={_version(name)}" for name in _LIBRARIES).encode())
    _hash_tree(digest, _CODE)
    for folder in dirs:
        digest.update(b"\1" + str(folder).encode() + b"\0")
        if folder.is_dir():
            _hash_tree(digest, folder)
    return digest.hexdigest()


def _mapping_proxy(mapping: dict) -> MappingProxyType:
    """A read-only view of `mapping` (how a pickled mappingproxy is rebuilt)."""
    return MappingProxyType(mapping)


class _Pickler(pickle.Pickler):
    """A pickler that also writes the catalog's read-only indexes (mappingproxy has no pickling of its own)."""

    dispatch_table = {**copyreg.dispatch_table, MappingProxyType: lambda proxy: (_mapping_proxy, (dict(proxy),))}


def _read(path: Path) -> Catalog | None:
    """The catalog kept at `path`, or None when there is none or it cannot be used."""
    try:
        with path.open("rb") as file:
            found = pickle.load(file)  # noqa: S301 - written by this module into the instance folder, which holds the secret key too
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a truncated or stale file: parse afresh
        return None
    return found if isinstance(found, Catalog) else None


def _write(folder: Path, path: Path, catalog: Catalog) -> None:
    """Keep the catalog at `path` (written whole, then renamed), removing older ones; silently skipped when it cannot be."""
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(catalog)
        folder.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=folder, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(buffer.getvalue())
            os.replace(partial, path)
        finally:
            Path(partial).unlink(missing_ok=True)
        for older in folder.glob(f"{PREFIX}*.pickle"):
            if older != path:
                older.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - an unwritable folder, a full disk, an object pickle cannot take
        return


def load(dirs: list[Path], folder: Path | None, build: Callable[[list[Path]], Catalog]) -> Catalog:
    """The catalog of `dirs`: from the cache in `folder` when it matches, else built (and kept there)."""
    if folder is None:
        return build(dirs)
    try:
        path = folder / f"{PREFIX}{key(dirs)[:40]}.pickle"
    except OSError:
        return build(dirs)
    found = _read(path)
    if found is not None:
        return found
    catalog = build(dirs)  # raises ContentError on invalid content: nothing is kept
    _write(folder, path, catalog)
    return catalog
