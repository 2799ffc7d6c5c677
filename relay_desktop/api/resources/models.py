"""``/api/v1/models``."""

from __future__ import annotations

from collections.abc import Iterator

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.models import Model, Page
from relay_desktop.api.pagination import iter_items
from relay_desktop.api.resources._base import API, Resource, seg


class ModelsResource(Resource):
    def list(self, page: int = 1, page_size: int = 20, *, is_active: bool | None = None,
             cancel: CancelToken | None = None) -> Page[Model]:
        params: dict[str, object] = {"page": page, "page_size": page_size}
        if is_active is not None:
            params["is_active"] = "true" if is_active else "false"
        data = self._client._request("GET", f"{API}/models", params=params, cancel=cancel)
        return Page.from_json(data or {}, Model.from_json, page=page, page_size=page_size)

    def iter_items(self, page_size: int = 100, *, is_active: bool | None = None,
                   cancel: CancelToken | None = None) -> Iterator[Model]:
        return iter_items(lambda p, s: self.list(p, s, is_active=is_active, cancel=cancel),
                          page_size)

    def get(self, model_id: str, *, cancel: CancelToken | None = None) -> Model:
        data = self._client._request("GET", f"{API}/models/{seg(model_id)}", cancel=cancel)
        return Model.from_json(data)
