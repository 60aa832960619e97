"""The orienteur: the whole tree walked page by page, its rules, the counts, the quick exit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.models import Unit
from booking.services.orientation import DEFAULT_TREE, TreeError, read_tree
from booking.services.staff.accounts import create_staff
from tests.support.staff import PASSWORD, sign_in

MOTIFS = Path(__file__).resolve().parents[1] / "data" / "motifs.json"
CHOICE = re.compile(
    r'<a class="fr-btn fr-btn--secondary orientation-choice"(?: data-replace)? href="([^"]+)">'
)
OFFICIAL = re.compile(r'<a class="fr-btn orientation-link" href="([^"]+)"')
CALL = re.compile(r'href="((?:tel|sms):[0-9]+)"')
SEARCH = re.compile(r'<a class="fr-btn" href="(/\?motif=[a-z_]+#q)">Choisir ma brigade</a>')


def test_walking_every_answer_reaches_every_outcome_within_four_steps(client: FlaskClient) -> None:
    """From the first page, follow every answer as a person would (links only, no
    JavaScript): no page fails, no page is a dead end, no outcome is more than four answers
    away, every reason of motifs.json is reachable, every official link is https."""
    outcomes: dict[str, int] = {}
    reasons: set[str] = set()
    links: set[str] = set()
    calls: set[str] = set()
    pending = [("/orientation/", 0)]
    while pending:
        address, answers = pending.pop()
        response = client.get(address)
        assert response.status_code == 200, address
        page = response.get_data(as_text=True)
        if "/issue/" in address:
            name = address.split("/issue/")[1].split("?")[0]
            outcomes[name] = max(outcomes.get(name, 0), answers)
            found = OFFICIAL.findall(page) + CALL.findall(page) + SEARCH.findall(page)
            assert found, f"{address}: nothing to do there"
            links.update(unescape(link) for link in OFFICIAL.findall(page))
            calls.update(CALL.findall(page))
            reasons.update(re.findall(r"/\?motif=([a-z_]+)#q", page))
            continue
        choices = [unescape(link) for link in CHOICE.findall(page)]
        assert len(choices) >= 2, f"{address}: a question with fewer than two answers"
        pending.extend((choice, answers + 1) for choice in choices)
    tree = json.loads(DEFAULT_TREE.read_text(encoding="utf-8"))
    assert set(outcomes) == set(tree["outcomes"])
    assert max(outcomes.values()) <= 4
    codes = {entry["code"] for entry in json.loads(MOTIFS.read_text(encoding="utf-8"))}
    assert reasons == codes
    assert links
    assert all(link.startswith("https://") for link in links)
    assert {"tel:17", "tel:112", "sms:114"} <= calls


def _tree(**changes: Any) -> dict[str, Any]:
    """A small valid tree, with some parts replaced."""
    tree: dict[str, Any] = {
        "start": "debut",
        "questions": {
            "debut": {
                "title": "Que voulez-vous ?",
                "choices": [
                    {"label": "Un rendez-vous", "outcome": "rdv"},
                    {"label": "Autre chose", "next": "suite"},
                ],
            },
            "suite": {
                "title": "Précisez",
                "choices": [
                    {"label": "Urgence", "outcome": "urgence"},
                    {"label": "En ligne", "outcome": "en_ligne"},
                ],
            },
        },
        "outcomes": {
            "rdv": {"kind": "appointment", "title": "Prenez rendez-vous", "reason": "otv"},
            "urgence": {
                "kind": "emergency",
                "title": "Appelez le 17",
                "contacts": [{"label": "Police", "number": "17"}],
            },
            "en_ligne": {
                "kind": "online",
                "title": "Faites-le en ligne",
                "links": [{"label": "Site", "url": "https://www.service-public.fr/"}],
            },
        },
    }
    tree.update(changes)
    return tree


def _chain(length: int) -> dict[str, Any]:
    """A tree whose only path to an outcome takes `length` answers."""
    questions = {}
    for step in range(length):
        following = {"next": f"q{step + 1}"} if step < length - 1 else {"outcome": "urgence"}
        questions[f"q{step}"] = {
            "title": f"Question {step}",
            "choices": [{"label": "Oui", **following}, {"label": "Non", "outcome": "urgence"}],
        }
    outcomes = {"urgence": _tree()["outcomes"]["urgence"]}
    return {"start": "q0", "questions": questions, "outcomes": outcomes}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        # four answers: the most allowed
        (_chain(4), None),
        # five answers to an outcome
        (_chain(5), "à 5 réponses ; 4 au plus"),
        # an answer leading to a question that does not exist
        (
            _tree(
                start="debut",
                questions={
                    **_tree()["questions"],
                    "debut": {
                        "title": "Que voulez-vous ?",
                        "choices": [
                            {"label": "Oui", "next": "absente"},
                            {"label": "Non", "outcome": "rdv"},
                        ],
                    },
                },
            ),
            "la question « absente » n'existe pas",
        ),
        # a question that leads back to itself
        (
            _tree(
                questions={
                    **_tree()["questions"],
                    "suite": {
                        "title": "Précisez",
                        "choices": [
                            {"label": "Oui", "next": "debut"},
                            {"label": "Non", "outcome": "urgence"},
                        ],
                    },
                }
            ),
            "une question n'a qu'une question parente",
        ),
        # an outcome no answer leads to
        (
            _tree(outcomes={**_tree()["outcomes"], "oublie": _tree()["outcomes"]["urgence"]}),
            "jamais atteint : oublie",
        ),
        # a link that is not https
        (
            _tree(
                outcomes={
                    **_tree()["outcomes"],
                    "en_ligne": {
                        "kind": "online",
                        "title": "En ligne",
                        "links": [{"label": "Site", "url": "http://www.service-public.fr/"}],
                    },
                }
            ),
            "String should match pattern",
        ),
        # an emergency without a number
        (
            _tree(
                outcomes={
                    **_tree()["outcomes"],
                    "urgence": {"kind": "emergency", "title": "Appelez"},
                }
            ),
            "une urgence donne au moins un numéro",
        ),
        # an appointment for a reason that does not exist
        (
            _tree(
                outcomes={
                    **_tree()["outcomes"],
                    "rdv": {
                        "kind": "appointment",
                        "title": "Rendez-vous",
                        "reason": "inconnu",
                    },
                }
            ),
            "le motif « inconnu » n'existe pas",
        ),
        # an answer that leads both to a question and to an outcome
        (
            _tree(
                questions={
                    **_tree()["questions"],
                    "suite": {
                        "title": "Précisez",
                        "choices": [
                            {"label": "Oui", "next": "debut", "outcome": "urgence"},
                            {"label": "Non", "outcome": "en_ligne"},
                        ],
                    },
                }
            ),
            "soit à une question",
        ),
    ],
)
def test_the_tree_is_checked_when_loaded(tree: dict[str, Any], message: str | None) -> None:
    text = json.dumps(tree)
    if message is None:
        read_tree(text, {"otv"})
        return
    with pytest.raises(TreeError, match=re.escape(message) if "«" in message else message):
        read_tree(text, {"otv"})


def test_the_shipped_tree_passes_its_own_rules() -> None:
    codes = {entry["code"] for entry in json.loads(MOTIFS.read_text(encoding="utf-8"))}
    read_tree(DEFAULT_TREE.read_text(encoding="utf-8"), codes)


def test_a_wrong_tree_stops_the_start(app: Flask, tmp_path: Path) -> None:
    from booking.config import ConfigurationError
    from booking.services import orientation

    wrong = tmp_path / "orientation.json"
    wrong.write_text(json.dumps(_chain(5)), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="orientation.json : une issue est à 5 réponses"):
        orientation.init_app(app, wrong)


def test_outcomes_are_counted_for_the_administrator_and_the_metrics(
    app: Flask, client: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    for _ in range(3):
        assert client.get("/orientation/issue/thesee?depuis=numerique").status_code == 200
    client.get("/orientation/issue/urgence")
    client.get("/orientation/issue/inexistante")  # 404, not counted
    create_unit(public_id="ORNEX")
    with app.app_context():
        create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        create_staff("agent@gendarmerie.interieur.gouv.fr", PASSWORD, ["ORNEX"])
    admin = app.test_client()
    sign_in(admin, "admin@gendarmerie.interieur.gouv.fr")
    page = admin.get("/staff/orientation").get_data(as_text=True)
    row = re.search(
        r"<span class=\"fr-text--xs\">thesee</span></th>\s*<td>[^<]+</td>\s*"
        r"<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>",
        page,
    )
    assert row
    assert row.groups() == ("3", "3", "3")
    assert re.search(r"urgence</span></th>\s*<td>Urgence</td>\s*<td>1</td>", page)
    agent = app.test_client()
    sign_in(agent, "agent@gendarmerie.interieur.gouv.fr")
    assert agent.get("/staff/orientation").status_code == 404
    metrics = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    if metrics.status_code == 200:
        assert 'booking_orientation_outcomes_total{outcome="thesee"}' in metrics.get_data(
            as_text=True
        )


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("/orientation/", False),
        ("/orientation/accompagnement", True),  # a sensitive branch
        ("/orientation/issue/ecoute_anonyme?depuis=accompagnement", True),
        ("/orientation/issue/thesee", False),
        ("/?motif=radicalisation", True),  # a discreet reason chosen in the search
        ("/?motif=otv", False),
    ],
)
def test_the_quick_exit_is_on_sensitive_pages_only(
    client: FlaskClient, address: str, shown: bool
) -> None:
    page = client.get(address).get_data(as_text=True)
    assert ("data-quick-exit" in page) is shown
    if shown:
        assert 'href="/quitter" rel="nofollow noreferrer" data-quick-exit' in page
        assert "/static/js/quick-exit" in page


def test_discreet_reasons_pages_carry_the_quick_exit(
    client: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="ORNEX")
    assert "data-quick-exit" in client.get("/unites/ORNEX?motif=radicalisation").get_data(
        as_text=True
    )
    assert "data-quick-exit" in client.get("/unites/ORNEX/creneaux?motif=radicalisation").get_data(
        as_text=True
    )
    assert "data-quick-exit" not in client.get("/unites/ORNEX/creneaux?motif=otv").get_data(
        as_text=True
    )


def test_back_links_lead_to_the_question_before(client: FlaskClient) -> None:
    page = client.get("/orientation/accompagnement").get_data(as_text=True)
    assert '<a class="fr-link" href="/orientation/faits">Question précédente</a>' in page
    outcome = client.get("/orientation/issue/urgence?depuis=accompagnement").get_data(as_text=True)
    back = '<a class="fr-link" href="/orientation/accompagnement">Question précédente</a>'
    assert back in outcome
    # a made-up origin is not echoed back
    forged = client.get("/orientation/issue/urgence?depuis=surveillance").get_data(as_text=True)
    assert "Question précédente" not in forged
    assert client.get("/orientation/absente").status_code == 404


def test_a_loop_of_questions_off_the_tree_is_refused() -> None:
    tree = _tree()
    tree["questions"]["boucle_a"] = {
        "title": "Question A",
        "choices": [
            {"label": "Vers B", "next": "boucle_b"},
            {"label": "Fin", "outcome": "urgence"},
        ],
    }
    tree["questions"]["boucle_b"] = {
        "title": "Question B",
        "choices": [
            {"label": "Vers A", "next": "boucle_a"},
            {"label": "Fin", "outcome": "urgence"},
        ],
    }
    with pytest.raises(TreeError, match="jamais atteint : boucle_a, boucle_b"):
        read_tree(json.dumps(tree), {"otv"})


def test_the_start_checks_the_reasons_against_the_shipped_file(app: Flask, tmp_path: Path) -> None:
    from booking.config import ConfigurationError
    from booking.services import orientation

    motifs = tmp_path / "motifs.json"
    motifs.write_text(json.dumps([{"code": "otv"}]), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="le motif « faits_auteur_connu » n'existe pas"):
        orientation.init_app(app, DEFAULT_TREE, motifs)


def test_after_a_sensitive_page_the_quick_exit_stays_for_the_visit(
    client: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="ORNEX")
    slots = "/unites/ORNEX/creneaux?motif=faits_auteur_connu"  # not a discreet reason
    assert "data-quick-exit" not in client.get(slots).get_data(as_text=True)
    client.get("/orientation/issue/rdv_accompagnement?depuis=accompagnement")
    assert "data-quick-exit" in client.get(slots).get_data(as_text=True)
    assert "data-quick-exit" in client.get("/").get_data(as_text=True)
