"""The Jobs dock: training and inference jobs, the loss plot, desktop notifications."""

from relay_desktop.ui.jobs.loss_plot import LossPlot
from relay_desktop.ui.jobs.model import JobsFilter, JobsTableModel
from relay_desktop.ui.jobs.notifier import JobNotifier
from relay_desktop.ui.jobs.panel import JobsPanel

__all__ = ["JobNotifier", "JobsFilter", "JobsPanel", "JobsTableModel", "LossPlot"]
