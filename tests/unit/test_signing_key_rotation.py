"""While the signing key is rotated, a service trusts every public key in its key file, so that
requests signed with the old key or the new one both pass; once the old key is gone from the
file, what it signs is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.principals import Principal, Via
from services.core.assertions import (
    KeyFileProblem,
    Signer,
    Untrusted,
    create_key_pair,
    read_signer,
    read_verifier,
)

PERSON = Principal(account="aisha.grant", person="aisha.grant", via=Via.SESSION)
SUBJECT = "pw.qry.task.list"
BODY = b"{}"


def key_pair(directory: Path) -> tuple[Signer, bytes]:
    create_key_pair(directory / "principal.key", directory / "principal.pub")
    return read_signer(directory / "principal.key"), (directory / "principal.pub").read_bytes()


def public_key_file(path: Path, *keys: bytes) -> Path:
    path.write_bytes(b"".join(keys))
    return path


def signed_by(signer: Signer) -> str:
    return signer.assertion(PERSON, SUBJECT, BODY)


def test_both_keys_are_trusted_while_the_file_holds_both(tmp_path: Path) -> None:
    old, old_pub = key_pair(tmp_path / "old")
    new, new_pub = key_pair(tmp_path / "new")
    for order in ((old_pub, new_pub), (new_pub, old_pub)):
        verifier = read_verifier(public_key_file(tmp_path / "both.pub", *order))
        for signer in (old, new):
            assert verifier.verify(signed_by(signer), SUBJECT, BODY) == PERSON


def test_the_old_key_is_refused_once_the_file_holds_the_new_one_alone(tmp_path: Path) -> None:
    old, _ = key_pair(tmp_path / "old")
    new, new_pub = key_pair(tmp_path / "new")
    verifier = read_verifier(public_key_file(tmp_path / "new.pub", new_pub))
    assert verifier.verify(signed_by(new), SUBJECT, BODY) == PERSON
    with pytest.raises(Untrusted, match="not signed by this installation"):
        verifier.verify(signed_by(old), SUBJECT, BODY)


def test_a_key_trusted_beside_others_still_checks_the_request(tmp_path: Path) -> None:
    old, old_pub = key_pair(tmp_path / "old")
    _, new_pub = key_pair(tmp_path / "new")
    verifier = read_verifier(public_key_file(tmp_path / "both.pub", old_pub, new_pub))
    with pytest.raises(Untrusted, match="made for another request"):
        verifier.verify(signed_by(old), "pw.qry.incident.list", BODY)
    forger, _ = key_pair(tmp_path / "forger")
    with pytest.raises(Untrusted, match="not signed by this installation"):
        verifier.verify(signed_by(forger), SUBJECT, BODY)


def test_a_key_file_with_a_broken_key_among_several_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    _, old_pub = key_pair(tmp_path / "old")
    broken = b"-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n"
    path = public_key_file(tmp_path / "both.pub", old_pub, broken)
    with pytest.raises(KeyFileProblem, match="holds a public key that does not parse") as caught:
        read_verifier(path)
    assert "\n" not in str(caught.value)


def test_one_public_key_or_the_private_key_still_does(tmp_path: Path) -> None:
    signer, _ = key_pair(tmp_path)
    for path in (tmp_path / "principal.pub", tmp_path / "principal.key"):
        assert read_verifier(path).verify(signed_by(signer), SUBJECT, BODY) == PERSON
