"""Training recipes: how a graph is trained, declared once each (see spec.py and registry.py)."""

from nnstudio.training.recipes.registry import (
    DEFAULT_RECIPE,
    RECIPES,
    create_trainer,
    parse_recipe,
    recipe_problems,
)
from nnstudio.training.recipes.spec import RecipeSpec

__all__ = ["DEFAULT_RECIPE", "RECIPES", "RecipeSpec", "create_trainer", "parse_recipe", "recipe_problems"]
