"""Restricted text as it is stored: sealed with AES-256-GCM for one scope.

Only readers in the scope can open it (`services.core.sealing`); everything that stores or
carries it (commands, events, buckets, dead letters) sees this envelope and nothing else. The
key lives outside NATS, one key ring per scope, so erasing the key erases the text.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.base import Contract
from schemas.limits import NOTE_MAX

# Who may read: a team (`team.peer-support`), or an organisation for partners without a team
# (`org.harbor-crisis-center`). The id after the dot is the roster's team or organisation id.
SCOPE_PATTERN = r"^(team|org)\.[a-z0-9][a-z0-9_-]{0,62}$"
Scope = Annotated[str, StringConstraints(pattern=SCOPE_PATTERN)]
KEY_ID_PATTERN = r"^[a-z0-9]{4,16}$"
KeyId = Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]

# The longest text that may be sealed: a completion note, the longest restricted field.
SEALED_TEXT_MAX = NOTE_MAX
NONCE_BYTES = 12  # 96 bits, the size GCM is made for
TAG_BYTES = 16


def base64url_length(size: int) -> int:
    """Characters of unpadded base64url for `size` bytes."""
    return (4 * size + 2) // 3


# Every character may take 4 bytes of UTF-8; the tag follows the text.
CIPHERTEXT_MAX = base64url_length(4 * SEALED_TEXT_MAX + TAG_BYTES)
_BASE64URL = r"^[A-Za-z0-9_-]+$"


class Sealed(Contract):
    alg: Literal["A256GCM"] = Field(default="A256GCM", description="AES-256-GCM")
    scope: Scope = Field(description="Who may read it: `team.<team-id>` or `org.<org-id>`")
    key_id: KeyId = Field(description="The version of the scope's key it was sealed with")
    nonce: str = Field(
        pattern=_BASE64URL,
        min_length=base64url_length(NONCE_BYTES),
        max_length=base64url_length(NONCE_BYTES),
        description="96 random bits, unpadded base64url",
    )
    ciphertext: str = Field(
        pattern=_BASE64URL,
        min_length=base64url_length(TAG_BYTES),
        max_length=CIPHERTEXT_MAX,
        description="The sealed text followed by its 128-bit tag, unpadded base64url",
    )
