"""Where the command line keeps the API token `pathways login` got, and which one it uses.

`PATHWAYS_TOKEN` wins over the saved token, and `PATHWAYS_URL` over the saved address; the file
(`$XDG_CONFIG_HOME/pathways/credentials.json`, else `~/.config/pathways/credentials.json`) is
readable by its owner only."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from schemas.base import Contract

DEFAULT_API_URL = "http://127.0.0.1:8080"
TOKEN_VARIABLE = "PATHWAYS_TOKEN"
URL_VARIABLE = "PATHWAYS_URL"


class Saved(Contract):
    url: str
    token: str


@dataclass(frozen=True)
class SignedIn:
    url: str
    token: str
    # Where the token came from, for the one line that says it was refused.
    source: str


def credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pathways" / "credentials.json"


def saved() -> Saved | None:
    try:
        return Saved.model_validate_json(credentials_path().read_bytes())
    except (OSError, ValidationError):
        return None


def signed_in() -> SignedIn | None:
    """The token to use, with its address; None when there is none."""
    stored = saved()
    url = os.environ.get(URL_VARIABLE) or (stored.url if stored else DEFAULT_API_URL)
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        return SignedIn(url.rstrip("/"), token.strip(), TOKEN_VARIABLE)
    if stored is None:
        return None
    return SignedIn(url.rstrip("/"), stored.token, str(credentials_path()))


def save(url: str, token: str) -> Path:
    """Write the credentials, readable and writable by their owner only (0600, its folder
    0700), replacing any saved before."""
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(Saved(url=url, token=token).model_dump(), out)
    os.chmod(partial, 0o600)
    partial.replace(path)
    return path
