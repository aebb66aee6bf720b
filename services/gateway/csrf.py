"""Cross-site request forgery: three checks on every console form.

1. **Same origin.** A POST whose `Sec-Fetch-Site` says another site sent it, or whose `Origin`
   is not Pathways' own, is refused before anything else (browsers send both on a form POST).
2. **Signed in: a synchronizer token.** Each form carries `HMAC(csrf key, session id)`, which
   only a page of this session can know; another session's token, or none, is refused.
3. **Before sign-in: a signed double-submit cookie.** The sign-in form carries a random value
   that the `__Host-pw_csrf` cookie also holds, signed; another site can neither read nor set
   that cookie, so it cannot make a browser sign in to an account of its choosing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

FIELD = "csrf_token"
SIGNIN_COOKIE = "__Host-pw_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What Sec-Fetch-Site says of a request this site's own page sent (or the user typed).
OWN_SITE = frozenset({"same-origin", "none"})


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def session_token(key: bytes, sid: str) -> str:
    return _mac(key, "session", sid)


def session_token_ok(key: bytes, sid: str, presented: str | None) -> bool:
    return presented is not None and _same(session_token(key, sid), presented)


def new_signin_token(key: bytes) -> tuple[str, str]:
    """(cookie value, form value) for a sign-in form."""
    nonce = secrets.token_urlsafe(32)
    return f"{nonce}.{_mac(key, 'signin', nonce)}", nonce


def signin_token_ok(key: bytes, cookie: str | None, presented: str | None) -> bool:
    if not cookie or not presented:
        return False
    nonce, _, signature = cookie.partition(".")
    return _same(_mac(key, "signin", nonce), signature) and _same(nonce, presented)


def origin_of(url: str) -> str:
    """`https://host:port` of a URL, as browsers spell an Origin (no path, no trailing /)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.lower()}://{rest.split('/', 1)[0].lower()}"


def cross_site(headers: Mapping[str, str], own_origins: Iterable[str]) -> bool:
    """True when the request came from another site. A client that sends neither header (a
    script, an old browser) is left to the token check."""
    site = headers.get("sec-fetch-site")
    if site is not None and site.lower() not in OWN_SITE:
        return True
    origin = headers.get("origin")
    return origin is not None and origin.lower() not in set(own_origins)
