"""Finding where a value sits in a YAML file, to name its line in error messages.

Validation works on parsed data and records the path of each problem
(`objects.framework.requirement_nodes[12].parent_urn`); these helpers compose the file again
(only when there is a problem) and walk that path to the line of the value, or of its nearest
existing parent when the value is missing.
"""

from __future__ import annotations

import yaml

try:  # the C composer is several times faster on large files
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader


class _Loader(_BaseLoader):
    """The safe loader, with impossible dates (2030-13-01) reported at their line."""


def _timestamp(loader, node):
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"date impossible « {node.value} »", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def path_label(path: tuple) -> str:
    """`("objects", "framework", "requirement_nodes", 3, "urn")` → `objects.framework.requirement_nodes[3].urn`."""
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


def compose(text: str):
    """The document's node tree, or None when it is not valid YAML."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def locate(root, path: tuple):
    """(node, 1-based line) of the value at `path`, or of its nearest existing parent."""
    if root is None:
        return None, None
    node, line = root, root.start_mark.line + 1
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return node, line


def _child(node, part):
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if getattr(key, "value", None) == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


class YamlFileError(Exception):
    """A file that cannot even be read as YAML: its line (or None) and the reason, in French."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(message)


def read_yaml(data: bytes | str, *, max_bytes: int):
    """(text, document) of a YAML file, size, encoding (UTF-8, BOM allowed) and syntax checked
    with the safe loader; YamlFileError naming the line otherwise. Validation of the document
    itself is the caller's."""
    from django.utils.translation import gettext as _

    if isinstance(data, bytes):
        if len(data) > max_bytes:
            raise YamlFileError(
                None, _("Le fichier dépasse %(size)s Ko.") % {"size": max_bytes // 1024}
            )
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlFileError(
                None, _("Le fichier n'est pas en UTF-8 (octet %(pos)s).") % {"pos": exc.start}
            ) from None
    try:
        document = yaml.load(data, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlFileError(
            mark.line + 1 if mark else None,
            _("YAML invalide : %(problem)s") % {"problem": exc.problem or exc},
        ) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(None, _("YAML invalide : %(problem)s") % {"problem": exc}) from None
    return data, document
