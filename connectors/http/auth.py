"""How connectors prove who they are, as ``requests`` auth objects, each written once.

- :class:`BearerAuth`: a token in ``Authorization: Bearer`` (Jira Data Center personal access tokens,
  GitLab tokens use :class:`HeaderAuth` with ``PRIVATE-TOKEN``).
- :func:`basic_auth`: user and password or API token (Jira Cloud: email and API token).
- :class:`MsalAuth`: Microsoft Entra tokens from an msal application with a persisted token cache
  (Planner premium on Dataverse, Graph).
- :func:`windows_auth`: NTLM/Negotiate (Project Server Subscription Edition on premises).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from ..errors import TrackerError

if TYPE_CHECKING:
    import msal


class BearerAuth(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class HeaderAuth(AuthBase):
    """A token in a header of the tracker's own name (GitLab's ``PRIVATE-TOKEN``)."""

    def __init__(self, header: str, token: str) -> None:
        self._header = header
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self._header] = self._token
        return request


def basic_auth(user: str, secret: str) -> AuthBase:
    return HTTPBasicAuth(user, secret)


class MsalAuth(AuthBase):
    """A bearer token from msal, refreshed silently from its token cache; never an interactive prompt.

    ``acquire`` returns msal's answer (a dict with ``access_token`` or ``error``): for a delegated sign-in
    it is ``acquire_token_silent`` for the signed-in account, for an application its client credentials.
    """

    def __init__(
        self,
        acquire: Callable[[Sequence[str]], dict[str, Any] | None],
        scopes: Sequence[str],
        sign_in_hint: str,
    ) -> None:
        self._acquire = acquire
        self._scopes = list(scopes)
        self._hint = sign_in_hint

    def token(self) -> str:
        answer = self._acquire(self._scopes)
        if not answer or "access_token" not in answer:
            answer = answer or {}
            reason = answer.get("error_description") or answer.get("error") or "no signed-in account"
            raise TrackerError(f"no Microsoft token ({str(reason).splitlines()[0]}); {self._hint}")
        return str(answer["access_token"])

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


def msal_token_cache(path: Path) -> msal.TokenCache:
    """msal's token cache kept in a file only its owner can read (0600), locked against two writers."""
    from msal_extensions import FilePersistence, PersistedTokenCache

    path.parent.mkdir(parents=True, exist_ok=True)
    return PersistedTokenCache(FilePersistence(str(path)))


def delegated_auth(app: msal.ClientApplication, scopes: Sequence[str], sign_in_hint: str) -> MsalAuth:
    """Tokens of the user who signed in once (device code), refreshed silently from the token cache."""

    def acquire(wanted: Sequence[str]) -> dict[str, Any] | None:
        accounts = app.get_accounts()
        return app.acquire_token_silent(list(wanted), account=accounts[0]) if accounts else None

    return MsalAuth(acquire, scopes, sign_in_hint)


def application_auth(app: msal.ConfidentialClientApplication, scopes: Sequence[str]) -> MsalAuth:
    """Tokens of an application (client credentials); msal caches them until they expire."""
    hint = "check the application's tenant, client id, secret and permissions"
    return MsalAuth(lambda wanted: app.acquire_token_for_client(scopes=list(wanted)), scopes, hint)


def windows_auth(user: str, password: str) -> AuthBase:
    """NTLM inside Negotiate or plain NTLM, as the server offers (requests-ntlm on pyspnego)."""
    from requests_ntlm import HttpNtlmAuth

    return HttpNtlmAuth(user, password)
