"""`alliance export ...` and `alliance import ...`: the groups the exchange formats add commands to."""

import click


@click.group("export")
def export() -> None:
    """Write content in another platform's format (quiz banks, SCORM packages)."""


@click.group("import")
def import_() -> None:
    """Read content from another platform's format into Alliance's files."""


def register(cli: click.Group) -> None:
    """Add the export and import groups, with every format's commands, to the `alliance` command."""
    # Each format's module adds its commands to the groups when it is imported.
    import app.exchange.banks.commands  # noqa: F401  (quiz banks: export quiz, import quiz)
    import app.exchange.scorm.cli  # noqa: F401  (SCORM packages: export scorm)
    cli.add_command(export)
    cli.add_command(import_)
