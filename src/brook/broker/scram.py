"""SCRAM credentials as Kafka keeps them (ScramFormatter.generateCredential): salt, stored key, server key and
iterations per user and mechanism, derived from the salted password the client sends. SCRAM logins
(broker/sasl_mechanisms.py) check against them."""

from __future__ import annotations

import base64
import hashlib
import hmac

from brook.metadata import ScramCredential

# ScramMechanism type id -> (mechanism name, hash); Kafka's minimum iterations is 4096 for both, at most 16384
MECHANISMS = {1: ("SCRAM-SHA-256", "sha256"), 2: ("SCRAM-SHA-512", "sha512")}
MIN_ITERATIONS, MAX_ITERATIONS = 4096, 16384


def mechanism_id(name: str) -> int:
    return next((i for i, (n, _) in MECHANISMS.items() if n == name), 0)


def credential(mechanism: int, salt: bytes, salted_password: bytes, iterations: int) -> ScramCredential:
    """The stored form: RFC 5802's StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey =
    HMAC(SaltedPassword, "Server Key"); the password itself is never kept."""
    digest = MECHANISMS[mechanism][1]
    client_key = hmac.new(salted_password, b"Client Key", digest).digest()
    return ScramCredential(base64.b64encode(salt).decode(),
                           base64.b64encode(hashlib.new(digest, client_key).digest()).decode(),
                           base64.b64encode(hmac.new(salted_password, b"Server Key", digest).digest()).decode(),
                           iterations)
