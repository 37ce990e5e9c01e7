"""Parsing JSON that users and other programs write, refusing what would only fail later.

`json.loads` accepts things a project file must not contain, and then the failure comes far from the file:
a duplicate key silently keeps the last value; an integer of more than 4,300 digits raises a bare ValueError
(Python's limit on int conversion); a section nested 900 deep parses but makes later recursive code fail;
NaN and Infinity are not JSON at all. `parse_json` refuses each of them with a ProjectFileError that names
the place (a line for a token, a JSON path for a structure), and accepts a leading UTF-8 byte-order mark, as
Windows editors write it and as the CSV reader already does.
"""

from __future__ import annotations

import json
from typing import Any

from nnstudio.io.reader import ProjectFileError

BOM = "\ufeff"
MAX_INT_DIGITS = 4300  # Python's own default limit for int(str); nothing in a project comes near it
MAX_DEPTH = 64  # nesting levels; a real project reaches about 8


class _BadToken(Exception):
    """A literal that json.loads would accept or choke on, raised from its hooks and located by text search."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


class _DuplicateKeys(dict):
    """An object that had a key twice. The hook cannot know where the object is; the depth walk, which knows
    every value's path, reports it."""

    duplicate: str = ""


def parse_json(data: str | bytes) -> Any:
    """The parsed document, or a ProjectFileError naming the line or path of the first thing refused."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"not UTF-8 text (byte {exc.start})") from None
    text = text.removeprefix(BOM)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"not valid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    except _BadToken as exc:
        raise ProjectFileError(exc.message, _place_of(text, exc.token)) from None
    except RecursionError:
        raise ProjectFileError(f"not valid JSON: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # any other literal Python refuses to convert
        raise ProjectFileError(f"not valid JSON: {exc}") from None
    check_structure(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not allowed", name, 0)


def _parse_int(token: str) -> int:
    digits = len(token.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _BadToken(f"an integer of {digits:,} digits; at most {MAX_INT_DIGITS:,} are allowed", token)
    return int(token)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    flagged = _DuplicateKeys(result)
    flagged.duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
    return flagged


def _place_of(text: str, token: str) -> str:
    index = max(text.find(token), 0)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def check_structure(value: Any) -> None:
    """Refuse duplicate keys and nesting deeper than MAX_DEPTH, naming the path. Iterative, so a document
    nested deeper than Python's recursion limit is reported like any other."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, location, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProjectFileError(f"nested more than {MAX_DEPTH} levels deep", _short(location))
        if isinstance(item, _DuplicateKeys):
            raise ProjectFileError(
                f"duplicate key {item.duplicate!r}: each key may appear only once in an object", location
            )
        if isinstance(item, dict):
            stack.extend(
                (child, f"{location}.{key}" if location else key, depth + 1) for key, child in reversed(item.items())
            )
        elif isinstance(item, list):
            stack.extend((child, f"{location}[{index}]", depth + 1) for index, child in reversed(list(enumerate(item))))


def _short(location: str, keep: int = 60) -> str:
    """A path of hundreds of levels, cut to its start: the user needs to know which section it is in."""
    return location if len(location) <= keep else location[:keep] + "…"
