"""Why an account or token operation was refused: one line each, fit to show an operator."""

from __future__ import annotations

from schemas.accounts import password_problem


class AccountError(Exception):
    """Why an account or token operation was refused, in one line."""


class AccountExists(AccountError):
    pass


class NoSuchAccount(AccountError):
    pass


class NoSuchToken(AccountError):
    pass


class AccountDisabled(AccountError):
    pass


class PasswordRefused(AccountError):
    pass


class NotOnRoster(AccountError):
    pass


def refuse_weak(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise PasswordRefused(problem)
