"""The loader may raise only ProjectFileError, whatever it is fed."""

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.io import ProjectFileError, dumps, loads
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
