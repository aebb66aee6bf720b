"""docker-compose.yml and deploy/ agree with the code: they start real services, set only real
settings, give every service the public key, and the private key and sealing keys to the gateway
alone. (No container engine runs here: the files are read as data; the scripts in them are run
by tests/e2e/test_deploy_key_scripts.py.)"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from pydantic_settings import BaseSettings

import services
from schemas import subjects
from services.app import SERVICES
from services.core.assertions import KeyFileProblem, create_key_pair, read_signer
from services.core.keyfiles import KeyDirectory, KeyringInsecure
from tests.deploy_files import (
    COMPOSE_FILE,
    DEPLOY,
    HELM_VALUES,
    Container,
    all_containers,
    as_a_secret_volume,
    compose,
    compose_containers,
    compose_interpolated,
    compose_keys_entrypoint,
    k8s_containers,
    k8s_documents,
    k8s_init_script,
    secret_examples,
    yaml_files,
)
from tests.support import ROOT

PUBLIC_KEY = "PATHWAYS_PRINCIPAL_PUBLIC_KEY_FILE"
PRIVATE_KEY = "PATHWAYS_PRINCIPAL_KEY_FILE"
KEYS_DIR = "PATHWAYS_KEYS_DIR"
CONSOLE_KEY = "PATHWAYS_CONSOLE_KEY_FILE"
PUBLIC_SOURCES = {"volume:principal-public", "secret:pathways-principal-public"}
PRIVATE_SOURCES = {
    "volume:principal-key",
    "volume:sealing-keys",
    "secret:pathways-principal-key",
    "secret:pathways-sealing-keys",
}
GATEWAY_POD = "k8s:Deployment/pathways-gateway"
NATS_CONFIGS = DEPLOY / "nats"


def _subclasses(cls: type) -> Iterator[type]:
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        yield sub
        yield from _subclasses(sub)


def _settings_variables() -> set[str]:
    """PATHWAYS_* read by any settings class of the services (each module imported first)."""
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return {
        f"{cls.model_config.get('env_prefix', '')}{name}".upper()
        for cls in _subclasses(BaseSettings)
        if issubclass(cls, BaseSettings) and cls.model_config.get("env_prefix") == "PATHWAYS_"
        for name in cls.model_fields
    }


def _cli_variables() -> set[str]:
    """Every option's environment variable, over all `pathways` commands."""
    from services.cli.main import app

    found: set[str] = set()

    def walk(command: object) -> None:  # a click command (typer vendors its own click)
        for param in getattr(command, "params", ()):
            envvar = getattr(param, "envvar", None)
            found.update([envvar] if isinstance(envvar, str) else envvar or [])
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return found


def _nats_variables() -> set[str]:
    """What the NATS configs read from the environment (passwords, the route list)."""
    texts = [path.read_text() for path in NATS_CONFIGS.rglob("*.conf")]
    texts.append(HELM_VALUES.read_text())
    return {name for text in texts for name in re.findall(r"\$(PATHWAYS_[A-Z0-9_]+)", text)}


def _variables_in_deploy_files() -> dict[str, str]:
    """Every PATHWAYS_* the files set or substitute -> where."""
    used: dict[str, str] = {}
    for container in all_containers():
        used.update({name: container.where for name in container.env})
    raw = COMPOSE_FILE.read_text()
    used.update({name: "compose" for name in re.findall(r"\$\{(PATHWAYS_[A-Z0-9_]+)", raw)})
    nats_env = compose()["services"]["nats"].get("environment", {})
    used.update({name: "compose:nats" for name in nats_env})
    for secret in secret_examples():
        used.update({name: secret["metadata"]["name"] for name in secret.get("stringData", {})})
    helm = yaml.safe_load(HELM_VALUES.read_text())
    used.update({name: "nats-helm-values" for name in helm["container"]["env"]})
    return {name: where for name, where in used.items() if name.startswith("PATHWAYS_")}


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert documents and all(isinstance(doc, dict) for doc in documents)


def test_every_run_names_a_service_and_every_service_is_deployed() -> None:
    for container in all_containers():
        if container.argv[:1] == ("run",):
            assert container.service in SERVICES, f"{container.where}: {container.argv}"
    for containers in (compose_containers(), k8s_containers()):
        assert {c.service for c in containers if c.service} == set(SERVICES)


def _known_variables() -> set[str]:
    return _settings_variables() | _cli_variables() | _nats_variables()


def test_every_pathways_variable_is_a_setting() -> None:
    known = _known_variables()
    used = _variables_in_deploy_files()
    assert {name: where for name, where in used.items() if name not in known} == {}


def test_the_readme_names_real_settings_and_the_secrets_there_are() -> None:
    readme = (DEPLOY / "README.md").read_text()
    streams = {value for name, value in vars(subjects).items() if name.endswith("_STREAM")}
    named = set(re.findall(r"\b(PATHWAYS_[A-Z0-9_]*[A-Z0-9])\b", readme))
    assert named - _known_variables() - streams == set()
    created = set(re.findall(r"create secret generic (pathways-[a-z-]+)", readme))
    assert created == {secret["metadata"]["name"] for secret in secret_examples()} - {
        "pathways-notifier"  # optional; its own example in secret.example.yaml
    }


def test_every_service_checks_principals_with_the_public_key_alone() -> None:
    for container in all_containers():
        if container.service is None:
            continue
        path = container.env.get(PUBLIC_KEY)
        assert path is not None, f"{container.where} has no {PUBLIC_KEY}"
        mount = container.mount_holding(path)
        assert mount is not None and mount.source in PUBLIC_SOURCES, container.where
        assert mount.read_only, f"{container.where} may write the public key"


def _holds_private_keys(container: Container) -> bool:
    mounts_private = any(m.source in PRIVATE_SOURCES for m in container.mounts)
    return mounts_private or PRIVATE_KEY in container.env or KEYS_DIR in container.env


def test_only_the_gateway_holds_the_private_key_and_the_sealing_keys() -> None:
    holders = {c.where for c in all_containers() if _holds_private_keys(c)}
    assert holders == {
        "compose:keys",  # makes them (one-shot)
        "compose:gateway",
        f"{GATEWAY_POD}/install-keys",  # copies them out of their Secrets
        f"{GATEWAY_POD}/gateway",
    }
    for container in all_containers():
        if container.service == "gateway":
            for variable in (PRIVATE_KEY, KEYS_DIR):
                mount = container.mount_holding(container.env[variable] + "/")
                assert mount is not None and mount.read_only, f"{container.where}: {variable}"


def _source_of(container: Container, variable: str) -> str | None:
    mount = container.mount_holding(container.env[variable] + "/")
    return mount.source if mount is not None else None


def test_the_gateway_reads_its_keys_from_where_they_are_put() -> None:
    [compose_gateway] = [c for c in compose_containers() if c.service == "gateway"]
    assert _source_of(compose_gateway, PRIVATE_KEY) == "volume:principal-key"
    assert _source_of(compose_gateway, CONSOLE_KEY) == "volume:principal-key"
    assert _source_of(compose_gateway, KEYS_DIR) == "volume:sealing-keys"
    # Kubernetes: the init container reads the Secrets and writes the emptyDir the gateway reads.
    [init] = [c for c in k8s_containers() if c.where == f"{GATEWAY_POD}/install-keys"]
    [gateway] = [c for c in k8s_containers() if c.where == f"{GATEWAY_POD}/gateway"]
    assert {m.source for m in init.mounts if not m.read_only} == {
        "emptyDir:secrets",
        "emptyDir:tmp",
    }
    assert {m.source for m in init.mounts if m.read_only} == {
        "secret:pathways-principal-key",
        "secret:pathways-sealing-keys",
        "secret:pathways-link-key",
    }
    for variable in (PRIVATE_KEY, CONSOLE_KEY, KEYS_DIR):
        assert _source_of(gateway, variable) == "emptyDir:secrets", variable


LINK_KEY = "PATHWAYS_LINK_KEY_FILE"
LINK_SOURCES = {"volume:links-key", "secret:pathways-link-key"}
NOTIFIER_POD = "k8s:Deployment/pathways-notifier"


def test_the_gateway_and_the_notifier_alone_hold_the_link_key() -> None:
    """The notifier signs partners' action links and the gateway checks them: both read the
    same key, read-only, where it is put; nothing else holds it."""
    holders = {
        c.where
        for c in all_containers()
        if LINK_KEY in c.env or any(m.source in LINK_SOURCES for m in c.mounts)
    }
    assert holders == {
        "compose:keys",  # makes it (one-shot)
        "compose:gateway",
        "compose:notifier",
        f"{GATEWAY_POD}/install-keys",
        f"{GATEWAY_POD}/gateway",
        f"{NOTIFIER_POD}/install-keys",
        f"{NOTIFIER_POD}/notifier",
    }
    for container in all_containers():
        if container.service in ("gateway", "notifier"):
            mount = container.mount_holding(container.env[LINK_KEY])
            assert mount is not None and mount.read_only, container.where
            expected = (
                "volume:links-key"
                if container.where.startswith("compose:")
                else ("emptyDir:secrets")
            )
            assert mount.source == expected, container.where
    assert "/secrets/links/links.key" in compose_keys_entrypoint()[2]


def _nats_users(url: str) -> set[str]:
    return set(re.findall(r"nats://([^:@/]+):", url))


def test_each_container_connects_as_its_own_nats_user() -> None:
    accounts = (NATS_CONFIGS / "accounts.conf").read_text()
    helm_users = {
        user["user"]
        for user in yaml.safe_load(HELM_VALUES.read_text())["config"]["merge"]["accounts"][
            "PATHWAYS"
        ]["users"]
    }
    for container in all_containers():
        url = container.env.get("PATHWAYS_NATS_URL")
        if url is None:
            continue
        users = _nats_users(url)
        expected = [{container.service}] if container.service else [{"admin"}, {"cli"}]
        assert users in expected, f"{container.where} connects as {users}"
        [user] = users
        assert re.search(rf"user:\s*{user}\b", accounts), f"{user} not in accounts.conf"
        assert user in helm_users, f"{user} not in nats-helm-values.yaml"


def test_the_compose_gateway_listens_for_this_host_only() -> None:
    gateway = compose()["services"]["gateway"]
    assert gateway["environment"]["PATHWAYS_HOST"] == "0.0.0.0"
    port = gateway["environment"]["PATHWAYS_PORT"]
    assert gateway["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert gateway["environment"]["PATHWAYS_PUBLIC_URL"] == "${PATHWAYS_PUBLIC_URL:-}"
    assert f"127.0.0.1:{port}/readyz" in " ".join(gateway["healthcheck"]["test"])
    for name in ("keys", "migrate"):
        assert gateway["depends_on"][name]["condition"] == "service_completed_successfully"


def test_the_k8s_gateway_probes_its_health_routes() -> None:
    from services.gateway.health import router

    routes = {getattr(route, "path", None) for route in router.routes}
    [deployment] = [d for d in k8s_documents() if d["metadata"]["name"] == "pathways-gateway"
                    and d["kind"] == "Deployment"]  # fmt: skip
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"/readyz", "/healthz"} <= routes
    port = next(e["value"] for e in container["env"] if e["name"] == "PATHWAYS_PORT")
    assert container["ports"] == [{"name": "http", "containerPort": int(port)}]
    [service] = [d for d in k8s_documents() if d["kind"] == "Service"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_every_secret_the_manifests_read_is_shown_in_the_examples() -> None:
    shown = {s["metadata"]["name"]: set(s["stringData"]) for s in secret_examples()}
    for doc in k8s_documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for spec in [*pod.get("initContainers", ()), *pod["containers"]]:
            for item in spec.get("env", ()):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in shown[ref["name"]], f"{ref} in {doc['metadata']['name']}"
        for volume in pod.get("volumes", ()):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in shown
    assert shown["pathways-principal-public"] == {"principal.pub"}
    assert shown["pathways-principal-key"] == {"principal.key", "console.key"}


def test_the_scripts_survive_their_own_substitutions() -> None:
    # compose substitutes `$VAR` in its file (`$$` is a `$`); Kubernetes `$(VAR)` in a command.
    script = compose_interpolated(compose_keys_entrypoint()[2])
    assert '"$@"' in script
    assert "$(" not in k8s_init_script()


def test_the_image_owns_the_mount_points_the_keys_are_written_to() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile
    made = re.findall(r"install -d -o 10001 -g 10001 -m (\d+) ([^\\\n&]+)", dockerfile)
    modes = {path: mode for mode, paths in made for path in paths.split()}
    keys = compose()["services"]["keys"]
    for spec in keys["volumes"]:
        target = spec.split(":")[1]
        assert target in modes, f"the image does not make {target} for user 10001"
    assert modes["/secrets/principal"] == modes["/secrets/keys"] == "0700"


def test_a_secret_volume_used_as_it_is_would_be_refused(tmp_path: Path) -> None:
    """Why the gateway's keys are copied by an init container, not read from the Secret."""
    create_key_pair(tmp_path / "made" / "principal.key", tmp_path / "made" / "principal.pub")
    secret = tmp_path / "sealing-keys"
    as_a_secret_volume(secret, {"team.peer-support.key": b"# keys\n"})
    with pytest.raises(KeyringInsecure, match="chmod 700"):
        KeyDirectory(secret).load()
    principal = tmp_path / "principal-key"
    key = (tmp_path / "made" / "principal.key").read_bytes()
    as_a_secret_volume(principal, {"principal.key": key})
    with pytest.raises(KeyFileProblem, match="readable by others"):
        read_signer(principal / "principal.key")
    assert os.access(principal / "principal.key", os.R_OK)


RECORD_KEY = "PATHWAYS_RECORD_KEY_FILE"
RECORD_SOURCES = {"volume:record-key", "secret:pathways-record-key"}
WRITERS = ("intake", "engine", "notifier")


def test_the_writers_alone_hold_the_record_key() -> None:
    """Intake, the engine and the notifier seal what they append: each reads the record's
    private key, read-only, where it is put; nothing else holds it, and the public half is
    where `timeline verify` (the compose admin service) reads it."""
    holders = {
        c.where
        for c in all_containers()
        if RECORD_KEY in c.env or any(m.source in RECORD_SOURCES for m in c.mounts)
    }
    assert holders == {
        "compose:keys",  # makes it (one-shot)
        *(f"compose:{writer}" for writer in WRITERS),
        *(f"k8s:Deployment/pathways-{writer}/{writer}" for writer in WRITERS),
        "k8s:Deployment/pathways-engine/install-record-key",
        "k8s:Deployment/pathways-intake/install-record-key",
        f"{NOTIFIER_POD}/install-keys",
    }
    for container in all_containers():
        if container.service in WRITERS:
            mount = container.mount_holding(container.env[RECORD_KEY])
            assert mount is not None and mount.read_only, container.where
            expected = (
                "volume:record-key"
                if container.where.startswith("compose:")
                else ("emptyDir:secrets")
            )
            assert mount.source == expected, container.where
    script = compose_keys_entrypoint()[2]
    assert "record-key create --dir /secrets/record" in script
    assert "/etc/pathways/public/record.pub" in script
    [admin] = [c for c in compose_containers() if c.where == "compose:admin"]
    public = admin.mount_holding(admin.env["PATHWAYS_RECORD_PUBLIC_KEY_FILE"])
    assert public is not None and public.source == "volume:principal-public" and public.read_only
