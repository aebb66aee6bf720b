"""Restricted text sealed per scope: it opens only with its key and its context, a rotation keeps
old text readable, an erase makes it unreadable for every reader, and a key directory others
could read is refused."""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.limits import NOTE_MAX
from schemas.sealed import Sealed
from services.core.sealing import (
    Erased,
    KeyMissing,
    Keyring,
    KeyringError,
    KeyringInsecure,
    SealBroken,
)
from tests.support import ROOT

SCOPE = "team.peer-support"
AAD = {"task": "INC-7Q3XK2AB.peer-support-defusing", "author": "aisha.grant", "field": "note"}


class Clock:
    """A clock the test moves by hand, so the refresh interval needs no sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys", create_missing=True)


@pytest.mark.parametrize(
    "text",
    [
        "Officer asked for a second defusing session.",
        "Zoë spoke with Ngozi — 警察の支援 🚓, ça va.",
        "",
        "🚓" * NOTE_MAX,  # the longest note, each character four bytes of UTF-8
        "x" * NOTE_MAX,
    ],
    ids=["ascii", "non-ascii", "empty", "longest-wide", "longest"],
)
def test_sealed_text_opens_to_what_was_sealed(ring: Keyring, text: str) -> None:
    sealed = ring.seal(SCOPE, text, AAD)
    # It survives the trip through a stored event as JSON, validated again.
    stored = Sealed.model_validate_json(sealed.model_dump_json())
    assert stored.alg == "A256GCM" and stored.scope == SCOPE
    assert ring.open(stored, AAD) == text


def test_text_longer_than_a_note_is_refused(ring: Keyring) -> None:
    with pytest.raises(ValueError, match="4,001 characters, the limit is 4,000"):
        ring.seal(SCOPE, "x" * (NOTE_MAX + 1), AAD)


def test_the_plaintext_appears_nowhere_in_what_is_stored(ring: Keyring) -> None:
    canary = f"CANARY-{uuid.uuid4()}"
    sealed = ring.seal(SCOPE, canary, AAD)
    stored = sealed.model_dump_json()
    assert canary not in stored
    raw = base64.urlsafe_b64decode(sealed.ciphertext + "==")
    assert canary.encode() not in raw
    # A fresh nonce each time: the same text never seals the same way twice.
    again = ring.seal(SCOPE, canary, AAD)
    assert again.nonce != sealed.nonce and again.ciphertext != sealed.ciphertext


@pytest.mark.parametrize(
    "context",
    [
        {**AAD, "task": "INC-7Q3XK2AB.community-liaison-visit"},  # moved to another task
        {**AAD, "field": "decline_reason"},  # moved to another field
        {**AAD, "author": "tom.kowalski"},  # claimed by another author
        {**AAD, "extra": "x"},
        {k: v for k, v in AAD.items() if k != "field"},
    ],
    ids=["other-task", "other-field", "other-author", "extra-key", "missing-key"],
)
def test_sealed_text_does_not_open_in_another_context(
    ring: Keyring, context: dict[str, str]
) -> None:
    sealed = ring.seal(SCOPE, "restricted words", AAD)
    with pytest.raises(SealBroken, match="does not open"):
        ring.open(sealed, context)


def _flip(text: str, at: int) -> str:
    replacement = "A" if text[at] != "A" else "B"
    return text[:at] + replacement + text[at + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.model_copy(update={"ciphertext": _flip(s.ciphertext, 3)}),
        lambda s: s.model_copy(update={"ciphertext": _flip(s.ciphertext, len(s.ciphertext) - 5)}),
        lambda s: s.model_copy(update={"nonce": _flip(s.nonce, 0)}),
        lambda s: s.model_copy(update={"ciphertext": s.ciphertext[:-1]}),
    ],
    ids=["ciphertext", "tag", "nonce", "truncated"],
)
def test_altered_sealed_text_is_refused_not_taken_for_erased(ring: Keyring, tamper: object) -> None:
    sealed = ring.seal(SCOPE, "restricted words", AAD)
    assert callable(tamper)
    with pytest.raises(SealBroken):
        ring.open(tamper(sealed), AAD)


def test_another_scopes_key_does_not_open_it(ring: Keyring) -> None:
    sealed = ring.seal(SCOPE, "restricted words", AAD)
    ring.ensure("team.victim-services")
    other = ring.keys.read("team.victim-services")
    assert other is not None
    relabelled = sealed.model_copy(
        update={"scope": "team.victim-services", "key_id": other.current.key_id}
    )
    with pytest.raises(SealBroken):
        ring.open(relabelled, AAD)


def test_a_rotated_scope_opens_old_and_new_text(ring: Keyring) -> None:
    old = ring.seal(SCOPE, "before the rotation", AAD)
    rotated = ring.rotate(SCOPE)
    new = ring.seal(SCOPE, "after the rotation", AAD)
    assert new.key_id == rotated.current.key_id != old.key_id
    assert [v.key_id for v in rotated.versions] == [old.key_id, new.key_id]
    again = Keyring(ring.keys.path)  # read from the files, not this ring's memory
    assert again.open(old, AAD) == "before the rotation"
    assert again.open(new, AAD) == "after the rotation"


def test_an_erased_scope_gives_erased_and_other_scopes_still_open(ring: Keyring) -> None:
    sealed = ring.seal(SCOPE, "restricted words", AAD)
    ring.rotate(SCOPE)
    newer = ring.seal(SCOPE, "newer words", AAD)
    kept = ring.seal("org.harbor-crisis", "a partner's words", AAD)
    ring.erase(SCOPE)
    assert ring.open(sealed, AAD) == Erased(SCOPE, sealed.key_id)
    assert ring.open(newer, AAD) == Erased(SCOPE, newer.key_id)
    assert ring.open(kept, AAD) == "a partner's words"
    assert not (ring.keys.path / f"{SCOPE}.key").exists()
    # A key made for the scope afterwards is a new one: the erased text stays erased.
    ring.ensure(SCOPE)
    assert isinstance(ring.open(sealed, AAD), Erased)


def test_an_erase_by_another_process_takes_effect_after_the_refresh_interval(
    tmp_path: Path,
) -> None:
    clock = Clock()
    reader = Keyring(tmp_path / "keys", create_missing=True, refresh_seconds=1.0, clock=clock)
    sealed = reader.seal(SCOPE, "restricted words", AAD)
    assert reader.open(sealed, AAD) == "restricted words"
    Keyring(tmp_path / "keys").erase(SCOPE)
    clock.now = 0.5  # within the interval the directory is not read again
    assert reader.open(sealed, AAD) == "restricted words"
    clock.now = 1.0
    assert reader.open(sealed, AAD) == Erased(SCOPE, sealed.key_id)


def test_by_default_the_interval_is_real_time(tmp_path: Path) -> None:
    reader = Keyring(tmp_path / "keys", create_missing=True, refresh_seconds=0.05)
    sealed = reader.seal(SCOPE, "restricted words", AAD)
    assert reader.open(sealed, AAD) == "restricted words"
    Keyring(tmp_path / "keys").erase(SCOPE)
    time.sleep(0.06)
    assert reader.open(sealed, AAD) == Erased(SCOPE, sealed.key_id)


def test_a_rotation_by_another_process_is_seen_after_the_refresh_interval(tmp_path: Path) -> None:
    Keyring(tmp_path / "keys").ensure(SCOPE)
    clock = Clock()
    writer = Keyring(tmp_path / "keys", refresh_seconds=1.0, clock=clock)
    first = writer.seal(SCOPE, "one", AAD)
    rotated = Keyring(tmp_path / "keys").rotate(SCOPE)
    clock.now = 0.5
    assert writer.seal(SCOPE, "two", AAD).key_id == first.key_id
    clock.now = 1.0
    assert writer.seal(SCOPE, "three", AAD).key_id == rotated.current.key_id != first.key_id


def test_without_create_missing_a_scope_with_no_key_is_refused_naming_the_fix(
    tmp_path: Path,
) -> None:
    ring = Keyring(tmp_path / "keys")
    with pytest.raises(KeyMissing, match=r"run `pathways admin keys ensure team\.peer-support`"):
        ring.seal(SCOPE, "restricted words", AAD)
    assert not (tmp_path / "keys").exists()


def test_keys_are_private_to_their_owner(ring: Keyring) -> None:
    ring.ensure(SCOPE)
    ring.rotate(SCOPE)
    assert ring.keys.path.stat().st_mode & 0o777 == 0o700
    key_file = ring.keys.path / f"{SCOPE}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in ring.keys.path.iterdir()) == [".lock", f"{SCOPE}.key"]


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o701], ids=oct)
def test_a_key_directory_others_can_reach_is_refused(ring: Keyring, mode: int) -> None:
    sealed = ring.seal(SCOPE, "restricted words", AAD)
    ring.keys.path.chmod(mode)
    fresh = Keyring(ring.keys.path)
    for use in (fresh.scopes, lambda: fresh.open(sealed, AAD), lambda: fresh.ensure(SCOPE)):
        with pytest.raises(KeyringInsecure) as refused:
            use()
        message = str(refused.value)
        assert f"key directory {ring.keys.path} is open to group or others" in message
        assert f"chmod 700 {ring.keys.path}" in message and "\n" not in message


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604], ids=oct)
def test_a_key_file_others_can_read_is_refused(ring: Keyring, mode: int) -> None:
    sealed = ring.seal(SCOPE, "restricted words", AAD)
    key_file = ring.keys.path / f"{SCOPE}.key"
    key_file.chmod(mode)
    with pytest.raises(KeyringInsecure) as refused:
        Keyring(ring.keys.path).open(sealed, AAD)
    message = str(refused.value)
    assert f"key file {key_file} is open to group or others" in message
    assert f"chmod 600 {key_file}" in message


def test_a_damaged_key_file_is_one_line_naming_it(ring: Keyring) -> None:
    ring.ensure(SCOPE)
    key_file = ring.keys.path / f"{SCOPE}.key"
    key_file.write_text("# comment\nnot a key line\n")
    with pytest.raises(KeyringError, match=f"key file {key_file} line 2: expected KEY-ID"):
        Keyring(ring.keys.path).scopes()


def test_erasing_a_scope_with_no_key_says_so(ring: Keyring) -> None:
    with pytest.raises(KeyMissing, match="no key for team.peer-support .*nothing to erase"):
        ring.erase(SCOPE)


@pytest.mark.parametrize("scope", ["team.", "TEAM.x", "user.x", "team.x.y", "team.-x", "org"])
def test_a_malformed_scope_is_refused(ring: Keyring, scope: str) -> None:
    with pytest.raises(KeyringError, match="expected team.<team-id> or org.<organisation-id>"):
        ring.ensure(scope)
    with pytest.raises(ValidationError):
        Sealed(scope=scope, key_id="abcd1234", nonce="A" * 16, ciphertext="A" * 22)


def test_the_sealed_envelope_is_a_strict_frozen_contract(ring: Keyring) -> None:
    sealed = ring.seal(SCOPE, "words", AAD)
    with pytest.raises(ValidationError):
        Sealed.model_validate({**sealed.model_dump(), "text": "words"})
    with pytest.raises(ValidationError):
        Sealed.model_validate({**sealed.model_dump(), "alg": "A128GCM"})
    with pytest.raises(ValidationError):
        sealed.scope = "team.other"  # type: ignore[misc]


RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from services.core.sealing import Keyring
    directory, go, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    ready.touch()
    while not go.exists():
        time.sleep(0.001)
    keys, made = Keyring(directory).ensure("team.peer-support")
    print(keys.current.key_id, "made" if made else "found")
    """
)


def test_processes_ensuring_the_same_scope_at_once_end_with_one_key(tmp_path: Path) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(6)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path / "keys"), str(go), str(flag)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 30
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)  # every racer imported and waiting
    go.touch()
    answers = [racer.communicate(timeout=30)[0].split() for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert len({key_id for key_id, _ in answers}) == 1, answers
    assert [said for _, said in answers].count("made") == 1, answers
    [keys] = Keyring(tmp_path / "keys").scopes()
    assert len(keys.versions) == 1
