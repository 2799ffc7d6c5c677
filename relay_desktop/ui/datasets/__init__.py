"""Dataset browser, the dataset dialog (artifact types) and the delete confirmation."""

from relay_desktop.ui.datasets.browser import DatasetBrowser
from relay_desktop.ui.datasets.delete_dialog import DeleteDatasetDialog
from relay_desktop.ui.datasets.dialog import DatasetDialog

__all__ = ["DatasetBrowser", "DatasetDialog", "DeleteDatasetDialog"]
