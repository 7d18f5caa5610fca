"""Access tokens for Microsoft Graph, app-only: from the service's managed identity (no secret
to keep; azure-identity), or from an app registration's client secret (msal).

Both answer from a cache until five minutes before the token expires, fetch one token for
concurrent first calls, and raise ``GraphAuthError`` without the secret or the token.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import msal
import requests

from bot.integrations.graph_errors import GraphAuthError

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
REFRESH_MARGIN_SECONDS = 300


class TokenSource(Protocol):
    async def token(self) -> str: ...

    async def close(self) -> None: ...


class IdentityTokens:
    """Tokens for the service's own Entra identity, by azure-identity's
    ``DefaultAzureCredential``: workload identity (``AZURE_FEDERATED_TOKEN_FILE``), a managed
    identity (Azure Container Apps, App Service, VMs: ``IDENTITY_ENDPOINT`` or IMDS), or a
    service principal from ``AZURE_CLIENT_*``. Developer sign-ins (Azure CLI, VS Code …) are
    left out: in production they would be a surprising fallback. ``client_id`` names a
    user-assigned identity. A token that does not come within ``timeout`` seconds is a
    ``GraphAuthError``, so that Graph calls waiting behind the lock are not held.

    Graph's application permissions are granted to that identity's service principal
    (``docs/deploy.md``); no secret exists to leak or rotate.
    """

    def __init__(
        self,
        client_id: str = "",
        *,
        scope: str = GRAPH_SCOPE,
        credential: AsyncTokenCredential | None = None,
        timeout: float = 10.0,
    ) -> None:
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential(
                managed_identity_client_id=client_id or None,
                workload_identity_client_id=client_id or None,
                exclude_cli_credential=True,
                exclude_developer_cli_credential=True,
                exclude_powershell_credential=True,
                exclude_visual_studio_code_credential=True,
                exclude_shared_token_cache_credential=True,
            )
        self._timeout = timeout
        self._credential = credential
        self._scope = scope
        self._token = ""
        self._expires_on = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        from azure.core.exceptions import AzureError

        async with self._lock:
            if self._token and time.time() < self._expires_on - REFRESH_MARGIN_SECONDS:
                return self._token
            try:
                async with asyncio.timeout(self._timeout):
                    answer = await self._credential.get_token(self._scope)
            except TimeoutError:
                raise GraphAuthError(
                    None, "identity_timeout", f"no token within {self._timeout:g} s"
                ) from None
            except AzureError as error:
                first_line = str(error).splitlines()[0] if str(error) else ""
                raise GraphAuthError(
                    None, "identity_unavailable", f"{type(error).__name__}: {first_line}"
                ) from None
            self._token, self._expires_on = answer.token, float(answer.expires_on)
            return self._token

    async def close(self) -> None:
        await self._credential.close()


class _CaFileSession(requests.Session):
    """A requests session for msal that really uses ``ca_file``.

    requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``Session.verify``
    (psf/requests#3829), so msal's ``verify=`` is ignored wherever those are set; passing
    ``verify`` with each request is what wins. Proxies from the environment still apply.
    """

    def __init__(self, ca_file: str, timeout: float) -> None:
        super().__init__()
        self.verify = ca_file
        self._timeout = timeout
        self.mount("https://", requests.adapters.HTTPAdapter(max_retries=1))

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["verify"] = self.verify
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


class ClientSecretTokens:
    """Client-credentials tokens for an app registration (the fallback where no managed
    identity exists). msal's calls block, so they run in a worker thread; msal's own cache
    answers until five minutes before expiry. ``authority_host`` must be ``https``."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        scope: str = GRAPH_SCOPE,
        ca_file: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (tenant_id and client_id and client_secret):
            raise ValueError("Graph needs a tenant id, a client id and a client secret")
        parts = urlsplit(authority_host)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"authority_host must be an https URL, not {authority_host!r}")
        self._client_id = client_id
        self._client_secret = client_secret
        self._authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._scope = scope
        self._ca_file = ca_file
        self._timeout = timeout
        self._msal_app: msal.ConfidentialClientApplication | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:  # concurrent first calls fetch one token, not several
            return await asyncio.to_thread(self._token_blocking)

    async def close(self) -> None:
        if self._msal_app is not None:
            self._msal_app.http_client.close()
            self._msal_app = None

    def _token_blocking(self) -> str:
        try:
            if self._msal_app is None:
                self._msal_app = self._new_msal_app()
            result = self._msal_app.acquire_token_for_client(scopes=[self._scope])
        except (ValueError, requests.RequestException) as error:
            # Discovery or the token endpoint unreachable, or the authority is invalid.
            self._msal_app = None
            first_line = str(error).splitlines()[0] if str(error) else ""
            raise GraphAuthError(
                None, "token_unavailable", f"{type(error).__name__}: {first_line}"
            ) from None
        if not isinstance(result, dict) or not result.get("access_token"):
            failure = result if isinstance(result, dict) else {}
            # error_description: "AADSTS7000215: Invalid client secret provided. …" (no secret)
            description = str(failure.get("error_description") or "").split("\n", 1)[0]
            raise GraphAuthError(None, str(failure.get("error") or "no_token"), description)
        return str(result["access_token"])

    def _new_msal_app(self) -> msal.ConfidentialClientApplication:
        # instance_discovery=False: no call to login.microsoftonline.com to vet the authority
        # (hosts msal knows skip it anyway); the tenant's OIDC document is still fetched.
        options: dict[str, Any] = {"instance_discovery": False, "timeout": self._timeout}
        if self._ca_file:
            options["http_client"] = _CaFileSession(self._ca_file, self._timeout)
        return msal.ConfidentialClientApplication(
            self._client_id,
            client_credential=self._client_secret,
            authority=self._authority,
            **options,
        )
