"""A small OpenID Connect provider for tests, on 127.0.0.1: discovery, authorization code flow (with
PKCE), token, JWKS and userinfo endpoints; ID tokens signed RS256 with joserfc (Authlib's JOSE library).

It signs in whoever `provider.user` names without asking (the test plays the person); everything
else is checked as a real provider would: client secret, redirect URI, code reuse, PKCE verifier.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "capantra-dashboard", "test-client-secret"


class Provider:
    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users
        self.user = next(iter(users))
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"}, private=True)
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Provider:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def _claims(self, name: str, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": f"sub-{name}", "aud": CLIENT_ID, "iat": now, "exp": now + 600}
        claims |= self.users[name]
        return claims | ({"nonce": nonce} if nonce else {})

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                provider.requests.append(url.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.metadata)
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                        return self._json({"error": "invalid_request"}, 400)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "user": provider.user,
                        "redirect_uri": query["redirect_uri"],
                        "nonce": query.get("nonce"),
                        "challenge": query.get("code_challenge"),
                    }
                    target = (
                        query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in provider.tokens:
                        return self._json({"error": "invalid_token"}, 401)
                    return self._json(provider.tokens[token])
                return self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                provider.requests.append(self.path)
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                client_id, client_secret = form.get("client_id"), form.get("client_secret")
                if auth := self.headers.get("Authorization", "").removeprefix("Basic "):
                    client_id, _, client_secret = base64.b64decode(auth).decode().partition(":")
                    client_id, client_secret = urllib.parse.unquote(client_id), urllib.parse.unquote(client_secret)
                if self.path != "/token" or (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
                    return self._json({"error": "invalid_client"}, 401)
                grant = provider.codes.pop(form.get("code", ""), None)  # a code works once
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return self._json({"error": "invalid_grant"}, 400)
                if grant["challenge"]:
                    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                    if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                        return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
                claims = provider._claims(grant["user"], grant["nonce"])
                access_token = secrets.token_urlsafe(24)
                provider.tokens[access_token] = {k: v for k, v in claims.items() if k not in ("aud", "nonce")}
                id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, provider.key)
                return self._json(
                    {"access_token": access_token, "token_type": "Bearer", "expires_in": 600, "id_token": id_token}
                )

        return Handler
