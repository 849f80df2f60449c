"""The ksql CLI's REST client (ksqlDB's KsqlRestClient): one HTTP/1.1 connection per call to the server, over TLS
for an https server (the --config-file's ssl.* settings), with Basic credentials from -u / -p."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from typing import Any
from urllib.parse import urlsplit


class ServerError(Exception):
    """The REST call failed before an answer: ksqlDB's KsqlRestClientException."""


class RestClient:
    def __init__(self, server: str) -> None:
        self.server = server
        self.properties: dict[str, str] = {}
        self.authorization: str | None = None  # Basic credentials of -u / -p
        self.tls: ssl.SSLContext | None = None  # the --config-file's ssl.* for an https server

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        parts = urlsplit(self.server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("Server URL must begin with protocol (e.g., http:// or https://)")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection(parts.hostname, port, timeout=timeout)

    def login(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorization = f"Basic {token}"

    def configure_tls(self, props: dict[str, str]) -> None:
        """ksqlDB's CLI reads ssl.truststore.*, ssl.keystore.*, ssl.key.password from --config-file;
        ssl.verify.host=false (or an empty ssl.endpoint.identification.algorithm) skips the host name check."""
        from brook import rest_tls

        settings = dict(props)
        if settings.get("ssl.verify.host", "true").strip().lower() == "false":
            settings["ssl.endpoint.identification.algorithm"] = ""
        self.tls = rest_tls.client_context(rest_tls.getter(settings))

    def open(self, method: str, path: str, body: dict | None = None,
             timeout: float | None = 60) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = self._connection(timeout)
        try:
            headers = {"Content-Type": "application/vnd.ksql.v1+json", "Accept": "application/json"}
            if self.authorization:
                headers["Authorization"] = self.authorization
            conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers)
            return conn, conn.getresponse()
        except OSError as e:
            conn.close()
            raise ServerError(f"Error issuing {method} to KSQL server. path:{path}\n"
                              f"Caused by: {e.strerror or e}") from None

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        conn, resp = self.open(method, path, body)
        try:
            raw = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, {"message": raw.decode(errors="replace")}
