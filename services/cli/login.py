"""pathways login: a username and password traded for an API token, which the person commands
then use over HTTP (services/cli/http_api.py)."""

from __future__ import annotations

import getpass
import socket
import sys
from typing import Annotated

import typer

from services.cli import http_api
from services.cli.client import execute, fail
from services.cli.credentials import DEFAULT_API_URL, URL_VARIABLE, save, saved
from services.cli.output import out

TOKEN_NAME_MAX = 64


def login(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar=URL_VARIABLE,
            help=f"Where Pathways answers (default: the last used, else {DEFAULT_API_URL}).",
            show_default=False,
        ),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Your username (asked if not given).")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
) -> None:
    """Sign in: your password is traded for an API token, kept readable by you only in
    ~/.config/pathways/credentials.json. PATHWAYS_TOKEN overrides it."""
    previous = saved()
    address = (url or (previous.url if previous else DEFAULT_API_URL)).rstrip("/")
    if username is None:
        if password_stdin:
            fail("--password-stdin needs --username")
        username = typer.prompt("Username")
    password = _password(password_stdin)
    name = f"pathways login on {socket.gethostname()}"[:TOKEN_NAME_MAX]
    token = execute(http_api.password_token(address, username, password, name))
    path = save(address, token)
    out.print(f"Signed in to {address} as {username}; the token is kept in {path}.", markup=False)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass("Password: ")
        except (EOFError, KeyboardInterrupt):
            fail("no password given")
    if not password:
        fail("the password is empty")
    return password
