"""A reason's pre-declaration: a few typed, optional fields a citizen may fill when booking,
so that the unit prepares the visit (the dates of an absence, the kind of weapon handed in,
the date and a summary of the facts).

The form is data (`data/motifs.json`); this module reads its definition, checks the answers
and words them for the unit's staff. Choices where the specification is silent:
- every field is optional, and a pre-declaration left empty is no pre-declaration;
- a date is a calendar day (`AAAA-MM-JJ`, what `<input type="date">` sends, or `JJ/MM/AAAA`
  as typed where the browser has no date picker); `"when": "past"` refuses a day after
  today, `"future"` a day before it, and `not_before` names the field it cannot precede;
- text keeps its line breaks only in a `textarea`; lengths count characters, not bytes;
- a choice is stored as its code and shown with its label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from booking.domain.words import N_, Text

KINDS = ("date", "text", "textarea", "choice")
TEXT_MAX = 1000  # no field holds more, whatever its definition says
FIELDS_MAX = 6
FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,29}$"
_NAME = re.compile(FIELD_NAME_PATTERN)
_FRENCH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class DefinitionError(ValueError):
    """The definition of a pre-declaration in the reasons' file is wrong."""


@dataclass(frozen=True)
class Field:
    """One question of a pre-declaration."""

    name: str
    label: str
    kind: str
    hint: str = ""
    max_length: int = 200
    options: tuple[tuple[str, str], ...] = ()  # (code, label)
    when: str = ""  # "past", "future" or ""
    not_before: str = ""  # the name of a date field this one cannot precede
    autocomplete: str = "off"

    @property
    def key(self) -> str:
        """The field's name in forms and in error lists (`pre_declaration.<name>`)."""
        return f"pre_declaration.{self.name}"


@dataclass(frozen=True)
class Form:
    """A reason's pre-declaration: an introduction and its fields."""

    intro: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        """The field of that name, if the form has one."""
        return next((field for field in self.fields if field.name == name), None)


def read_form(raw: Any) -> Form | None:
    """The form a reason's entry defines (None when it has none); DefinitionError names the
    first thing wrong."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
        raise DefinitionError("pre_declaration : un objet avec une liste « fields »")
    if set(raw) - {"intro", "fields"}:
        raise DefinitionError("pre_declaration : seulement « intro » et « fields »")
    if not 1 <= len(raw["fields"]) <= FIELDS_MAX:
        raise DefinitionError(f"pre_declaration : 1 à {FIELDS_MAX} champs")
    fields = tuple(_read_field(entry) for entry in raw["fields"])
    names = [field.name for field in fields]
    if len(set(names)) != len(names):
        raise DefinitionError("pre_declaration : deux champs portent le même nom")
    for field in fields:
        if field.not_before and not any(
            other.name == field.not_before and other.kind == "date" for other in fields
        ):
            raise DefinitionError(f"{field.name} : not_before doit nommer un champ date")
    return Form(str(raw.get("intro", "")), fields)


FIELD_KEYS = {
    "name",
    "label",
    "type",
    "hint",
    "max_length",
    "options",
    "when",
    "not_before",
    "autocomplete",
}


def _read_field(entry: Any) -> Field:
    """One field's definition, checked."""
    if not isinstance(entry, dict):
        raise DefinitionError("pre_declaration : chaque champ est un objet")
    unknown = sorted(set(entry) - FIELD_KEYS)
    if unknown:
        raise DefinitionError(f"{entry.get('name', '?')} : clé inconnue {', '.join(unknown)}")
    try:
        return _field_of(entry)
    except (ValueError, TypeError, KeyError) as error:
        if isinstance(error, DefinitionError):
            raise
        raise DefinitionError(f"{entry.get('name', '?')} : valeur incorrecte ({error})") from None


def _field_of(entry: dict[str, Any]) -> Field:
    """A field's definition whose keys are known."""
    name, kind = str(entry.get("name", "")), str(entry.get("type", ""))
    if not _NAME.fullmatch(name):
        raise DefinitionError(f"« {name} » : un nom en minuscules, chiffres et _")
    if kind not in KINDS:
        raise DefinitionError(f"{name} : type parmi {', '.join(KINDS)}")
    label = str(entry.get("label", "")).strip()
    if not label:
        raise DefinitionError(f"{name} : un libellé")
    max_length = int(entry.get("max_length", 200))
    if kind in {"text", "textarea"} and not 1 <= max_length <= TEXT_MAX:
        raise DefinitionError(f"{name} : max_length entre 1 et {TEXT_MAX}")
    options = tuple((str(o["value"]), str(o["label"])) for o in entry.get("options", []))
    if (kind == "choice") != bool(options):
        raise DefinitionError(f"{name} : des options pour un choix, et seulement pour lui")
    when = str(entry.get("when", ""))
    if when not in {"", "past", "future"} or (when and kind != "date"):
        raise DefinitionError(f"{name} : when vaut past ou future, pour une date")
    return Field(
        name=name,
        label=label,
        kind=kind,
        hint=str(entry.get("hint", "")),
        max_length=max_length,
        options=options,
        when=when,
        not_before=str(entry.get("not_before", "")),
        autocomplete=str(entry.get("autocomplete", "off")),
    )


def check_answers(
    form: Form, values: Mapping[str, str], today: date
) -> tuple[dict[str, str], dict[str, str]]:
    """The answers kept (field name → value as stored) and the errors (field key → French
    message). Unknown names are an error: a partner service must not think it sent
    something that is dropped."""
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in values:
        if form.field(name) is None:
            errors[f"pre_declaration.{name}"[:80]] = N_("Ce champ n'existe pas pour ce motif.")
    for field in form.fields:
        raw = values.get(field.name, "")
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            continue
        try:
            answers[field.name] = _answer(field, text, today)
        except ValueError as error:
            problem = _said(error)
            errors[field.key] = Text("%(label)s : %(problem)s", label=field.label, problem=problem)
    for field in form.fields:
        first = answers.get(field.not_before) if field.not_before else None
        if first and field.name in answers and answers[field.name] < first:
            before = form.field(field.not_before)
            errors[field.key] = Text(
                "%(label)s : pas avant « %(before)s ».",
                label=field.label,
                before=before.label if before else "",
            )
    return answers, errors


def _said(error: ValueError) -> str:
    """A refusal's reason as raised: a marked text or a `Text`, kept for the edge to say."""
    reason = error.args[0] if error.args else ""
    return reason if isinstance(reason, str) else str(error)


def _answer(field: Field, text: str, today: date) -> str:
    """One answer as stored; ValueError with the French reason (a marked text)."""
    if field.kind == "date":
        day = _day(text)
        if field.when == "past" and day > today:
            raise ValueError(N_("une date passée ou celle d'aujourd'hui."))
        if field.when == "future" and day < today:
            raise ValueError(N_("une date à venir ou celle d'aujourd'hui."))
        return day.isoformat()
    if field.kind == "choice":
        if text not in dict(field.options):
            raise ValueError(N_("choisissez l'une des réponses proposées."))
        return text
    if field.kind == "text":
        text = " ".join(text.split())
    else:
        text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    if len(text) > field.max_length:
        raise ValueError(Text("%(count)s caractères au plus.", count=field.max_length))
    return text


def _day(text: str) -> date:
    """A day typed as `AAAA-MM-JJ` or `JJ/MM/AAAA`."""
    french = _FRENCH_DAY.fullmatch(text)
    try:
        if french:
            return date(int(french[3]), int(french[2]), int(french[1]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(N_("une date du calendrier (par exemple 14/07/2026)."))


def describe(form: Form | None, answers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The answers as the unit's staff read them: (label, value), in the form's order; an
    answer to a field the form no longer has is shown under its name, not lost."""
    shown: list[tuple[str, str]] = []
    fields = form.fields if form else ()
    for field in fields:
        value = answers.get(field.name)
        if not value:
            continue
        if field.kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            value = "/".join(reversed(value.split("-")))
        elif field.kind == "choice":
            value = dict(field.options).get(value, value)
        shown.append((field.label, value))
    known = {field.name for field in fields}
    shown.extend((name, value) for name, value in answers.items() if name not in known)
    return shown
