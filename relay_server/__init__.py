"""Relay Local: a complete implementation of the Relay API on your own machine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("relay-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
