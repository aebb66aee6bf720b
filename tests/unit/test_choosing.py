"""Who is offered a task, by policy: nobody away, nobody past their capacity, whoever is on call
first, the least loaded first; and the same inputs always give the same order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from schemas.availability import AwayPeriod
from schemas.events import PlaybookTriggered
from schemas.playbook_validation import parse_playbook
from schemas.roster import Roster
from services.engine import runs
from services.engine.assignment import rotate
from services.engine.choosing import Availability, for_reassignment, ranked
from tests.support import FIXTURES
from tests.unit.factories import T0, an_incident

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
PEOPLE = ("a", "b", "c", "d")


def roster(**role: object) -> Roster:
    return Roster.model_validate(
        {
            "agency": "PD",
            "time_zone": "America/Chicago",
            "roles": [
                {"id": "victim_advocate", "title": "Advocate", "family": "victim_advocate", **role},
                {"id": "command_staff", "title": "Command", "family": "command"},
            ],
            "members": [
                {"id": p, "name": p, "roles": ["victim_advocate"], "organisation": "pd"}
                for p in PEOPLE
            ],
        }
    )


def away(person: str) -> AwayPeriod:
    return AwayPeriod(
        person=person,
        starts=NOW - timedelta(hours=1),
        until=NOW + timedelta(days=1),
        recorded_by=person,
        recorded_at=NOW,
    )


def run_of_many(role: str, count: int) -> PlaybookTriggered:
    """A run whose `count` tasks all go to `role`, with no conditions or prerequisites."""
    path = FIXTURES / "playbooks" / "drill-chain.yaml"
    book = parse_playbook(path.read_bytes(), str(path))
    run = runs.trigger(book, an_incident("drill-chain"), how="manual", actor="r", now=T0)
    template = run.tasks[0].model_copy(update={"role": role, "depends_on": (), "when": None})
    tasks = tuple(template.model_copy(update={"key": f"task-{i}"}) for i in range(count))
    return run.model_copy(update={"tasks": tasks})


ON_CALL_C = {
    "on_call": {"overrides": [{"person": "c", "from": "2026-11-01", "until": "2026-12-01"}]}
}


def test_with_nobody_away_the_order_starts_where_the_rotation_would() -> None:
    plain = roster()
    for ordinal in range(6):
        order = ranked(plain, "victim_advocate", PEOPLE, Availability(NOW), seed=7, ordinal=ordinal)
        assert order[0] == rotate(PEOPLE, seed=7, ordinal=ordinal)


def test_the_rotation_skips_someone_away_for_the_next_in_turn() -> None:
    order = ranked(
        roster(), "victim_advocate", PEOPLE, Availability(NOW, away=(away("b"),)), seed=1
    )
    assert order == ["c", "d", "a"]


def test_whoever_is_on_call_comes_first_unless_they_are_away() -> None:
    scheduled = roster(**ON_CALL_C)
    live = Availability(NOW, schedule=scheduled)
    assert ranked(scheduled, "victim_advocate", PEOPLE, live, seed=0)[0] == "c"
    gone = Availability(NOW, away=(away("c"),), schedule=scheduled)
    assert "c" not in ranked(scheduled, "victim_advocate", PEOPLE, gone, seed=0)


def test_the_schedule_in_force_decides_who_is_on_call_not_the_pinned_roster() -> None:
    pinned, in_force = roster(), roster(**ON_CALL_C)
    order = ranked(pinned, "victim_advocate", PEOPLE, Availability(NOW, schedule=in_force))
    assert order[0] == "c"


def test_nobody_is_given_more_than_the_capacity() -> None:
    capped = roster(capacity=2)
    loads = {"a": 2, "b": 1, "c": 5}
    order = ranked(capped, "victim_advocate", PEOPLE, Availability(NOW, loads=loads))
    assert order == ["b", "d"]
    full = ranked(
        capped, "victim_advocate", PEOPLE, Availability(NOW, loads=loads), given={"b": 1, "d": 2}
    )
    assert full == []


def test_least_loaded_offers_the_fewest_open_tasks_first_ties_in_turn() -> None:
    least = roster(policy="least_loaded")
    loads = {"a": 3, "b": 0, "c": 1, "d": 0}
    order = ranked(least, "victim_advocate", PEOPLE, Availability(NOW, loads=loads), seed=2)
    assert order == ["d", "b", "c", "a"]


def test_a_fan_out_never_gives_anyone_more_than_the_capacity() -> None:
    run = run_of_many("victim_advocate", 10)
    chosen = runs.assignees(run, roster(capacity=2), Availability(NOW))
    counts = {p: list(chosen.values()).count(p) for p in PEOPLE}
    assert max(counts.values()) == 2 and list(chosen.values()).count(None) == 2


def test_a_declined_task_goes_to_the_next_in_turn_or_the_next_on_call() -> None:
    plain = roster()
    order = for_reassignment(plain, "victim_advocate", PEOPLE, Availability(NOW), ["b"])
    assert order == list(PEOPLE)  # lifecycle.reassign takes the one after b
    scheduled = roster(**ON_CALL_C)
    live = Availability(NOW, schedule=scheduled)
    assert for_reassignment(scheduled, "victim_advocate", PEOPLE, live, ["c"])[0] != "c"


people = st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1)


@given(
    people,
    st.lists(st.sampled_from(PEOPLE), unique=True),
    st.dictionaries(st.sampled_from(PEOPLE), st.integers(0, 5)),
    st.integers(0, 1000),
    st.integers(0, 20),
    st.sampled_from(["rotation", "least_loaded", "on_call_first"]),
    st.one_of(st.none(), st.integers(1, 4)),
)
def test_nobody_away_or_at_capacity_is_ever_offered_and_the_order_is_repeatable(
    eligible: list[str],
    gone: list[str],
    loads: dict[str, int],
    seed: int,
    ordinal: int,
    policy: str,
    capacity: int | None,
) -> None:
    schedule = ON_CALL_C if policy == "on_call_first" else {}
    chosen = roster(policy=policy, capacity=capacity, **schedule)
    availability = Availability(
        NOW, away=tuple(away(p) for p in gone), schedule=chosen, loads=loads
    )
    order = ranked(chosen, "victim_advocate", eligible, availability, seed=seed, ordinal=ordinal)
    assert order == ranked(
        chosen, "victim_advocate", eligible, availability, seed=seed, ordinal=ordinal
    )
    assert len(set(order)) == len(order) and set(order) <= set(eligible)
    assert not set(order) & set(gone)
    if capacity is not None:
        assert all(loads.get(p, 0) < capacity for p in order)
    missing = set(eligible) - set(order)
    assert all(p in gone or (capacity is not None and loads.get(p, 0) >= capacity) for p in missing)


def test_a_replayed_fan_out_with_the_same_inputs_chooses_the_same_people() -> None:
    run = run_of_many("victim_advocate", 6)
    scheduled = roster(**ON_CALL_C)
    availability = Availability(NOW, away=(away("a"),), schedule=scheduled)
    assert runs.assignees(run, scheduled, availability) == runs.assignees(
        run, scheduled, availability
    )
    assert an_incident().incident_id == run.incident_id
