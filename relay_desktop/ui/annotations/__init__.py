"""The annotation editor's widgets: sets panel, regions on the plots, table, history, dialogs."""

from relay_desktop.ui.annotations.editor import AnnotationEditor
from relay_desktop.ui.annotations.region_layer import RegionLayer
from relay_desktop.ui.annotations.sets_panel import SetsPanel

__all__ = ["AnnotationEditor", "RegionLayer", "SetsPanel"]
