"""Auth strategies of the shared HTTP layer: headers sent, Microsoft tokens from msal with a persisted,
private token cache (msal's calls answered by ``responses``: one focused call each)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import msal
import pytest
import requests
import responses

from connectors.errors import TrackerError
from connectors.http.auth import (
    BearerAuth,
    HeaderAuth,
    MsalAuth,
    application_auth,
    basic_auth,
    delegated_auth,
    msal_token_cache,
)

AUTHORITY = "https://login.example.com/contoso"
SCOPES = ["https://contoso.crm.dynamics.com/.default"]


def sent_headers(auth) -> dict[str, str]:
    request = requests.Request("GET", "https://tracker.example/x", auth=auth).prepare()
    return dict(request.headers)


def test_token_headers():
    assert sent_headers(BearerAuth("pat-1"))["Authorization"] == "Bearer pat-1"
    assert sent_headers(HeaderAuth("PRIVATE-TOKEN", "glpat-1"))["PRIVATE-TOKEN"] == "glpat-1"
    expected = "Basic " + base64.b64encode(b"pm@acme.example:api-token").decode()
    assert sent_headers(basic_auth("pm@acme.example", "api-token"))["Authorization"] == expected


def _openid(rsps: responses.RequestsMock) -> None:
    rsps.add(
        responses.GET,
        f"{AUTHORITY}/v2.0/.well-known/openid-configuration",
        json={
            "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
            "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/devicecode",
            "issuer": f"{AUTHORITY}/v2.0",
        },
    )


def _id_token(user: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": f"{AUTHORITY}/v2.0", "sub": user, "oid": "oid-1", "tid": "contoso", "aud": "client-1"}
    claims |= {"preferred_username": user, "iat": 1, "exp": 4102444800}
    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def test_an_application_token_is_fetched_once_and_reused():
    with responses.RequestsMock() as rsps:
        _openid(rsps)
        token = rsps.add(
            responses.POST,
            f"{AUTHORITY}/oauth2/v2.0/token",
            json={"access_token": "app-token", "token_type": "Bearer", "expires_in": 3600},
        )
        app = msal.ConfidentialClientApplication(
            "client-1", client_credential="s3cret", authority=AUTHORITY, instance_discovery=False
        )
        auth = application_auth(app, SCOPES)
        assert sent_headers(auth)["Authorization"] == "Bearer app-token"
        assert sent_headers(auth)["Authorization"] == "Bearer app-token"
        assert token.call_count == 1


def test_a_delegated_sign_in_is_kept_in_a_private_cache_and_used_silently_by_the_next_process(tmp_path):
    path = tmp_path / "tokens" / "planner.json"
    with responses.RequestsMock() as rsps:
        _openid(rsps)
        rsps.add(
            responses.POST,
            f"{AUTHORITY}/oauth2/v2.0/token",
            json={
                "access_token": "user-token",
                "refresh_token": "refresh-1",
                "id_token": _id_token("pm@contoso.example"),
                "client_info": base64.urlsafe_b64encode(b'{"uid":"oid-1","utid":"contoso"}').decode(),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": SCOPES[0],
            },
        )
        first = msal.PublicClientApplication(
            "client-1", authority=AUTHORITY, token_cache=msal_token_cache(path), instance_discovery=False
        )
        flow = {"device_code": "d-1", "interval": 0, "expires_at": 4102444800, "user_code": "ABC"}
        result = first.acquire_token_by_device_flow(flow)
        assert result.get("access_token") == "user-token", result
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    with responses.RequestsMock() as rsps:  # a new process: no request needed while the token is valid
        _openid(rsps)
        second = msal.PublicClientApplication(
            "client-1", authority=AUTHORITY, token_cache=msal_token_cache(path), instance_discovery=False
        )
        auth = delegated_auth(second, SCOPES, "run `iso20k-sync login --plan NAME`")
        assert sent_headers(auth)["Authorization"] == "Bearer user-token"


def test_without_a_sign_in_the_message_says_how_to_sign_in(tmp_path: Path):
    with responses.RequestsMock() as rsps:
        _openid(rsps)
        app = msal.PublicClientApplication(
            "client-1",
            authority=AUTHORITY,
            token_cache=msal_token_cache(tmp_path / "empty.json"),
            instance_discovery=False,
        )
        auth = delegated_auth(app, SCOPES, "run `iso20k-sync login --plan acme`")
        with pytest.raises(TrackerError, match=r"no Microsoft token \(no signed-in account\); run `iso20k"):
            sent_headers(auth)
    answer = {"error": "invalid_client", "error_description": "AADSTS7000215: bad\nx"}
    refused = MsalAuth(lambda scopes: answer, SCOPES, "check the secret")
    with pytest.raises(TrackerError, match=r"AADSTS7000215: bad\); check the secret"):
        refused.token()
