"""Shared HTTP for every connector: the client (pacing, retries, Retry-After, messages without secrets),
auth strategies and paging strategies. :func:`site_client` builds a client the way every tracker wants
one, with one :class:`Pacer` per site shared by every plan on it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from ..settings import HttpTrackerSettings
from .client import HttpClient, HttpError, Pacer, RetryPolicy, Send

__all__ = ["HttpClient", "HttpError", "Pacer", "RetryPolicy", "Send", "pacer_for", "site_client"]

_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(url: str, min_interval: float) -> Pacer:
    """The one pacer of the site ``url`` is on (scheme, host and port): its pacing and Retry-After state
    hold for every plan on that site in this process. Of the intervals asked for the longest holds, so
    the strictest plan's ``requests_per_second`` is respected."""
    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}".lower()
    with _pacers_lock:
        pacer = _pacers.get(site)
        if pacer is None:
            pacer = _pacers[site] = Pacer(min_interval)
        pacer.min_interval = max(pacer.min_interval, min_interval)
        return pacer


def site_client(
    url: str,
    settings: HttpTrackerSettings,
    auth: AuthBase,
    *,
    name: str,
    secrets: list[str],
    headers: Mapping[str, str] | None = None,
) -> HttpClient:
    """``headers`` go with every request (Dataverse's OData version and page size)."""
    session = requests.Session()
    session.auth = auth
    session.headers.update(headers or {})
    return HttpClient(
        url,
        session.request,
        name=name,
        secrets=secrets,
        timeout=(min(10.0, settings.timeout), settings.timeout),
        retry=RetryPolicy(max_retry_after=settings.max_retry_wait),
        pacer=pacer_for(url, 1 / settings.requests_per_second),
    )
