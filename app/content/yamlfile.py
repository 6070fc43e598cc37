"""YAML reading that remembers line numbers, so problems can point at them.

PyYAML is imported when a file is first read: a worker serving a catalog read from the cache
never needs it (half a megabyte each).
"""

from functools import cache
from pathlib import Path
from typing import Any


class Mapping(dict):
    """A YAML mapping that knows the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of `key`, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


@cache
def _line_loader():
    """PyYAML, and a safe loader of it whose mappings are `Mapping`s with line numbers."""
    import yaml

    # libyaml's parser where PyYAML was built with it: the same nodes and marks, several times faster.
    class LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        """A safe loader whose mappings are `Mapping`s with line numbers."""

    def construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> Mapping:
        loader.flatten_mapping(node)
        mapping = Mapping()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise yaml.constructor.ConstructorError(None, None, "a key must be plain text", key_node.start_mark)
            key = str(key)
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' appears twice", key_node.start_mark
                )
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return yaml, LineLoader


class YamlError(Exception):
    """A file that is not valid YAML, with the line the parser stopped at."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def load(path: Path) -> Any:
    """Parse a YAML file into `Mapping`s, lists and scalars, or raise YamlError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlError("the file is not UTF-8 text", None) from None
    except OSError as exc:
        raise YamlError(f"the file cannot be read: {exc.strerror or exc}", None) from None
    yaml, line_loader = _line_loader()
    try:
        return yaml.load(text, Loader=line_loader)  # noqa: S506 - it derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "not valid YAML"
        return _raise(f"broken YAML: {problem}", mark.line + 1 if mark else None)
    except yaml.YAMLError as exc:
        return _raise(f"broken YAML: {exc}", None)


def _raise(message: str, line: int | None):
    raise YamlError(message, line)
