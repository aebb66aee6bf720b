"""Escalation chains: what happens, step by step, when a task's deadline passes unanswered —
remind the assignee, wait, reassign, tell the role's coordinators or command staff, call a
webhook — and how often the chain repeats. A role's chain is declared in the roster; a playbook
task may declare its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from schemas.base import Contract

EscalationAction = Literal["remind", "reassign", "notify_coordinator", "notify_command", "webhook"]


class EscalationStep(Contract):
    action: EscalationAction
    wait: timedelta = Field(
        default=timedelta(0),
        description="After the previous step (the first step: after the deadline), ISO 8601",
    )
    url: str | None = Field(default=None, max_length=2000, description="For `webhook` only")

    @model_validator(mode="after")
    def _url_for_webhooks_only(self) -> EscalationStep:
        if self.action == "webhook" and not self.url:
            raise ValueError("a webhook step needs a url")
        if self.action != "webhook" and self.url is not None:
            raise ValueError(f"only a webhook step takes a url, not {self.action}")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise ValueError("the url must start with https:// or http://")
        if self.wait < timedelta(0):
            raise ValueError("wait must not be negative")
        return self


class EscalationChain(Contract):
    steps: tuple[EscalationStep, ...] = Field(min_length=1, max_length=20)
    repeat: int = Field(default=1, ge=1, le=10, description="How many times the steps run")
    repeat_after: timedelta = Field(
        default=timedelta(minutes=30), description="Between the last step and the next round"
    )
    remind_before_due: tuple[timedelta, ...] = Field(
        default=(timedelta(hours=1),),
        max_length=5,
        description="Reminders to the assignee this long before the due time",
    )


DEFAULT_CHAIN = EscalationChain(
    steps=(
        EscalationStep(action="remind"),
        EscalationStep(action="notify_coordinator", wait=timedelta(minutes=15)),
        EscalationStep(action="reassign", wait=timedelta(minutes=15)),
        EscalationStep(action="notify_command", wait=timedelta(minutes=15)),
    ),
)


class FlatStep(Contract):
    """One step of a chain as it runs: its position counting repeats (from 1), and when it
    fires, after the deadline."""

    number: int
    step: EscalationStep
    after_deadline: timedelta


def flattened(chain: EscalationChain) -> tuple[FlatStep, ...]:
    steps: list[FlatStep] = []
    offset = timedelta(0)
    for round_number in range(chain.repeat):
        if round_number:
            offset += chain.repeat_after
        for step in chain.steps:
            offset += step.wait
            steps.append(FlatStep(number=len(steps) + 1, step=step, after_deadline=offset))
    return tuple(steps)
