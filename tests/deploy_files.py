"""The deployment files, read as data: docker-compose.yml and the manifests in deploy/k8s/.

Each container that compose or Kubernetes would start becomes a `Container`: its command, its
environment (a Kubernetes ConfigMap's data included) and what it mounts, named by source (a
compose volume, a Kubernetes Secret or emptyDir), so the tests can ask the same questions of both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.support import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
# Not a manifest: values for the NATS Helm chart.
HELM_VALUES = K8S / "nats-helm-values.yaml"
# Not applied: the shapes of the Secrets an operator creates.
SECRET_EXAMPLES = K8S / "secret.example.yaml"


@dataclass(frozen=True)
class Mount:
    source: str  # "volume:NAME" (compose), "secret:NAME", "emptyDir:NAME", "configMap:NAME"
    path: str
    read_only: bool


@dataclass(frozen=True)
class Container:
    where: str  # "compose:SERVICE" or "k8s:KIND/NAME/CONTAINER"
    group: str  # what shares its volumes: the compose service, or the Kubernetes pod
    argv: tuple[str, ...]
    env: dict[str, str] = field(hash=False)
    mounts: tuple[Mount, ...]

    @property
    def service(self) -> str | None:
        """The service `pathways run SERVICE` starts here, if that is what it runs."""
        return self.argv[1] if len(self.argv) >= 2 and self.argv[0] == "run" else None

    def mounted(self, source: str) -> list[Mount]:
        return [m for m in self.mounts if m.source == source]

    def mount_holding(self, path: str) -> Mount | None:
        """The mount a file at `path` would be read from."""
        found = [m for m in self.mounts if path.startswith(m.path.rstrip("/") + "/")]
        return max(found, key=lambda m: len(m.path), default=None)


def yaml_files() -> list[Path]:
    return [COMPOSE_FILE, *sorted(DEPLOY.rglob("*.yaml")), *sorted(DEPLOY.rglob("*.yml"))]


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


@cache
def k8s_documents() -> tuple[dict[str, Any], ...]:
    """Every manifest kustomization.yaml applies, in its order."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return tuple(
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((K8S / name).read_text())
        if doc
    )


def secret_examples() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(SECRET_EXAMPLES.read_text()) if doc]


def compose_containers() -> list[Container]:
    return [
        Container(
            where=f"compose:{name}",
            group=f"compose:{name}",
            argv=tuple(service.get("command", ())),
            env={k: str(v) for k, v in (service.get("environment") or {}).items()},
            mounts=tuple(_compose_mount(spec) for spec in service.get("volumes", ())),
        )
        for name, service in compose()["services"].items()
    ]


def _compose_mount(spec: str) -> Mount:
    source, path, *options = spec.split(":")
    kind = "bind" if source.startswith((".", "/")) else "volume"
    return Mount(f"{kind}:{source}", path, "ro" in options)


def k8s_containers() -> list[Container]:
    config = {
        doc["metadata"]["name"]: doc["data"]
        for doc in k8s_documents()
        if doc["kind"] == "ConfigMap"
    }
    found: list[Container] = []
    for doc in k8s_documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        volumes = {v["name"]: _volume_source(v) for v in pod.get("volumes", ())}
        group = f"k8s:{doc['kind']}/{doc['metadata']['name']}"
        for spec in [*pod.get("initContainers", ()), *pod["containers"]]:
            found.append(
                Container(
                    where=f"{group}/{spec['name']}",
                    group=group,
                    argv=tuple(spec.get("args", ())),
                    env=_k8s_env(spec, config),
                    mounts=tuple(
                        Mount(volumes[m["name"]], m["mountPath"], m.get("readOnly", False))
                        for m in spec.get("volumeMounts", ())
                    ),
                )
            )
    return found


def _volume_source(volume: dict[str, Any]) -> str:
    if "secret" in volume:
        return f"secret:{volume['secret']['secretName']}"
    if "configMap" in volume:
        return f"configMap:{volume['configMap']['name']}"
    return f"emptyDir:{volume['name']}"


def _k8s_env(spec: dict[str, Any], config: dict[str, dict[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in spec.get("envFrom", ()):
        if "configMapRef" in source:
            env.update(config[source["configMapRef"]["name"]])
    for item in spec.get("env", ()):
        env[item["name"]] = item.get("value", "<from a Secret>")
    return env


def all_containers() -> list[Container]:
    return compose_containers() + k8s_containers()


def k8s_init_script(deployment: str = "pathways-gateway") -> str:
    """The shell script of a Deployment's init container (the gateway's unless another is
    named), as Kubernetes hands it to sh."""
    for doc in k8s_documents():
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == deployment:
            [init] = doc["spec"]["template"]["spec"]["initContainers"]
            command: list[str] = init["command"]
            assert command[:2] == ["sh", "-c"], command
            return command[2]
    raise AssertionError(f"deploy/k8s has no {deployment} Deployment")


def compose_keys_entrypoint() -> list[str]:
    """The `keys` service's entrypoint as written (compose still has to substitute `$$`)."""
    entrypoint: list[str] = compose()["services"]["keys"]["entrypoint"]
    return entrypoint


def compose_interpolated(text: str) -> str:
    """`text` after compose's own substitution, for a text that uses no variables: `$$` is `$`."""
    unescaped = re.sub(r"\$\$", "", text)
    assert "$" not in unescaped, f"a `$` compose would substitute: {text!r}"
    return text.replace("$$", "$")


def as_a_secret_volume(directory: Path, files: dict[str, bytes]) -> None:
    """The layout the kubelet gives a Secret volume: a 1777 directory, each key a symlink into a
    timestamped directory of root's 0444 files (run as another user, they must be 0444)."""
    data = directory / "..2026_01_01_00_00_00.000000000"
    data.mkdir(parents=True)
    for name, content in files.items():
        (data / name).write_bytes(content)
        (data / name).chmod(0o444)
        (directory / name).symlink_to(Path("..data") / name)
    (directory / "..data").symlink_to(data.name)
    directory.chmod(0o1777)


# Where the deployment puts the keys, and where a test puts them instead.
KEY_PATHS = {
    "/secrets/": "secrets/",
    "/etc/pathways/public": "public",
    "/mnt/": "mnt/",
}


def localised(text: str, root: Path) -> str:
    """`text` with the deployment's key paths moved under `root` (each replaced once)."""
    pattern = "|".join(re.escape(path) for path in KEY_PATHS)
    return re.sub(pattern, lambda found: f"{root}/{KEY_PATHS[found.group()]}", text)
