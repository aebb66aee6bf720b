"""What `pathways user` and `pathways token` print. Never a password hash, never a token's secret
or its digest. The JSON shapes are the documented, stable `--json` output."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.accounts import Account, ApiToken
from services.cli.listing import Column, Listing

NOBODY = "-"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def account_json(account: Account) -> dict[str, Any]:
    return {
        "username": account.id,
        "person": account.person,
        "grants": sorted(account.grants),
        "disabled": account.disabled,
        "password": account.password_hash is not None,
        "oidc": [{"issuer": o.issuer, "subject": o.subject} for o in account.oidc_subjects],
        "created_at": account.created_at.isoformat(),
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": token.account,
        "name": token.name,
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def account_status(account: Account) -> str:
    if account.disabled:
        return "disabled"
    return "active" if account.password_hash or account.oidc_subjects else "no sign-in"


def account_table(accounts: list[Account]) -> Listing:
    """USERNAME STATUS GRANTS CREATED PERSON: a table in 80 columns for usernames up to about
    fifteen characters, one card per account past that."""
    rows = [
        [
            account.id,
            account_status(account),
            ", ".join(sorted(account.grants)) or NOBODY,
            f"{account.created_at:%Y-%m-%d}",
            account.person or NOBODY,
        ]
        for account in accounts
    ]
    columns = [
        Column("USERNAME"),
        Column("STATUS"),
        Column("GRANTS", "grants "),
        Column("CREATED", "created "),
        Column("PERSON"),
    ]
    return Listing(columns, rows)


def token_status(token: ApiToken) -> str:
    return "active" if token.revoked_at is None else f"revoked {token.revoked_at:%Y-%m-%d}"


def token_table(tokens: list[ApiToken]) -> Listing:
    rows = [[t.id, _stamp(t.created_at), token_status(t), t.name] for t in tokens]
    columns = [Column("ID"), Column("CREATED (UTC)", "created "), Column("STATUS"), Column("NAME")]
    return Listing(columns, rows)
