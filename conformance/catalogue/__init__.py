"""The requirement catalogue of the EMAP binding (every requirement id, with clause, level, side, mode, title)."""

from .loader import BINDS, LEVELS, MODES, Catalogue, CatalogueError, Requirement, load_catalogue

__all__ = ["BINDS", "LEVELS", "MODES", "Catalogue", "CatalogueError", "Requirement", "load_catalogue"]
