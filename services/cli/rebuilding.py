"""`pathways admin rebuild`: the projections rebuilt from the event stream (needs a NATS user
with JetStream access to the stream and buckets)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.roster import Roster
from services.cli.admin import app
from services.cli.client import Refusal, errors, execute
from services.cli.options import DEFAULT_URL, NatsUrl
from services.core.broker import connect
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.projector.rebuild import Progress as OnProgress
from services.projector.rebuild import Rebuilt, rebuild

# Without a terminal, a progress line at most this often.
PLAIN_PROGRESS_SECONDS = 2.0


@app.command("rebuild")
def rebuild_projections(nats_url: NatsUrl = DEFAULT_URL) -> None:
    """Rebuild every projection (task and incident lists, response metrics) by replaying the
    event stream. Safe while the services run, and safe to repeat."""
    with _progress() as on_progress:
        done = execute(_rebuild(nats_url, on_progress))
    errors.print(
        f"Rebuilt the projections from {done.events} events in {done.seconds:.1f} s"
        f" ({done.unprocessable} this version cannot read, {done.removed} stray records removed).",
        markup=False,
    )


async def _rebuild(url: str, on_progress: OnProgress) -> Rebuilt:
    # The rebuild runs here, not in the projector: it is needed most when the projector is down
    # or stuck, and it reports progress as it goes without a long request to time out.
    nc = await connect(url, name="pathways-admin")
    try:
        rt = Runtime(Settings(nats_url=url), library={}, roster=Roster(agency="-", members=()))
        await rt.attach(nc)
        return await rebuild(rt, on_progress)
    except (nats.errors.Error, TimeoutError) as exc:
        # Most often a user without JetStream access: `cli` has none.
        raise Refusal(
            f"rebuild stopped: {exc or type(exc).__name__} (it needs a NATS user with JetStream"
            " access to the stream and buckets; see docs/cli.md)"
        ) from None
    except Exception as exc:  # anything else: one line, and it is safe to run again
        raise Refusal(
            f"rebuild stopped: {type(exc).__name__}: {exc}; it is safe to run again"
        ) from None
    finally:
        await nc.close()


@contextmanager
def _progress() -> Iterator[OnProgress]:
    """A progress bar on a terminal; otherwise a plain line now and then, for logs."""
    if errors.is_terminal:
        with Progress(
            TextColumn("Replaying events"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as bar:
            task = bar.add_task("replay", total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    last = 0.0

    def plain(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done in (0, total) or now - last >= PLAIN_PROGRESS_SECONDS:
            last = now
            percent = 100 * done // total if total else 100
            errors.print(f"replayed {done}/{total} events ({percent}%)", markup=False)

    yield plain
