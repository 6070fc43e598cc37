"""Where the shipped content, static files and migrations are, in a checkout or a wheel."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def shipped(name: str) -> Path:
    """Return the folder `name` (modules, quizzes, static, migrations) wherever it was installed."""
    in_checkout = _CHECKOUT / name
    if in_checkout.is_dir() and (_CHECKOUT / "pyproject.toml").is_file():
        return in_checkout
    return _PACKAGE / "_shipped" / name
