"""Relay Desktop: label, train and detect artifacts in generated speech."""

__version__ = "0.1.0"
