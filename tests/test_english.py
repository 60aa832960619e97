"""English for visitors (SPEC §13): the catalogue is complete, the language is chosen as
the spec orders it, every citizen page reads in English, and a booking's emails speak the
language it was made in, through a real SMTP server, whatever the runner's own locale."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import lazy_gettext
from icalendar import Calendar

from booking.extensions import db
from booking.keys import purpose_key
from booking.logs import JsonFormatter
from booking.models import EntryStatus, Unit, WaitlistEntry
from booking.services.messages.notifications import waitlist_url
from booking.services.messages.outbox import queue_reminders, send_outbox
from booking.tokens import hash_token, waitlist_token
from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "booking" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
EN = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def database_uri(tmp_path: Path) -> str:
    """SQLite only: what is checked here is words, not the database."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def english_catalogue() -> dict[str, str]:
    """msgid → msgstr of the English catalogue (plural forms: the singular)."""
    with CATALOGUE.open("rb") as source:
        catalogue = read_po(source)
    pairs = {}
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs[ids[0]] = strings[0]
    return pairs


# Pieces of French that, found in an English page, mean a text was left untranslated:
# each catalogue text whose English differs, cut at its values and tags, pieces of at
# least three words kept (shorter ones, "Référence", are names shared by both languages).
def french_pieces() -> list[str]:
    pieces = set()
    for french, english in english_catalogue().items():
        if french == english:
            continue
        for piece in re.split(r"%\(\w+\)[sd]|<[^>]+>|\{\{.*?\}\}", french):
            piece = " ".join(piece.split()).strip(" .,:;!?«»()–-")
            if len(piece.split()) >= 3 and piece not in english:
                pieces.add(piece)
    return sorted(pieces)


class Visible(HTMLParser):
    """What a reader (or a screen reader) meets: text and the attributes said aloud."""

    SAID = {"aria-label", "title", "alt", "placeholder", "value", "content"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        said = dict(attrs)
        if tag == "html":
            self.lang = said.get("lang") or ""
        elif tag in {"script", "style"} or said.get("lang") == "fr":
            self.hidden.append(tag)  # code, or French on purpose ("Français" in the selector)
        if not self.hidden:
            self.parts += [
                value
                for name, value in attrs
                if value and (name in self.SAID or name.startswith("data-"))
            ]

    def handle_endtag(self, tag: str) -> None:
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def read(html: str) -> tuple[str, str]:
    """The page's `<html lang>` and its visible text, spaces normalised."""
    parser = Visible()
    parser.feed(html)
    return parser.lang, " ".join(" ".join(parser.parts).split())


# Words of French sentences that no unit name, address or State service's name holds: a text
# never marked for translation shows through them.
SERVICE_NAME = "Rendez-vous en gendarmerie"
FRENCH_WORDS = re.compile(r"\b(vous|votre|vos|nous|avec|pour|dans|cette|sont|êtes|être)\b", re.I)


def assert_english(page: Any, pieces: list[str], where: str) -> None:
    lang, text = read(page.get_data(as_text=True))
    assert lang == "en", f"{where}: <html lang={lang!r}>"
    left = [piece for piece in pieces if piece in text]
    assert not left, f"{where}: French left untranslated: {left}"
    prose = text.replace(SERVICE_NAME, "")  # the service's name, a proper name
    unmarked = [prose[max(0, m.start() - 40) : m.end() + 40] for m in FRENCH_WORDS.finditer(prose)]
    assert not unmarked, f"{where}: French never marked for translation: {unmarked}"


def test_the_english_catalogue_is_complete_and_well_formed() -> None:
    """`msgfmt --statistics`: every message translated, none fuzzy, formats checked."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt (GNU gettext) is needed: `make test` installs it"
    done = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", done.stderr), done.stderr


def test_the_catalogue_holds_every_text_the_sources_mark(tmp_path: Path) -> None:
    """Extracting again finds nothing that the English catalogue does not translate: a text
    marked since the last `make messages` fails here rather than show in French."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            *(sys.executable, "-m", "babel.messages.frontend", "extract"),
            *("-F", "babel.cfg", "-k", "N_", "-k", "Text", "-k", "_l", "--no-location"),
            *("-o", str(template), "."),
        ],
        cwd=ROOT,
        check=True,
    )
    with template.open("rb") as source:
        marked = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    translated = english_catalogue()
    missing = sorted(text for text in marked if not translated.get(text))
    assert not missing, f"run `make messages` and translate: {missing[:10]}"


def test_lazy_texts_go_through_the_json_and_log_encoders(app: Flask) -> None:
    """Form labels are lazy (read when shown): the JSON answers and the JSON log lines write
    them in the request's language rather than fail."""
    with app.test_request_context("/?lang=en"):
        label = lazy_gettext("Nom et prénom")
        assert json.loads(app.json.dumps({"label": label})) == {"label": "Full name"}
        record = logging.LogRecord("booking", logging.INFO, __file__, 1, "%s", (label,), None)
        record.fields = {"label": label}
        line = json.loads(JsonFormatter().format(record))
        assert (line["message"], line["label"]) == ("Full name", "Full name")


# ---- Choosing the language -------------------------------------------------------------


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def lang_of(page: Any) -> str:
    return read(page.get_data(as_text=True))[0]


@pytest.mark.usefixtures("unit")
def test_the_language_comes_from_the_link_then_the_cookie_then_the_browser(
    client: FlaskClient,
) -> None:
    assert lang_of(client.get("/")) == "fr"  # nothing said: French
    assert lang_of(client.get("/", headers=EN)) == "en"
    assert lang_of(client.get("/", headers={"Accept-Language": "de-DE, en;q=0.5"})) == "en"
    assert lang_of(client.get("/", headers={"Accept-Language": "de, es"})) == "fr"
    shared = client.get("/unites/ORNEX?lang=en")
    assert lang_of(shared) == "en"
    assert "lang=en" in shared.headers["Set-Cookie"]
    assert {"Cookie", "Accept-Language"} <= set(shared.vary)
    # The cookie the selector left wins over the browser's wish…
    assert lang_of(client.get("/accessibilite", headers={"Accept-Language": "fr"})) == "en"
    # …and a link's `lang` over the cookie.
    assert lang_of(client.get("/accessibilite?lang=fr")) == "fr"
    assert lang_of(client.get("/accessibilite", headers=EN)) == "fr"
    assert lang_of(client.get("/?lang=xx")) == "fr"  # a language not spoken: ignored


def test_the_quick_exit_forgets_the_language_too(client: FlaskClient) -> None:
    """The language chosen says the site was visited: the quick exit forgets it."""
    client.get("/orientation/?lang=en")
    assert client.get_cookie("lang") is not None
    assert client.post("/quitter").status_code == 204
    assert client.get_cookie("lang") is None
    client.get("/orientation/?lang=en")
    assert client.get("/quitter").status_code == 303
    assert client.get_cookie("lang") is None


@pytest.mark.usefixtures("unit")
def test_the_selector_links_this_page_in_each_language(client: FlaskClient) -> None:
    html = client.get("/unites/ORNEX?lang=en").get_data(as_text=True)
    assert 'hreflang="fr"' in html
    assert 'hreflang="en"' in html
    current = re.search(r'<a[^>]*aria-current="true"[^>]*>', html)
    assert current
    assert 'hreflang="en"' in current.group(0)
    assert "/unites/ORNEX?lang=fr" in html


@pytest.mark.usefixtures("unit")
def test_the_staff_workspace_stays_french(client: FlaskClient) -> None:
    page = client.get("/staff/login?lang=en", headers=EN)
    assert lang_of(page) == "fr"
    assert "Set-Cookie" not in page.headers or "lang=" not in page.headers["Set-Cookie"]


@pytest.mark.usefixtures("unit")
def test_the_api_answers_its_message_in_the_request_language(client: FlaskClient) -> None:
    french = client.get("/api/v1/units/NOWHERE/slots?motif=otv")
    english = client.get("/api/v1/units/NOWHERE/slots?motif=otv", headers=EN)
    assert french.json["error"] == english.json["error"] == "unit_not_found"
    assert french.json["message"] != english.json["message"]
    assert "unit" in english.json["message"].lower()
    assert "Accept-Language" in english.vary
    invalid = client.get("/api/v1/units/ORNEX/slots?motif=otv&from=demain&lang=en")
    assert invalid.status_code == 422
    assert all(not re.search(r"[éèàù]|attendu", text) for text in invalid.json["fields"].values())


# ---- Every citizen page, in English ----------------------------------------------------


@pytest.fixture
def english(client: FlaskClient) -> FlaskClient:
    """A visitor who chose English with the selector (the cookie it leaves)."""
    client.get("/?lang=en")
    return client


def test_every_citizen_page_reads_in_english(
    app: Flask, english: FlaskClient, unit: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = french_pieces()
    assert len(pieces) > 200  # the catalogue is there, and the check has teeth
    pages = [
        "/",
        "/?q=45000+Orléans",
        "/?q=zzzzqqq",
        "/unites/ORNEX",
        "/unites/ORNEX/creneaux?motif=otv",
        "/unites/ORNEX/creneaux?motif=signalement&mode=phone",
        "/unites/ORNEX/rendez-vous?motif=otv&debut=2026-11-24T10:00:00%2B01:00",
        "/unites/ORNEX/liste-attente?motif=otv",
        "/liste-attente/envoyee",
        "/accessibilite",
        "/donnees-personnelles",
        "/mentions-legales",
        "/opendata/",
        "/orientation/",
    ]
    for path in pages:
        page = english.get(path)
        assert page.status_code == 200, path
        assert_english(page, pieces, path)
    # The API's page, for developers: its frame in English, the operations' descriptions
    # in French (as the OpenAPI document), which it says.
    api = english.get("/api")
    assert read(api.get_data(as_text=True))[0] == "en"
    assert "written in French" in api.get_data(as_text=True)
    # The orienteur, every question and every outcome.
    seen, waiting = set(), ["/orientation/"]
    while waiting:
        path = waiting.pop()
        if path in seen:
            continue
        seen.add(path)
        page = english.get(path)
        assert page.status_code == 200, path
        assert_english(page, pieces, path)
        html = page.get_data(as_text=True)
        links = [unescape(link) for link in re.findall(r'href="(/orientation/[^"#]+)"', html)]
        waiting += [link for link in links if "lang=" not in link]  # not the selector's
    assert len(seen) > 20


def test_errors_read_in_english(app: Flask, english: FlaskClient, unit: Unit) -> None:
    pieces = french_pieces()
    missing = english.get("/unites/NOWHERE")
    assert missing.status_code == 404
    assert_english(missing, pieces, "404")
    assert (
        "no active unit" in missing.get_data(as_text=True).lower()
        or "not" in read(missing.get_data(as_text=True))[1]
    )
    taken = booked(english, "Camille Martin", "camille@example.org")
    assert taken.status_code in {302, 303}
    again = booked(english, "Alex Doe", "alex@example.org")
    assert again.status_code == 409
    assert_english(again, pieces, "409")


def test_a_booking_and_a_waiting_list_entry_read_in_english(
    app: Flask, english: FlaskClient, unit: Unit
) -> None:
    pieces = french_pieces()
    made = booked(english, "Jane Smith", "jane@example.org")
    confirmed = english.get(made.headers["Location"])
    assert_english(confirmed, pieces, "confirmed")
    html = confirmed.get_data(as_text=True)
    link = re.search(r'href="(/rendez-vous/\w+\?token=[^"&]+)"', html)
    assert link
    manage = english.get(unescape(link.group(1)))
    assert_english(manage, pieces, "manage")
    reference, token = re.match(r"/rendez-vous/(\w+)\?token=(.+)", unescape(link.group(1))).groups()
    csrf = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', manage.get_data(as_text=True)
    )
    assert csrf
    asked = english.post(
        f"/rendez-vous/{reference}/annuler", data={"csrf_token": csrf.group(1), "token": token}
    )
    assert asked.status_code == 200
    assert_english(asked, pieces, "cancel, first step")
    with app.app_context():
        entry = WaitlistEntry(
            reference="WAITEN2345",
            reason_code="otv",
            name="Jane Smith",
            email="jane@example.org",
            email_key="jane@example.org",
            weekdays="01234",
            parts="ampm",
            until=date(2026, 12, 4),
            mode="on_site",
            language="en",
            status=EntryStatus.WAITING,
            token_hash=hash_token(waitlist_token("WAITEN2345", purpose_key("waitlist"))),
        )
        entry.units = [db.session.get(Unit, unit.id)]
        db.session.add(entry)
        db.session.commit()
        link = waitlist_url("WAITEN2345")
    # Opened from its email in a browser that asks French: the entry's language.
    page = app.test_client().get(
        link.replace("http://rdv.test", ""), headers={"Accept-Language": "fr"}
    )
    assert_english(page, pieces, "waiting-list entry")


def booked(client: FlaskClient, name: str, email: str) -> Any:
    """The booking form sent for Tuesday 10:00 (the CSRF token taken from the page)."""
    start = "2026-11-24T10:00:00+01:00"
    path = "/unites/ORNEX/rendez-vous?motif=otv"
    html = client.get(f"{path}&debut={start.replace('+', '%2B')}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token
    return client.post(
        path, data={"csrf_token": token.group(1), "debut": start, "name": name, "email": email}
    )


class TestLimitedAndUnavailable:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"RATE_LIMIT_SEARCH": "1 per minute"}

    def test_429_and_503_read_in_english(
        self, app: Flask, english: FlaskClient, unit: Unit, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pieces = french_pieces()
        english.get("/?q=ornex")
        limited = english.get("/?q=ornex")
        assert limited.status_code == 429
        assert_english(limited, pieces, "429")
        from sqlalchemy.exc import OperationalError

        from booking.web import public

        def unreachable(*_args: Any, **_kwargs: Any) -> None:
            raise OperationalError("SELECT", {}, Exception("gone"))

        monkeypatch.setattr(public, "get_unit", unreachable)
        gone = english.get("/unites/ORNEX")
        assert gone.status_code == 503
        assert_english(gone, pieces, "503")


# ---- Emails in the booking's language ----------------------------------------------------


class TestEmails:
    @pytest.fixture
    def app_overrides(self, smtp: SmtpServer) -> dict[str, Any]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}

    @staticmethod
    def sent(app: Flask, smtp: SmtpServer, now: datetime = MONDAY_7AM) -> Iterator[EmailMessage]:
        count = len(smtp.messages)
        with app.app_context():
            send_outbox(now)
        return iter(smtp.messages[count:])

    @staticmethod
    def texts(message: EmailMessage) -> tuple[str, str, Calendar | None]:
        plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        ics = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        calendar = Calendar.from_ical(ics[0].get_content()) if ics else None
        return plain.get_content() + read(html.get_content())[1], html.get_content(), calendar

    def test_a_booking_made_in_english_is_confirmed_and_reminded_in_english(
        self, app: Flask, client: FlaskClient, unit: Unit, smtp: SmtpServer
    ) -> None:
        pieces = french_pieces()
        body = {
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": "2026-11-24T10:00:00+01:00",
            "name": "Jane Smith",
            "email": "jane@example.org",
        }
        made = client.post("/api/v1/bookings", json=body, headers=EN)
        assert made.status_code == 201
        [confirmation] = self.sent(app, smtp)
        assert confirmation["Content-Language"] == "en"
        assert confirmation["Subject"].startswith("Appointment confirmed")
        assert "Tuesday 24 November 2026" in confirmation["Subject"]
        text, html, calendar = self.texts(confirmation)
        assert '<html lang="en"' in html
        left = [piece for piece in pieces if piece in text]
        assert not left, left
        assert calendar is not None
        [event] = calendar.walk("VEVENT")
        assert str(event["summary"]).startswith("Appointment")
        assert "Reference: " in str(event["description"])
        assert not [piece for piece in pieces if piece in str(event["description"])]
        # The runner's own language is French: the reminder still speaks English.
        with app.app_context():
            assert queue_reminders(datetime(2026, 11, 23, 9, 30, tzinfo=UTC)) == 1
        [reminder] = self.sent(app, smtp, datetime(2026, 11, 23, 9, 31, tzinfo=UTC))
        assert reminder["Subject"].startswith("Reminder")
        text, _, _ = self.texts(reminder)
        assert not [piece for piece in pieces if piece in text]
        # Its manage page opens in English, even for a browser that asks French.
        manage = client.get(made.json["cancel_url"], headers={"Accept-Language": "fr"})
        assert lang_of(manage) == "en"

    def test_a_booking_made_in_french_stays_french(
        self, app: Flask, client: FlaskClient, unit: Unit, smtp: SmtpServer
    ) -> None:
        body = {
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": "2026-11-24T10:00:00+01:00",
            "name": "Camille Martin",
            "email": "camille@example.org",
        }
        made = client.post("/api/v1/bookings", json=body, headers={"Accept-Language": "fr"})
        [confirmation] = self.sent(app, smtp)
        assert confirmation["Content-Language"] == "fr"
        assert confirmation["Subject"].startswith("Rendez-vous confirmé le mardi 24 novembre")
        _, html, calendar = self.texts(confirmation)
        assert '<html lang="fr"' in html
        assert calendar is not None
        [event] = calendar.walk("VEVENT")
        assert "Référence : " in str(event["description"])
        manage = client.get(made.json["cancel_url"], headers=EN)
        assert lang_of(manage) == "fr"
