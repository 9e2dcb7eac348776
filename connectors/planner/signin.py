"""``iso20k-sync login``: msal's device-code flow, once, into the plan's token cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from ..errors import TrackerError
from ..registry import BuildContext
from .identity import public_app
from .settings import PlannerSettings

if TYPE_CHECKING:
    import msal

REASONS = {
    "authorization_declined": "the sign-in was declined",
    "access_denied": "the sign-in was declined",
    "expired_token": "the code expired before the sign-in was finished; run login again and enter it sooner",
    "invalid_client": "the app registration refused the sign-in (check client_id, and that it allows public "
    "client flows)",
    "unauthorized_client": "the app registration is not known in this tenant (check client_id and tenant_id)",
    "invalid_tenant": "the tenant was not found (check tenant_id)",
}


def sign_in(settings: PlannerSettings, context: BuildContext, show: Callable[[str], None]) -> str:
    """Show the device code message, wait for the person to sign in, keep the tokens in the cache; return
    who signed in. The cache is the one the connector reads (see :mod:`.identity`)."""
    try:
        return device_sign_in(public_app(settings, context), [settings.scope], show)
    except requests.RequestException as exc:
        raise TrackerError(f"cannot reach Microsoft sign-in at {settings.authority_url}: {exc}") from None


def device_sign_in(app: msal.PublicClientApplication, scopes: list[str], show: Callable[[str], None]) -> str:
    """msal's device-code flow on ``app``; who signed in."""
    flow = app.initiate_device_flow(scopes=scopes)
    if "user_code" not in flow:
        raise TrackerError(f"Microsoft sign-in refused to start: {_reason(flow)}")
    show(str(flow["message"]))
    result = app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        raise TrackerError(f"Microsoft sign-in failed: {_reason(result)}")
    claims = result.get("id_token_claims") or {}
    return str(claims.get("preferred_username") or claims.get("upn") or claims.get("name") or "unknown user")


def _reason(answer: dict[str, object]) -> str:
    error = str(answer.get("error") or "no answer")
    detail = str(answer.get("error_description") or "").splitlines()
    known = REASONS.get(error)
    return f"{known} ({detail[0]})" if known and detail else known or (detail[0] if detail else error)
