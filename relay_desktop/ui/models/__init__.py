"""The Models view: models with their evaluation figures and lineage."""

from relay_desktop.ui.models.details import ModelDetails
from relay_desktop.ui.models.panel import ModelsPanel

__all__ = ["ModelDetails", "ModelsPanel"]
