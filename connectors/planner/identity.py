"""The msal public client a plan signs in with, its token cache, and the bearer auth built on it.

The cache is ``<data_dir>/msal/planner-<hash of authority, tenant and client>.json`` (0600, locked against
two writers by msal-extensions): one per app registration and tenant, shared by the plans using it.
The app is built lazily: msal looks the tenant up over the network when the app is made, and a
connector built for a command that never calls Dataverse should not need the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import requests

from ..errors import TrackerError
from ..http.auth import MsalAuth, msal_token_cache
from ..http.client import cause
from ..registry import BuildContext
from .settings import PlannerSettings

if TYPE_CHECKING:
    import msal

REFRESH_BEFORE = 300.0
"""Seconds before a token expires when a new one is fetched."""
SIGN_IN_HINT = "run `iso20k-sync login --plan <the plan's name>` first"


def public_app(
    settings: PlannerSettings, context: BuildContext, cache: msal.TokenCache | None = None
) -> msal.PublicClientApplication:
    """The app registration as msal's public client, with the plan's persisted token cache."""
    import msal

    cache = cache or msal_token_cache(settings.token_cache(context.data_dir))
    try:
        return msal.PublicClientApplication(
            settings.client_id,
            authority=settings.authority_url,
            token_cache=cache,
            instance_discovery=settings.authority == "https://login.microsoftonline.com",
            timeout=settings.timeout,
        )
    except (ValueError, requests.RequestException) as exc:
        raise TrackerError(
            f"Microsoft sign-in at {settings.authority_url} could not be reached or does not know the tenant "
            f"({_reason(exc)}); check authority and tenant_id"
        ) from None


class LazyApp:
    """The public client, made at its first use and kept; its token cache is read without it."""

    def __init__(self, settings: PlannerSettings, context: BuildContext) -> None:
        self.cache = msal_token_cache(settings.token_cache(context.data_dir))
        self._make: Callable[[], msal.PublicClientApplication] = lambda: public_app(
            settings, context, self.cache
        )
        self._app: msal.PublicClientApplication | None = None

    def __call__(self) -> msal.PublicClientApplication:
        if self._app is None:
            self._app = self._make()
        return self._app


def signed_in_auth(settings: PlannerSettings, context: BuildContext) -> PlannerAuth:
    """Tokens of the user who signed in with ``iso20k-sync login``, refreshed silently from the cache."""
    return PlannerAuth(LazyApp(settings, context), [settings.scope])


class PlannerAuth(MsalAuth):
    """:class:`MsalAuth` over a lazily built app, and whether anybody is signed in (a seed's first check)."""

    def __init__(self, app: LazyApp, scopes: Sequence[str]) -> None:
        self._app = app
        self._held: tuple[dict[str, Any], float] | None = None
        super().__init__(self._silent, scopes, SIGN_IN_HINT)

    def _silent(self, wanted: Sequence[str]) -> dict[str, Any] | None:
        """msal's answer, kept until shortly before it expires: msal files a ``/.default`` token under the
        permissions granted (``user_impersonation``), so its own cache would refresh before every request."""
        if self._held is not None and time.monotonic() < self._held[1]:
            return self._held[0]
        app = self._app()
        accounts = app.get_accounts()
        if not accounts:
            return None
        try:
            answer = app.acquire_token_silent(list(wanted), account=accounts[0])
        except requests.RequestException as exc:
            raise TrackerError(f"cannot reach Microsoft sign-in ({_reason(exc)})") from None
        if answer and "access_token" in answer:
            lifetime = float(answer.get("expires_in") or 0)
            self._held = (answer, time.monotonic() + lifetime - REFRESH_BEFORE)
        return answer

    def app(self) -> msal.PublicClientApplication:
        return self._app()

    def username(self) -> str | None:
        """Who is signed in (None: nobody), read from the token cache alone: with nobody signed in, the
        answer is "run login" even where Microsoft's sign-in cannot be reached."""
        import msal

        accounts = list(self._app.cache.search(msal.TokenCache.CredentialType.ACCOUNT))
        return str(accounts[0].get("username") or "") or None if accounts else None


def _reason(exc: BaseException) -> str:
    """Why msal got no answer, in words (a connection error's innermost reason), on one short line."""
    if isinstance(exc, requests.ConnectionError):
        return cause(exc)
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
