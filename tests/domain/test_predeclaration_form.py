"""A reason's pre-declaration: its definition read from the data, the answers checked."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from booking.domain.predeclaration import (
    DefinitionError,
    Form,
    check_answers,
    describe,
    read_form,
)

TODAY = date(2026, 11, 24)
HOLIDAY = read_form(
    {
        "intro": "Pour les patrouilles.",
        "fields": [
            {"name": "debut", "label": "Premier jour", "type": "date", "when": "future"},
            {
                "name": "fin",
                "label": "Dernier jour",
                "type": "date",
                "when": "future",
                "not_before": "debut",
            },
            {"name": "adresse", "label": "Adresse", "type": "text", "max_length": 20},
        ],
    }
)
FACTS = read_form(
    {
        "fields": [
            {"name": "date_faits", "label": "Date des faits", "type": "date", "when": "past"},
            {"name": "resume", "label": "Résumé", "type": "textarea", "max_length": 1000},
            {
                "name": "arme",
                "label": "Arme",
                "type": "choice",
                "options": [{"value": "poing", "label": "Arme de poing"}],
            },
        ]
    }
)


def _form(form: Form | None) -> Form:
    assert form is not None
    return form


@pytest.mark.parametrize(
    ("values", "kept", "errors"),
    [
        # nothing typed: nothing kept, nothing wrong
        ({}, {}, {}),
        ({"debut": "  ", "adresse": ""}, {}, {}),
        # a date from the date picker, and one typed the French way
        (
            {"debut": "2026-12-20", "fin": "02/01/2027"},
            {"debut": "2026-12-20", "fin": "2027-01-02"},
            {},
        ),
        # today is neither past nor future: allowed both ways
        ({"debut": "2026-11-24"}, {"debut": "2026-11-24"}, {}),
        # an absence that started yesterday
        ({"debut": "2026-11-23"}, {}, {"pre_declaration.debut": "Premier jour : une date à venir"}),
        # the end before the start
        (
            {"debut": "2026-12-20", "fin": "2026-12-10"},
            {},
            {"pre_declaration.fin": "Dernier jour : pas avant « Premier jour »."},
        ),
        # not a day of the calendar
        ({"debut": "2026-02-30"}, {}, {"pre_declaration.debut": "Premier jour : une date du"}),
        ({"debut": "demain"}, {}, {"pre_declaration.debut": "Premier jour : une date du"}),
        # one line of text: spaces folded; too long refused
        ({"adresse": " 3  rue\tdu Lac "}, {"adresse": "3 rue du Lac"}, {}),
        ({"adresse": "x" * 21}, {}, {"pre_declaration.adresse": "Adresse : 20 caractères"}),
        # a name the form does not have: refused, not dropped silently
        ({"ville": "Gex"}, {}, {"pre_declaration.ville": "Ce champ n'existe pas"}),
    ],
)
def test_holiday_watch_answers(
    values: dict[str, str], kept: dict[str, str], errors: dict[str, str]
) -> None:
    answers, found = check_answers(_form(HOLIDAY), values, TODAY)
    if not errors:
        assert found == {}
        assert answers == kept
    else:
        assert set(found) == set(errors)
        for key, start in errors.items():
            assert found[key].startswith(start), found[key]


@pytest.mark.parametrize(
    ("values", "kept", "error"),
    [
        # facts of today or before
        ({"date_faits": "2026-11-24"}, {"date_faits": "2026-11-24"}, None),
        ({"date_faits": "2026-11-25"}, None, "Date des faits : une date passée"),
        # a summary keeps its lines; 1,000 characters at most, counted as characters
        ({"resume": "Ligne 1  \r\nLigne 2"}, {"resume": "Ligne 1\nLigne 2"}, None),
        ({"resume": "é" * 1000}, {"resume": "é" * 1000}, None),
        ({"resume": "é" * 1001}, None, "Résumé : 1000 caractères au plus."),
        # a choice by its code only
        ({"arme": "poing"}, {"arme": "poing"}, None),
        ({"arme": "Arme de poing"}, None, "Arme : choisissez l'une des réponses"),
    ],
)
def test_facts_answers(
    values: dict[str, str], kept: dict[str, str] | None, error: str | None
) -> None:
    answers, errors = check_answers(_form(FACTS), values, TODAY)
    if error is None:
        assert (answers, errors) == (kept, {})
    else:
        assert len(errors) == 1
        assert next(iter(errors.values())).startswith(error)


def test_staff_read_answers_in_the_forms_order_with_labels() -> None:
    answers = {"resume": "Il a pris mon vélo.", "arme": "poing", "date_faits": "2026-11-02"}
    assert describe(_form(FACTS), answers) == [
        ("Date des faits", "02/11/2026"),
        ("Résumé", "Il a pris mon vélo."),
        ("Arme", "Arme de poing"),
    ]
    # a field the form no longer has is still shown, under its name
    assert describe(_form(FACTS), {"ancien": "valeur"}) == [("ancien", "valeur")]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"fields": []}, "1 à 6 champs"),
        ({"fields": [{"name": "Nom", "label": "x", "type": "text"}]}, "un nom en minuscules"),
        ({"fields": [{"name": "a", "label": "x", "type": "number"}]}, "type parmi"),
        ({"fields": [{"name": "a", "label": "", "type": "text"}]}, "un libellé"),
        (
            {"fields": [{"name": "a", "label": "x", "type": "text", "max_length": 5000}]},
            "max_length",
        ),
        ({"fields": [{"name": "a", "label": "x", "type": "choice"}]}, "des options"),
        ({"fields": [{"name": "a", "label": "x", "type": "text", "when": "past"}]}, "when vaut"),
        (
            {"fields": [{"name": "a", "label": "x", "type": "date", "not_before": "b"}]},
            "not_before doit nommer",
        ),
        (
            {"fields": [{"name": "a", "label": "x", "type": "text"}] * 2},
            "deux champs portent le même nom",
        ),
        ("texte", "un objet avec une liste"),
    ],
)
def test_wrong_definitions_are_refused_with_their_reason(definition: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        read_form(definition)


def test_a_reason_without_pre_declaration_has_no_form() -> None:
    assert read_form(None) is None
