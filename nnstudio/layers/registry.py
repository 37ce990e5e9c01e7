"""The layer catalogue: register and look up LayerSpecs; plugins arrive through an entry-point group."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib.metadata import entry_points

from nnstudio.layers.spec import LayerSpec

ENTRY_POINT_GROUP = "nnstudio.layers"

CATEGORY_ORDER = (
    "Input / Output",
    "Dense",
    "Convolution",
    "Pooling",
    "Normalisation",
    "Activation",
    "Shape",
    "Sequence",
    "Attention",
    "Capsules",
    "ODE",
    "Competitive",
    "Merge",
    "Stochastic",
    "Losses",
)


class Registry:
    def __init__(self, specs: Iterable[LayerSpec] = ()) -> None:
        self._specs: dict[str, LayerSpec] = {}
        self._aliases: dict[str, str] = {}
        self.plugin_errors: list[str] = []  # plugins that failed to load, shown to the user
        for spec in specs:
            self.register(spec)

    def register(self, spec: LayerSpec) -> LayerSpec:
        if spec.type in self._specs or spec.type in self._aliases:
            raise ValueError(f"layer type {spec.type!r} is already registered")
        self._specs[spec.type] = spec
        for alias in spec.legacy_types:
            self._aliases[alias] = spec.type
        return spec

    def get(self, type_name: str) -> LayerSpec | None:
        spec = self._specs.get(type_name)
        if spec is None and type_name in self._aliases:
            spec = self._specs[self._aliases[type_name]]
        return spec

    def canonical(self, type_name: str) -> str:
        """The current name for a type, following renames recorded in legacy_types."""
        return self._aliases.get(type_name, type_name)

    def __getitem__(self, type_name: str) -> LayerSpec:
        spec = self.get(type_name)
        if spec is None:
            raise KeyError(f"unknown layer type {type_name!r}")
        return spec

    def __contains__(self, type_name: object) -> bool:
        return isinstance(type_name, str) and self.get(type_name) is not None

    def __iter__(self) -> Iterator[LayerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def by_category(self) -> list[tuple[str, list[LayerSpec]]]:
        groups: dict[str, list[LayerSpec]] = {}
        for spec in self._specs.values():
            groups.setdefault(spec.category, []).append(spec)
        order = {name: i for i, name in enumerate(CATEGORY_ORDER)}
        return sorted(groups.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))

    def load_plugins(self) -> None:
        """Register layers from installed packages. A broken plugin is reported, never fatal."""
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                self._register_plugin(entry.load())
            except Exception as exc:  # a third-party plugin may fail in any way
                self.plugin_errors.append(f"layer plugin {entry.name!r} ({entry.value}): {exc}")

    def _register_plugin(self, obj: object) -> None:
        if isinstance(obj, LayerSpec):
            self.register(obj)
        elif callable(obj):
            obj(self)
        elif isinstance(obj, Iterable):
            for spec in obj:
                self.register(spec)
        else:
            raise TypeError("entry point must be a LayerSpec, a list of them, or a callable(registry)")


def builtin_registry() -> Registry:
    from nnstudio.layers.builtin import all_builtin_specs

    return Registry(all_builtin_specs())


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """Built-ins plus installed plugins. Shared, so treat it as read-only."""
    registry = builtin_registry()
    registry.load_plugins()
    return registry
