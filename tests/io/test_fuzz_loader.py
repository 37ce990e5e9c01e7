"""The loader may raise only ProjectFileError, whatever it is fed."""

import contextlib
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.io import ProjectFileError, dumps, loads
from nnstudio.io.strict_json import MAX_DEPTH, MAX_INT_DIGITS
from tests.helpers import residual

VALID = json.loads(dumps(residual().project))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


def _load_only_typed_errors(data) -> None:
    with contextlib.suppress(ProjectFileError):
        loads(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data):
    _load_only_typed_errors(data)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_random_json(value):
    _load_only_typed_errors(json.dumps(value))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


PATHS = [p for p in _paths(VALID) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), json_values, st.booleans())
def test_mutated_valid_document(path, replacement, delete):
    document = json.loads(json.dumps(VALID))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    _load_only_typed_errors(json.dumps(document))


# --- issue 15: the classes of input json.loads mishandles ------------------------------------------------------
TEXT = dumps(residual().project)


def _at(document, path):
    for key in path:
        document = document[key]
    return document


OBJECTS = [p for p in [(), *PATHS] if isinstance(_at(VALID, p), dict) and _at(VALID, p)]


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(OBJECTS), st.data())
def test_a_duplicate_key_anywhere_is_refused_naming_it(path, data):
    """Text with one object's key written twice: always refused, always naming the key."""
    obj = _at(VALID, path)
    key = data.draw(st.sampled_from(sorted(obj)))
    marker = "__dup__"
    document = json.loads(json.dumps(VALID))
    _at(document, path)[marker] = 0
    text = json.dumps(document).replace(f'"{marker}": 0', f'{json.dumps(key)}: {json.dumps(obj[key])}')
    with pytest.raises(ProjectFileError, match=f"duplicate key {re.escape(repr(key))}"):
        loads(text)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(PATHS), st.integers(MAX_INT_DIGITS + 1, MAX_INT_DIGITS + 50), st.booleans())
def test_a_huge_integer_anywhere_names_its_line(path, digits, negative):
    document = json.loads(json.dumps(VALID))
    _at(document, path[:-1])[path[-1]] = "__big__"
    number = ("-" if negative else "") + "7" * digits
    text = json.dumps(document, indent=1).replace('"__big__"', number)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if number in row)
    with pytest.raises(ProjectFileError, match=f"^line {line}, column \\d+: an integer of {digits:,} digits"):
        loads(text)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(PATHS), st.integers(1, 3 * MAX_DEPTH), st.booleans())
def test_deep_nesting_anywhere_loads_or_is_one_typed_error(path, depth, lists):
    """Nesting past MAX_DEPTH is refused before any schema check, naming where; within it, never."""
    document = json.loads(json.dumps(VALID))
    nested: object = 1
    for _ in range(depth):
        nested = [nested] if lists else {"a": nested}
    _at(document, path[:-1])[path[-1]] = nested
    too_deep = len(path) + depth > MAX_DEPTH
    try:
        loads(json.dumps(document))
    except ProjectFileError as exc:
        assert ("nested more than" in str(exc)) is too_deep
        assert not too_deep or exc.location.startswith(str(path[0]))
        assert all("\n" not in problem.line() for problem in exc.problems)
    else:
        assert not too_deep


@settings(max_examples=50, deadline=None)
@given(json_values)
def test_a_bom_changes_nothing(value):
    """With or without a UTF-8 byte-order mark, the same document loads the same or fails the same way."""
    text = json.dumps(value)
    outcomes = []
    for data in (text.encode(), b"\xef\xbb\xbf" + text.encode()):
        try:
            outcomes.append(dumps(loads(data)))
        except ProjectFileError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    assert dumps(loads(b"\xef\xbb\xbf" + TEXT.encode())) == TEXT
