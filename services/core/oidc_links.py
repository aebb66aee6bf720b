"""Which account an OpenID Connect identity (issuer and subject) signs in as.

The account lists its identities (`Account.oidc_subjects`); `oidc.<sha256(issuer|subject)>` in
the accounts bucket names the account, so a sign-in finds it in one read. The account's list is
what counts: an index entry it does not back is ignored.
"""

from __future__ import annotations

from nats.js.kv import KeyValue

from schemas.accounts import Account, OidcSubject
from services.core.account_errors import AccountError, NoSuchAccount
from services.core.account_keys import account_key, oidc_key
from services.core.records import Records

MOST_SUBJECTS = 16  # Account.oidc_subjects holds no more


class TooManySubjects(AccountError):
    pass


def _has(account: Account, issuer: str, subject: str) -> bool:
    return OidcSubject(issuer=issuer, subject=subject) in account.oidc_subjects


async def account_by_subject(kv: KeyValue, issuer: str, subject: str) -> Account | None:
    records = Records(kv)
    pointer = await records.read(oidc_key(issuer, subject))
    if pointer is None:
        return None
    found = await records.read(account_key(pointer[0].decode()))
    if found is None:
        return None
    account = Account.model_validate_json(found[0])
    return account if _has(account, issuer, subject) else None


async def link_subject(kv: KeyValue, username: str, issuer: str, subject: str) -> Account:
    """Let this identity sign in as `username` from now on (nothing changes if it does)."""
    identity = OidcSubject(issuer=issuer, subject=subject)

    def linked(account: Account) -> Account | None:
        if identity in account.oidc_subjects:
            return None
        if len(account.oidc_subjects) >= MOST_SUBJECTS:
            raise TooManySubjects(f"account {username} has {MOST_SUBJECTS} identities already")
        return account.model_copy(update={"oidc_subjects": (*account.oidc_subjects, identity)})

    records = Records(kv)
    changed = await records.change(account_key(username), Account, linked)
    if changed is None:
        raise NoSuchAccount(f"no account {username}")
    # The pointer after the account: a pointer the account does not back is ignored anyway.
    await kv.put(oidc_key(issuer, subject), username.encode())
    return changed[0]
