"""The shell the deployment files run to put the keys in place, run here on a temporary directory
in place of the containers' paths: compose's one-shot `keys` service, and the init container of
the Kubernetes gateway, which copies the keys out of their Secrets. What they leave must be what
the gateway and the services accept: 0600 keys, 0700 key directories, the public key alone
where every service reads it."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
from pathlib import Path

import pytest

from services.core.assertions import create_key_pair, read_signer, read_verifier
from services.core.links import read_link_key
from services.core.sealing import Keyring
from services.gateway.console_keys import read_console_keys
from tests.deploy_files import (
    as_a_secret_volume,
    compose,
    compose_interpolated,
    compose_keys_entrypoint,
    k8s_init_script,
    localised,
)
from tests.e2e.harness import PATHWAYS

pytestmark = pytest.mark.e2e

SCOPES = ("team.victim-services", "org.harbor-crisis-center")
TIMEOUT = 60.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAYS_")}
    clean["PATH"] = f"{PATHWAYS.parent}{os.pathsep}{clean.get('PATH', '')}"
    done = subprocess.run(
        argv, env=clean | env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def compose_keys(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`docker compose run --rm keys ARGS`, on volumes made as the image makes their mount
    points (Dockerfile: owned by the service user, 0700, the public one 0755)."""
    for directory, directory_mode in (("secrets/principal", 0o700), ("secrets/keys", 0o700),
                                      ("secrets/links", 0o700), ("secrets/record", 0o700),
                                      ("public", 0o755)):  # fmt: skip
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory).chmod(directory_mode)
    entrypoint = [localised(compose_interpolated(part), root) for part in compose_keys_entrypoint()]
    service_env = compose()["services"]["keys"]["environment"]
    return run([*entrypoint, *args], {k: localised(v, root) for k, v in service_env.items()})


def test_compose_keys_makes_the_pair_once_and_the_public_key_alone_for_the_services(
    tmp_path: Path,
) -> None:
    first = compose_keys(tmp_path)
    principal, public, keys = (
        tmp_path / "secrets/principal",
        tmp_path / "public",
        tmp_path / "secrets/keys",
    )
    assert f"No keys in {keys}." in first.stdout
    assert (mode(principal), mode(principal / "principal.key"), mode(keys)) == (0o700, 0o600, 0o700)
    assert sorted(p.name for p in public.iterdir()) == ["principal.pub", "record.pub"]
    assert mode(public / "principal.pub") == mode(public / "record.pub") == 0o644
    assert b"PRIVATE KEY" not in (public / "principal.pub").read_bytes()
    assert b"PRIVATE KEY" not in (public / "record.pub").read_bytes()
    private_key = (principal / "principal.key").read_bytes()
    assert (
        read_verifier(public / "principal.pub") == read_signer(principal / "principal.key").verifier
    )

    assert mode(principal / "console.key") == 0o600
    console_key = read_console_keys(principal / "console.key")
    links = tmp_path / "secrets/links"
    assert (mode(links), mode(links / "links.key")) == (0o700, 0o600)
    link_key = read_link_key(links / "links.key")
    record = tmp_path / "secrets/record"
    assert (mode(record), mode(record / "record.key")) == (0o700, 0o600)
    record_key = (record / "record.key").read_bytes()
    assert read_verifier(public / "record.pub") == read_signer(record / "record.key").verifier

    compose_keys(tmp_path)  # every `docker compose up` runs it again: the keys are kept
    assert (principal / "principal.key").read_bytes() == private_key
    assert read_console_keys(principal / "console.key") == console_key
    assert read_link_key(links / "links.key") == link_key
    assert (record / "record.key").read_bytes() == record_key
    assert read_verifier(public / "record.pub") == read_signer(record / "record.key").verifier
    assert (
        read_verifier(public / "principal.pub") == read_signer(principal / "principal.key").verifier
    )


def test_compose_keys_runs_the_key_commands_on_its_volumes(tmp_path: Path) -> None:
    compose_keys(tmp_path, "admin", "keys", "ensure", *SCOPES)
    keys = tmp_path / "secrets/keys"
    assert {scope.scope for scope in Keyring(keys).scopes()} == set(SCOPES)
    assert {mode(path) for path in keys.glob("*.key")} == {0o600}
    listed = compose_keys(tmp_path, "admin", "keys", "list")
    assert all(scope in listed.stdout for scope in SCOPES)


LINK_KEY = (bytes(range(32)).hex() + "\n").encode()


def install_keys(root: Path, sealing: dict[str, bytes], private_key: bytes) -> str:
    """The gateway pod's init container, on Secret volumes laid out as the kubelet does."""
    console_key = secrets.token_bytes(32).hex().encode()
    as_a_secret_volume(
        root / "mnt/principal-key", {"principal.key": private_key, "console.key": console_key}
    )
    as_a_secret_volume(root / "mnt/link-key", {"links.key": LINK_KEY})
    as_a_secret_volume(root / "mnt/sealing-keys", sealing)
    (root / "secrets").mkdir()
    (root / "secrets").chmod(0o777)  # an emptyDir
    return run(["sh", "-c", localised(k8s_init_script(), root)], {}).stdout


def test_the_init_container_installs_the_secrets_as_the_gateway_requires(tmp_path: Path) -> None:
    operator = tmp_path / "operator"
    create_key_pair(operator / "principal.key", operator / "principal.pub")
    made = Keyring(operator / "keys")
    for scope in SCOPES:
        made.ensure(scope)
    sealing = {path.name: path.read_bytes() for path in (operator / "keys").glob("*.key")}

    listed = install_keys(tmp_path, sealing, (operator / "principal.key").read_bytes())
    installed = tmp_path / "secrets"
    assert all(scope in listed for scope in SCOPES)
    assert (mode(installed / "principal"), mode(installed / "keys")) == (0o700, 0o700)
    assert {
        mode(p)
        for p in [
            installed / "principal/principal.key",
            installed / "principal/console.key",
            *(installed / "keys").iterdir(),
        ]
    } == {0o600}
    read_console_keys(installed / "principal/console.key")
    assert Keyring(installed / "keys").scopes() == made.scopes()
    assert read_signer(installed / "principal/principal.key").verifier == read_verifier(
        operator / "principal.pub"
    )
    assert mode(installed / "links") == 0o700
    assert read_link_key(installed / "links/links.key") == bytes(range(32))


def test_the_init_container_starts_the_gateway_with_no_sealing_key_yet(tmp_path: Path) -> None:
    create_key_pair(tmp_path / "operator/principal.key", tmp_path / "operator/principal.pub")
    private_key = (tmp_path / "operator/principal.key").read_bytes()
    listed = install_keys(tmp_path, {}, private_key)
    assert f"No keys in {tmp_path}/secrets/keys." in listed
    assert mode(tmp_path / "secrets/keys") == 0o700


@pytest.mark.parametrize("writer", ["intake", "engine", "notifier"])
def test_each_writers_init_container_installs_the_record_key(tmp_path: Path, writer: str) -> None:
    operator = tmp_path / "operator"
    create_key_pair(operator / "record.key", operator / "record.pub")
    as_a_secret_volume(
        tmp_path / "mnt/record-key", {"record.key": (operator / "record.key").read_bytes()}
    )
    as_a_secret_volume(tmp_path / "mnt/link-key", {"links.key": LINK_KEY})
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets").chmod(0o777)  # an emptyDir
    run(["sh", "-c", localised(k8s_init_script(f"pathways-{writer}"), tmp_path)], {})
    installed = tmp_path / "secrets/record"
    assert (mode(installed), mode(installed / "record.key")) == (0o700, 0o600)
    assert read_signer(installed / "record.key").verifier == read_verifier(operator / "record.pub")
