"""Which account an agency's OpenID Connect sign-in is: the account that lists the identity
(issuer and subject), else — once only, then it is listed — the account of the roster member
whose email address the provider says it has verified. Anything else signs in as nobody."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.accounts import Account
from schemas.channels import ChannelKind
from schemas.roster import Member, Roster
from services.core.oidc_links import account_by_subject, link_subject
from services.gateway.console import Console


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    verified_email: str | None  # only when the provider says it checked it

    @property
    def text(self) -> str:
        """How an unknown identity is recorded in the audit stream (as its sha256)."""
        return f"{self.issuer}|{self.subject}"


def identity_of(claims: Mapping[str, object]) -> Identity | None:
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer or not subject:
        return None
    email = claims.get("email")
    said = claims.get("email_verified")
    verified = said is True or said == "true"  # some providers send a string
    return Identity(issuer, subject, email if isinstance(email, str) and verified else None)


def emails_of(member: Member) -> set[str]:
    found = {c.address for c in member.channels if c.kind is ChannelKind.EMAIL and c.address}
    if member.email:
        found.add(member.email)
    return {address.casefold() for address in found}


def member_with_email(roster: Roster, email: str) -> Member | None:
    """The one active member with this address; None for nobody, or for several."""
    wanted = email.casefold()
    matches = [m for m in roster.members if m.active and wanted in emails_of(m)]
    return matches[0] if len(matches) == 1 else None


async def account_for(console: Console, identity: Identity) -> Account | None:
    kv = console.accounts_kv
    known = await account_by_subject(kv, identity.issuer, identity.subject)
    if known is not None or identity.verified_email is None:
        return known
    member = member_with_email(console.rt.roster, identity.verified_email)
    if member is None:
        return None
    account = await _account_of(console, member.id)
    if account is None or account.disabled:
        return account
    return await link_subject(kv, account.id, identity.issuer, identity.subject)


async def _account_of(console: Console, person: str) -> Account | None:
    """The member's account: the one named after them, else the one that says it is them."""
    named = await console.accounts.get(person)
    if named is not None and named.person == person:
        return named
    everyone = await console.accounts.accounts(await console.accounts.usernames())
    theirs = [account for account in everyone if account.person == person]
    return theirs[0] if len(theirs) == 1 else None
