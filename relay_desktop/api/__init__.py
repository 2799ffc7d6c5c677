"""Qt-free client library for the Relay API.

    from relay_desktop.api import RelayClient, CancelToken, errors, models

    with RelayClient(base_url, api_key) as client:
        for ds in client.datasets.iter_items():
            print(ds.name)
"""

from relay_desktop.api import errors, models
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.client import RelayClient
from relay_desktop.api.retry import RetryPolicy

__all__ = ["CancelToken", "RelayClient", "RetryPolicy", "errors", "models"]
