"""Lazy package exports resolve on first use and name the package for a name it does not export."""

from __future__ import annotations

import pytest

from nnstudio.util.lazy import lazy_exports


def test_a_name_is_imported_from_its_module_on_first_use():
    getattr_ = lazy_exports("json", {"dumps": "json", "JSONDecoder": ".decoder"})
    assert getattr_("dumps")([1]) == "[1]"
    assert getattr_("JSONDecoder").__module__ == "json.decoder"


def test_an_unknown_name_is_an_attribute_error_naming_the_package():
    with pytest.raises(AttributeError, match="module 'json' has no attribute 'nope'"):
        lazy_exports("json", {})("nope")
