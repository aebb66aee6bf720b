"""Driving the web console over real HTTP, as a browser would, with httpx.

httpx does not send `Secure` cookies over http://, and the console's cookies are all `__Host-`
(so Secure); Chromium does send them to http://127.0.0.1. So these helpers keep the cookies
themselves and send them in a Cookie header."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from http.cookies import SimpleCookie

import httpx

from services.gateway.csrf import SIGNIN_COOKIE
from services.gateway.sessions import COOKIE
from tests.e2e.harness import Service, wait_for

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_CONSOLE = re.compile(r"^Console and API: (http://\S+)/$", re.MULTILINE)
_PASSWORD = re.compile(r"^Demo password \(every example person\): (\S+)$", re.MULTILINE)


def console_address(service: Service) -> str:
    """The console's address, as the `pathways up` banner names it."""
    found = wait_for(lambda: _CONSOLE.search(service.log_text()), 30, "the console's address")
    return found.group(1)


def demo_password(service: Service) -> str | None:
    found = _PASSWORD.search(service.log_text())
    return found.group(1) if found else None


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Every Set-Cookie of a response, parsed, by cookie name."""
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name in parsed:
            found[name] = parsed
    return found


def cookie_value(response: httpx.Response, name: str) -> str | None:
    cookie = set_cookies(response).get(name)
    return None if cookie is None else cookie[name].value


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, f"no csrf_token field in:\n{html[:2000]}"
    return found.group(1)


class Browser:
    """One browser: its cookies for the console, sent by hand."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.http = httpx.Client(base_url=base, timeout=15, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def _header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for name, cookie in set_cookies(response).items():
            morsel = cookie[name]
            if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {**self._header(), **(headers or {})}
        return self._keep(self.http.get(path, headers=sent))

    def stream(self, path: str, quiet_for: float) -> AbstractContextManager[httpx.Response]:
        """A GET read as it comes (a stream of server-sent events); reading it raises
        httpx.ReadTimeout once nothing has come for `quiet_for` seconds."""
        timeout = httpx.Timeout(15, read=quiet_for)
        return self.http.stream("GET", path, headers=self._header(), timeout=timeout)

    def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {**self._header(), **(headers or {})}
        return self._keep(self.http.post(path, data=data, headers=sent))

    def sign_in(self, username: str, password: str, next_url: str = "/") -> httpx.Response:
        page = self.get("/signin")
        assert page.status_code == 200, page.text
        data = {
            "username": username,
            "password": password,
            "csrf_token": form_token(page.text),
            "next": next_url,
        }
        return self.post("/signin", data)

    @property
    def session(self) -> str | None:
        return self.cookies.get(COOKIE)

    @property
    def signin_cookie(self) -> str | None:
        return self.cookies.get(SIGNIN_COOKIE)

    def page_token(self, path: str = "/account") -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        return form_token(page.text)

    def sign_out(self) -> httpx.Response:
        return self.post("/signout", {"csrf_token": self.page_token()})
