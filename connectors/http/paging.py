"""The ways trackers page their lists, each written once over :class:`~connectors.http.client.HttpClient`.

- :func:`token_pages`: a token in each answer asks for the next page (Jira Cloud's ``nextPageToken``).
- :func:`offset_pages`: ``startAt`` and ``total`` (Jira Data Center's search, its comment lists).
- :func:`link_pages`: the ``Link: <...>; rel="next"`` header (GitLab's offset and keyset pagination).
- :func:`odata_pages`: ``@odata.nextLink`` (Project Server and Dataverse).

Each yields the items of every page, requesting the next page only when the caller wants more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import TrackerError
from .client import HttpClient

MAX_PAGES = 100_000
"""A tracker that keeps answering "there is more" with nothing new is broken, not endless."""


def token_pages(
    http: HttpClient,
    path: str,
    body: Mapping[str, Any],
    items: str,
    token: str = "nextPageToken",
) -> Iterator[dict[str, Any]]:
    """POST ``body`` again with the token of the previous answer until an answer has none (or says
    ``isLast``)."""
    request = dict(body)
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = http.post(path, request) or {}
        yield from page.get(items, [])
        following = page.get(token)
        if page.get("isLast", following is None) or not following:
            return
        if following in seen:
            raise TrackerError(f"{http.name} answered the same page token twice for {path}")
        seen.add(following)
        request[token] = following
    raise TrackerError(f"{http.name} kept paging {path} beyond {MAX_PAGES} pages")


def offset_pages(
    http: HttpClient,
    path: str,
    items: str,
    *,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    start: str = "startAt",
) -> Iterator[dict[str, Any]]:
    """Ask from offset 0, then from the number of items received, until ``total`` is reached or a page
    comes back empty. The offset goes in the JSON ``body`` when there is one, else in the query."""
    offset = 0
    for _ in range(MAX_PAGES):
        if body is not None:
            page = http.post(path, {**body, start: offset}) or {}
        else:
            page = http.get(path, {**(params or {}), start: offset}) or {}
        found = page.get(items, [])
        yield from found
        offset += len(found)
        if not found or offset >= page.get("total", 0):
            return
    raise TrackerError(f"{http.name} kept paging {path} beyond {MAX_PAGES} pages")


def link_pages(
    http: HttpClient, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """GET a JSON list and follow ``rel="next"`` in the Link header (works for offset and keyset)."""

    def page(url: str, query: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], str | None]:
        response = http.request("GET", url, params=query)
        return http.decode(response, "GET", url) or [], response.links.get("next", {}).get("url")

    return _follow(http, path, params, page)


def odata_pages(
    http: HttpClient, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """GET an OData collection (``value``) and follow ``@odata.nextLink`` (or ``odata.nextLink``)."""

    def page(url: str, query: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], str | None]:
        found = http.get(url, query) or {}
        return found.get("value", []), found.get("@odata.nextLink") or found.get("odata.nextLink")

    return _follow(http, path, params, page)


NextPage = Callable[[str, Mapping[str, Any] | None], tuple[list[dict[str, Any]], str | None]]
"""Reads one page: its items and the URL of the next one (None: the last)."""


def _follow(
    http: HttpClient, path: str, params: Mapping[str, Any] | None, page: NextPage
) -> Iterator[dict[str, Any]]:
    """Pages that name their successor by URL; the first request carries ``params``, the next URLs carry
    their whole query themselves."""
    url: str | None = path
    query = params
    for _ in range(MAX_PAGES):
        if url is None:
            return
        found, url = page(url, query)
        yield from found
        query = None
    raise TrackerError(f"{http.name} kept paging {path} beyond {MAX_PAGES} pages")
