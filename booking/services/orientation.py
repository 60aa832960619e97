"""The orienteur: a decision tree kept as data (`data/orientation.json`) that leads a citizen
to an emergency number, an online channel of the State, or an appointment for a reason.

The file is checked when the application starts, against its schema (the models below) and
against the rules of the tree: every name it uses is defined, every question and outcome is
reachable from the start, no outcome is more than MAX_STEPS answers away, no question is its
own ancestor, and every question has one parent (so that each page has one way back).
Each outcome reached is counted per day (no personal data, no free text).
"""

from __future__ import annotations

import json
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from booking import clock
from booking.config import ConfigurationError
from booking.database import begin_write
from booking.extensions import db
from booking.models import OrientationCount
from booking.paths import DATA
from booking.services.reasons import DEFAULT_REASONS

DEFAULT_TREE = DATA / "orientation.json"
MAX_STEPS = 4
_NAME = r"^[a-z][a-z0-9_]{0,39}$"
_EXTENSION = "orientation"
PARIS = ZoneInfo("Europe/Paris")  # the day the counts are kept by


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """An answer to a question: it leads to another question or to an outcome."""

    label: str = Field(min_length=2, max_length=160)
    next: str | None = Field(default=None, pattern=_NAME)
    outcome: str | None = Field(default=None, pattern=_NAME)

    @model_validator(mode="after")
    def _one_target(self) -> Choice:
        """Exactly one of `next` and `outcome`."""
        if (self.next is None) == (self.outcome is None):
            raise ValueError("une réponse mène soit à une question (next), soit à une issue")
        return self


class Question(_Strict):
    """One step: a short question in plain French and its answers."""

    title: str = Field(min_length=5, max_length=160)
    hint: str = Field(default="", max_length=300)
    sensitive: bool = False  # the quick exit is shown
    choices: tuple[Choice, ...] = Field(min_length=2, max_length=7)


class Contact(_Strict):
    """A number to call or to text."""

    label: str = Field(min_length=2, max_length=160)
    number: str = Field(pattern=r"^[0-9]{2,10}$")
    kind: Literal["tel", "sms"] = "tel"
    shown: str = Field(default="", max_length=20)  # the number as written (`0 800 005 696`)


class Link(_Strict):
    """An official page of the State."""

    label: str = Field(min_length=2, max_length=160)
    url: str = Field(pattern=r"^https://[a-z0-9.-]+\.[a-z]{2,}(/[^\s]*)?$", max_length=300)
    description: str = Field(default="", max_length=300)


class Outcome(_Strict):
    """Where the tree leads."""

    kind: Literal["emergency", "online", "appointment"]
    title: str = Field(min_length=5, max_length=160)
    text: str = Field(default="", max_length=600)
    sensitive: bool = False
    contacts: tuple[Contact, ...] = ()
    links: tuple[Link, ...] = ()
    reason: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _complete(self) -> Outcome:
        """An emergency has numbers, an online channel a link, an appointment a reason."""
        if self.kind == "emergency" and not self.contacts:
            raise ValueError("une urgence donne au moins un numéro")
        if self.kind == "online" and not self.links:
            raise ValueError("un service en ligne donne au moins un lien")
        if (self.kind == "appointment") != (self.reason is not None):
            raise ValueError("un motif (reason) pour un rendez-vous, et pour lui seul")
        return self


class Tree(_Strict):
    """The whole decision tree."""

    start: str = Field(pattern=_NAME)
    questions: dict[Annotated[str, Field(pattern=_NAME)], Question]
    outcomes: dict[Annotated[str, Field(pattern=_NAME)], Outcome]

    def parent(self, name: str) -> str | None:
        """The question whose answer leads to this question (None for the start)."""
        return next(
            (
                q
                for q, asked in self.questions.items()
                if any(c.next == name for c in asked.choices)
            ),
            None,
        )

    def is_sensitive(self, name: str) -> bool:
        """Whether the question or outcome of this name is a sensitive page."""
        node = self.questions.get(name) or self.outcomes.get(name)
        return bool(node and node.sensitive)

    def leads_to(self, question: str, outcome: str) -> bool:
        """Whether an answer of this question leads to this outcome."""
        found = self.questions.get(question)
        return bool(found and any(c.outcome == outcome for c in found.choices))

    def depth(self, name: str) -> int:
        """The question's step number, from 1 at the start (a checked tree has no loop;
        the bound keeps a page from spinning on one all the same)."""
        steps, parent = 1, self.parent(name)
        while parent is not None and steps <= len(self.questions):
            steps, parent = steps + 1, self.parent(parent)
        return steps


@dataclass(frozen=True)
class Walk:
    """What a walk of the whole tree found."""

    outcomes: dict[str, int]  # outcome → fewest answers to reach it
    longest: int  # most answers on any path to an outcome
    questions: set[str]  # the questions reached


class TreeError(ValueError):
    """The tree's file is wrong; the message says where."""


def read_tree(text: str, reasons: set[str] | None = None) -> Tree:
    """The tree of a file's text, checked; TreeError says the first thing wrong."""
    try:
        tree = Tree.model_validate(json.loads(text))
    except (ValueError, ValidationError) as error:
        raise TreeError(str(error)) from None
    check_tree(tree, reasons)
    return tree


def check_tree(tree: Tree, reasons: set[str] | None = None) -> Walk:
    """The rules of the tree (see the module's docstring); the walk, when they hold."""
    if tree.start not in tree.questions:
        raise TreeError(f"start : « {tree.start} » n'est pas une question")
    parents: Tally[str] = Tally()
    for name, question in tree.questions.items():
        for choice in question.choices:
            if choice.next is not None:
                if choice.next not in tree.questions:
                    raise TreeError(f"{name} : la question « {choice.next} » n'existe pas")
                parents[choice.next] += 1
            elif choice.outcome not in tree.outcomes:
                raise TreeError(f"{name} : l'issue « {choice.outcome} » n'existe pas")
    for name, count in parents.items():
        if count > 1 or name == tree.start:
            raise TreeError(f"« {name} » : une question n'a qu'une question parente")
    walk = _walk(tree)
    unreached = set(tree.outcomes) - set(walk.outcomes)
    lonely = set(tree.questions) - walk.questions  # a loop of questions off the tree too
    if unreached or lonely:
        raise TreeError(f"jamais atteint : {', '.join(sorted(unreached | lonely))}")
    if walk.longest > MAX_STEPS:
        raise TreeError(f"une issue est à {walk.longest} réponses ; {MAX_STEPS} au plus")
    for name, outcome in tree.outcomes.items():
        if outcome.reason is not None and reasons is not None and outcome.reason not in reasons:
            raise TreeError(f"{name} : le motif « {outcome.reason} » n'existe pas")
    return walk


def _walk(tree: Tree) -> Walk:
    """Every outcome reached from the start, with the fewest answers to it, and the most
    answers on any path; TreeError on a cycle."""
    reached: dict[str, int] = {}
    seen: set[str] = set()
    longest = 0

    def visit(name: str, answers: int, path: tuple[str, ...]) -> None:
        nonlocal longest
        if name in path:
            raise TreeError(f"« {name} » mène à elle-même")
        seen.add(name)
        for choice in tree.questions[name].choices:
            if choice.next is not None:
                visit(choice.next, answers + 1, (*path, name))
            elif choice.outcome is not None:
                reached[choice.outcome] = min(reached.get(choice.outcome, answers + 1), answers + 1)
                longest = max(longest, answers + 1)

    visit(tree.start, 0, ())
    return Walk(reached, longest, seen)


def init_app(app: Flask, path: Path = DEFAULT_TREE, reasons: Path = DEFAULT_REASONS) -> None:
    """Load and check the tree at start, against the reasons' file the service ships: a
    wrong file stops the service with its reason."""
    try:
        codes = {str(entry["code"]) for entry in json.loads(reasons.read_text(encoding="utf-8"))}
        app.extensions[_EXTENSION] = read_tree(path.read_text(encoding="utf-8"), codes)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(f"{path.name} : {error}") from None


def tree() -> Tree:
    """The tree of the running application."""
    loaded: Tree = current_app.extensions[_EXTENSION]
    return loaded


def count_outcome(name: str, now: datetime | None = None) -> None:
    """One more citizen reached this outcome today (Paris day)."""
    day = (now or clock.now()).astimezone(PARIS).date()
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    table = OrientationCount.__table__
    # One statement, whoever is first today: two first visitors never collide.
    statement = (
        dialect.insert(table)
        .values(day=day, outcome=name, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.day, table.c.outcome], set_={"count": table.c.count + 1}
        )
    )
    begin_write()
    db.session.execute(statement)
    db.session.commit()


def outcome_counts(days: int, today: date | None = None) -> dict[str, int]:
    """How many times each outcome was reached over the last `days` days."""
    today = today or clock.now().astimezone(PARIS).date()
    rows = db.session.execute(
        select(OrientationCount.outcome, func.sum(OrientationCount.count))
        .where(OrientationCount.day > today - timedelta(days=days))
        .group_by(OrientationCount.outcome)
    )
    return {str(name): int(total) for name, total in rows}
