# syntax=docker/dockerfile:1

# Pathways — one image for every service and for the CLI.
#
#   docker build -t pathways:local .
#   docker run --rm -e PATHWAYS_NATS_URL=nats://engine:PASSWORD@nats:4222 pathways:local run engine
#   docker run --rm -e PATHWAYS_NATS_URL=nats://cli:PASSWORD@nats:4222 pathways:local --help
#
# The entrypoint is the `pathways` console script; the default command runs the
# engine. docker-compose.yml and deploy/k8s/ pick the service with `run <service>`.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------
# build: install the distribution and its dependencies into a virtualenv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/pathways
ENV PATH=/opt/pathways/bin:$PATH

WORKDIR /src
# Everything the hatchling build reads: the metadata (pyproject.toml names
# README.md as the readme, so it must be present) and the two packages.
COPY pyproject.toml README.md ./
COPY schemas/ schemas/
COPY services/ services/
RUN pip install . \
 && pathways --help > /dev/null

# ---------------------------------------------------------------------------
# runtime: the virtualenv, the playbooks and rosters, a non-root user
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="pathways" \
      org.opencontainers.image.description="Event-driven incident-response coordination (FastStream on NATS JetStream)" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/pathways/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN groupadd --system --gid 10001 pathways \
 && useradd --system --uid 10001 --gid pathways \
        --home-dir /app --no-create-home --shell /usr/sbin/nologin pathways

# Same base image and same path as in the build stage, so the venv's interpreter
# links and console-script shebangs stay valid.
COPY --from=build /opt/pathways /opt/pathways

# The working directory holds playbooks/ and rosters/, so the defaults
# PATHWAYS_PLAYBOOKS_DIR=playbooks and PATHWAYS_ROSTER=rosters/example.yaml
# resolve. Files stay owned by root: the service user can read but not change
# them. Mount your own over /app/playbooks and /app/rosters (or point the two
# variables elsewhere) to use site-specific ones.
WORKDIR /app
COPY playbooks/ playbooks/
COPY rosters/ rosters/

# Mount points for the installation's keys, owned by the service user. docker compose mounts a
# named volume on each; a new volume takes the owner and mode of the directory it is mounted on,
# so the one-shot `keys` service (running as 10001, like everything else) can write into it:
#   /secrets/principal      the signing key pair (principal.key 0600), in a 0700 directory
#   /secrets/keys           the keys that seal restricted text, 0700 (services/core/keyfiles.py)
#   /secrets/links          the key of partners' action links (links.key 0600), 0700
#   /secrets/record         the record key pair (record.key 0600), 0700: the writers seal with it
#   /etc/pathways/public    the public keys alone (principal.pub, which every service reads;
#                           record.pub, which `timeline verify` reads)
# Kubernetes mounts its own volumes there (deploy/k8s/gateway.yaml).
RUN install -d -o 10001 -g 10001 -m 0700 /secrets/principal /secrets/keys /secrets/links /secrets/record \
 && install -d -o 10001 -g 10001 -m 0755 /etc/pathways/public

USER 10001:10001

ENTRYPOINT ["pathways"]
CMD ["run", "engine"]
