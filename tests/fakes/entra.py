"""The Microsoft identity platform's side of a Microsoft fake (Graph, Dataverse): one tenant's OpenID
configuration, its errors in OAuth 2.0 shape, and the form a token request posts."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from .kit import ApiError, Call, Reply


def token_error(status: int, error: str, description: str) -> ApiError:
    """An error in the identity platform's shape (OAuth 2.0: ``error`` and ``error_description``)."""
    return ApiError(status, {"error": error, "error_description": description, "error_codes": [0]})


def token_form(call: Call) -> dict[str, str]:
    """The fields of a form-encoded token request."""
    return {k: v[0] for k, v in parse_qs(call.body if isinstance(call.body, str) else "").items()}


class EntraTenant:
    """Mixed into a :class:`~tests.fakes.kit.FakeServer`: ``/{tenant}/v2.0/.well-known/openid-configuration``
    for ``tenant`` (any other tenant is not found)."""

    tenant: str
    url: str
    device_flow = False
    """Whether the configuration names a device authorization endpoint."""

    def _check_tenant(self, call: Call) -> None:
        if call.params["tenant"] != self.tenant:
            raise token_error(
                400, "invalid_tenant", f"AADSTS90002: Tenant '{call.params['tenant']}' not found."
            )

    def _openid(self, call: Call) -> Reply:
        self._check_tenant(call)
        base = f"{self.url}/{self.tenant}"
        found: dict[str, Any] = {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
        }
        if self.device_flow:
            found["device_authorization_endpoint"] = f"{base}/oauth2/v2.0/devicecode"
        return Reply(200, found)
