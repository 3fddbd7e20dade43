"""Helpers of the HTTP tests: a test client with the store's people's credentials."""

from __future__ import annotations

import warnings
from typing import Any

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402 - after the filter above

__all__ = ["Api", "TestClient"]


class Api:
    """A test client of the app, with the personal credentials of the store's people."""

    def __init__(self, proc: Any, client: TestClient) -> None:
        self.proc = proc
        self.client = client

    def auth(self, name: str) -> dict[str, str]:
        """The Authorization header of `name` (their current credential)."""
        return {"Authorization": f"Bearer {self.proc.issued[name]}"}

    def as_(self, name: str, method: str, url: str, **kwargs: Any) -> Any:
        """A request as `name`."""
        headers = {**self.auth(name), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def add(self, name: str, email: str, controller: str = "acme", list_name: str = "news") -> str:
        """Add a contact over HTTP; its id."""
        r = self.as_(name, "POST", f"/v1/controllers/{controller}/contacts",
                     json={"list": list_name, "email": email, "consent": "email:double-opt-in"})  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["contact_id"])
