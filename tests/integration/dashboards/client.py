"""A synchronous HTTP client over an ASGI app in process, keeping cookies like a browser."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

__all__ = ["PageClient"]


class PageClient:
    """``get`` / ``post`` against ``app`` without following redirects."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.cookies = httpx.Cookies()

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        return asyncio.run(self._request(method, path, **options))

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    async def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://driftline", cookies=self.cookies
        ) as client:
            response = await client.request(method, path, **options)
            self.cookies = client.cookies
            return response
