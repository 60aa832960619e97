"""The waiting list with a real SMTP server: join and confirm from the email, a freed slot
offered to the first person waiting, confirmed or passed on, leaving, and one offer per
seat however many runners try at once."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.keys import derive
from booking.models import (
    Booking,
    BookingStatus,
    EntryStatus,
    OfferStatus,
    OutboxMessage,
    Unit,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.bookings.change import cancel_by_citizen
from booking.services.messages.outbox import release_expired_holds, send_outbox
from booking.services.staff.accounts import create_staff
from booking.services.waitlist.offers import offer_freed_slots
from booking.tokens import hash_token, link_token, waitlist_token
from tests.support.keys import SECRET_KEY
from tests.support.smtp import SmtpServer
from tests.support.staff import PASSWORD, sign_in

MONDAY_9AM = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # daytime: offers hold 30 minutes
WEDNESDAY_10 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Paris
ONE_SLOT = {2: [(600, 630)]}  # Wednesday 10:00–10:30: one 30-minute slot a week


@pytest.fixture
def app_overrides(smtp: SmtpServer) -> dict[str, Any]:
    """Emails to the test's SMTP server."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "BASE_URL": "http://rdv.test"}


@pytest.fixture
def clock_at(frozen_now: Callable[[datetime], None]) -> Callable[[datetime], None]:
    """Set the clock (Monday 09:00 in Paris to begin with)."""
    frozen_now(MONDAY_9AM)
    return frozen_now


@pytest.fixture
def full_unit(
    clock_at: Callable[[datetime], None],
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
) -> tuple[Unit, Booking]:
    """A unit whose only slot of the week is taken."""
    unit = create_unit(public_id="ORNEX", desks=1, hours=ONE_SLOT)
    uid = "first@rdv.test"
    token_hash = hash_token(link_token(uid, derive(SECRET_KEY, "links")))
    taken = create_booking(
        unit,
        WEDNESDAY_10,
        reason_code="otv",
        email="first@example.org",
        ics_uid=uid,
        token_hash=token_hash,
    )
    return unit, taken


def text_of(message: EmailMessage) -> str:
    """The plain-text part of an email."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def mail_to(smtp: SmtpServer, address: str, subject: str) -> str:
    """The text of the last email to an address whose subject starts so."""
    found = [
        m
        for m in smtp.messages
        if address in str(m["To"]) and str(m["Subject"]).startswith(subject)
    ]
    assert found, (
        f"no email « {subject} » to {address}: {[str(m['Subject']) for m in smtp.messages]}"
    )
    return text_of(found[-1])


def send(app: Flask, now: datetime = MONDAY_9AM) -> None:
    """The runner's outbox job, once."""
    with app.app_context():
        send_outbox(now)


def offer(app: Flask, now: datetime = MONDAY_9AM) -> int:
    """The runner's waiting-list job, once."""
    with app.app_context():
        return offer_freed_slots(now)


def csrf_of(page: str) -> str:
    """A page's CSRF token."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def join(client: FlaskClient, name: str, address: str, **fields: Any) -> Any:
    """Fill the waiting-list form of the unit for the holiday watch."""
    page = client.get("/unites/ORNEX/liste-attente?motif=otv").get_data(as_text=True)
    data: dict[str, Any] = {
        "csrf_token": csrf_of(page),
        "name": name,
        "email": address,
        "unites": ["ORNEX"],
        "jours": ["0", "1", "2", "3", "4"],
        "moments": ["am", "pm"],
        "jusqu_au": "2026-11-26",  # this week only: the Wednesdays after it are free
        **fields,
    }
    return client.post("/unites/ORNEX/liste-attente?motif=otv", data=data)


def follow(client: FlaskClient, text: str, pattern: str) -> tuple[str, str, str]:
    """The link of an email that matches: its path, the page, the page's token."""
    match = re.search(r"http://rdv\.test(" + pattern + r"\S*)", text)
    assert match, text
    path = match.group(1)
    page = client.get(path)
    assert page.status_code == 200
    return path, page.get_data(as_text=True), path.split("token=")[1].split("&")[0]


def join_and_confirm(
    app: Flask, client: FlaskClient, smtp: SmtpServer, name: str, address: str
) -> str:
    """Join, confirm from the email; the entry's reference."""
    assert join(client, name, address).status_code == 303
    send(app)
    path, page, token = follow(client, mail_to(smtp, address, "Confirmez"), "/liste-attente/")
    reference = path.split("/liste-attente/")[1].split("?")[0]
    response = client.post(
        f"/liste-attente/{reference}/confirmer", data={"token": token, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    return reference


def entries(app: Flask) -> dict[str, str]:
    """Each entry's status, by email."""
    with app.app_context():
        return {e.email: e.status for e in db.session.scalars(select(WaitlistEntry))}


def holds(app: Flask) -> list[tuple[str, str]]:
    """Every booking of the slot (email, status), in order."""
    with app.app_context():
        rows = db.session.execute(select(Booking.email, Booking.status).order_by(Booking.id))
        return [(str(e), str(s)) for e, s in rows]


def cancel_first(app: Flask, taken: Booking) -> None:
    """The first booker cancels from the link of their email."""
    with app.app_context():
        token = link_token(taken.ics_uid, derive(app.config["SECRET_KEY"], "links"))
        cancel_by_citizen(taken.reference, token, MONDAY_9AM)


def test_a_cancellation_offers_the_slot_to_the_first_person_who_confirms_and_is_booked(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    _, taken = full_unit
    join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    join_and_confirm(app, client, smtp, "Bruno Second", "bruno@example.org")
    assert offer(app) == 0  # nothing free yet
    cancel_first(app, taken)
    assert offer(app) == 1
    assert offer(app) == 0  # one seat, one offer: Bruno is not offered it too
    send(app)
    text = mail_to(smtp, "alice@example.org", "Un créneau s'est libéré")
    assert "mercredi 25 novembre 2026 à 10 h 00" in text
    assert "quitter la liste d'attente" in text
    assert not [
        m for m in smtp.messages if "bruno" in str(m["To"]) and "libéré" in str(m["Subject"])
    ]
    path, page, token = follow(client, text, "/rendez-vous/")
    reference = path.split("/rendez-vous/")[1].split("?")[0]
    secret = path.split("confirmation=")[1]  # an offer's link confirms it, as any hold's
    confirmed = client.post(
        f"/rendez-vous/{reference}/confirmer",
        data={"token": token, "confirmation": secret, "csrf_token": csrf_of(page)},
    )
    assert confirmed.status_code == 303
    offer(app)  # the runner notes the answer
    assert holds(app)[-1] == ("alice@example.org", "confirmed")
    assert entries(app) == {
        "alice@example.org": EntryStatus.BOOKED,
        "bruno@example.org": EntryStatus.WAITING,
    }
    send(app)
    assert mail_to(smtp, "alice@example.org", "Rendez-vous confirmé")


def test_an_offer_not_confirmed_in_time_passes_to_the_second_person(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    full_unit: tuple[Unit, Booking],
    clock_at: Callable[[datetime], None],
) -> None:
    _, taken = full_unit
    join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    join_and_confirm(app, client, smtp, "Bruno Second", "bruno@example.org")
    cancel_first(app, taken)
    assert offer(app) == 1
    later = MONDAY_9AM + timedelta(minutes=31)
    clock_at(later)
    with app.app_context():
        assert release_expired_holds(later) == 1
    assert offer(app, later) == 1
    send(app, later)
    assert "10 h 00" in mail_to(smtp, "bruno@example.org", "Un créneau s'est libéré")
    with app.app_context():
        outcomes = {
            e.email: o.status
            for o, e in db.session.execute(
                select(WaitlistOffer, WaitlistEntry).join(
                    WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id
                )
            )
        }
    assert outcomes == {
        "alice@example.org": OfferStatus.EXPIRED,
        "bruno@example.org": OfferStatus.OFFERED,
    }
    # Alice still waits, for other slots: the one she let go is not offered to her again
    assert entries(app)["alice@example.org"] == EntryStatus.WAITING


def test_leaving_the_list_stops_the_offers_and_frees_a_held_slot(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    _, taken = full_unit
    alice = join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    join_and_confirm(app, client, smtp, "Bruno Second", "bruno@example.org")
    cancel_first(app, taken)
    assert offer(app) == 1  # held for Alice
    send(app)
    _, page, token = follow(
        client, mail_to(smtp, "alice@example.org", "Un créneau"), "/liste-attente/"
    )
    assert "Quitter la liste d'attente" in page
    left = client.post(
        f"/liste-attente/{alice}/quitter", data={"token": token, "csrf_token": csrf_of(page)}
    )
    assert left.status_code == 303
    assert entries(app)["alice@example.org"] == EntryStatus.LEFT
    assert holds(app)[-1] == ("alice@example.org", "cancelled_by_citizen")  # the hold is freed
    assert offer(app) == 1  # and goes to Bruno
    assert holds(app)[-1] == ("bruno@example.org", "pending")
    assert offer(app) == 0  # Alice is offered nothing more


def test_a_wrong_link_shows_nothing_of_an_entry(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    reference = join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    assert client.get(f"/liste-attente/{reference}?token=forged").status_code == 403
    assert client.get(f"/liste-attente/{reference}").status_code == 403
    assert client.get("/liste-attente/NOPE?token=x").status_code == 403


def test_an_address_cannot_join_more_than_allowed_and_nobody_else_learns_it(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    for n in range(3):  # one mailbox (the +tag does not make another), three entries
        join_and_confirm(app, client, smtp, "Alice Premier", f"alice+{n}@example.org")
    fourth = join(client, "Alice Premier", "alice+3@example.org")
    assert fourth.status_code == 303  # the same answer as any join
    assert fourth.headers["Location"] == "/liste-attente/envoyee"
    send(app)
    full = mail_to(smtp, "alice+3@example.org", "Liste d'attente : inscription non enregistrée")
    assert "/liste-attente/" not in str(full)  # nothing to confirm it with
    waiting = [email for email, status in entries(app).items() if status == EntryStatus.WAITING]
    assert len(waiting) == 3  # WAITLIST_MAX_PER_EMAIL
    # The fourth is kept unconfirmed, as any request nobody confirmed (the answer to it is
    # the same as to any other), and deleted with them after a day.
    assert entries(app)["alice+3@example.org"] == EntryStatus.UNCONFIRMED


def test_typing_someone_elses_address_cannot_fill_their_cap(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    for _ in range(5):  # requests nobody confirms: the latest replaces the one before
        assert join(client, "Intrus", "victime@example.org").status_code == 303
    assert entries(app) == {"victime@example.org": EntryStatus.UNCONFIRMED}
    join_and_confirm(app, client, smtp, "Victime Réelle", "victime@example.org")
    assert entries(app) == {"victime@example.org": EntryStatus.WAITING}


def test_an_unconfirmed_request_is_deleted_after_a_day(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    join(client, "Alice Premier", "alice@example.org")
    assert len(entries(app)) == 1
    offer(app, MONDAY_9AM + timedelta(hours=25))
    assert entries(app) == {}


def test_no_one_waits_for_slots_that_are_free_now(
    app: Flask, client: FlaskClient, full_unit: tuple[Unit, Booking]
) -> None:
    response = join(client, "Alice Premier", "alice@example.org", jusqu_au="")  # 4 weeks
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Des créneaux qui vous conviennent sont libres en ce moment" in page
    assert 'href="/unites/ORNEX/creneaux?motif=otv">Voir les créneaux libres' in page
    assert entries(app) == {}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"jours": []}, "jours", "Choisissez au moins un jour"),
        ({"moments": ["soir"]}, "moments", "Choisissez le matin"),
        ({"unites": ["INCONNUE"]}, "unites", "Choisissez au moins une unité"),
        ({"jusqu_au": "2020-01-01"}, "jusqu_au", "Choisissez une date à venir"),
        ({"jusqu_au": "demain"}, "jusqu_au", "Date invalide"),
        ({"email": "pas une adresse"}, "email", "Adresse électronique invalide"),
    ],
)
def test_wrong_fields_are_named_in_french_and_what_was_typed_is_kept(
    client: FlaskClient,
    full_unit: tuple[Unit, Booking],
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = join(client, "Alice Premier", "alice@example.org", **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<a href="#{field}">{message}' in page
    assert 'value="Alice Premier"' in page


def test_each_freed_seat_is_offered_once_when_runners_race(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    """Four runners (threads with their own connections) make offers at the same moment."""
    _, taken = full_unit
    for n in range(3):
        join_and_confirm(app, client, smtp, f"Personne {n}", f"p{n}@example.org")
    cancel_first(app, taken)
    start = threading.Barrier(4)
    made: list[int] = []
    failures: list[BaseException] = []

    def runner() -> None:
        with app.app_context():
            try:
                start.wait()
                made.append(offer_freed_slots(MONDAY_9AM))
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sum(made) == 1
    with app.app_context():
        open_offers = db.session.query(WaitlistOffer).filter_by(status=OfferStatus.OFFERED).count()
    assert open_offers == 1
    assert [h for h in holds(app) if h[1] == "pending"] == [("p0@example.org", "pending")]


def test_the_agenda_says_how_many_wait(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    join(client, "Bruno Second", "bruno@example.org")  # not confirmed: not counted
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", PASSWORD, ["ORNEX"])
    staff = app.test_client()
    sign_in(staff, "agent@gendarmerie.interieur.gouv.fr")
    page = staff.get("/staff/units/ORNEX/agenda?date=2026-11-25").get_data(as_text=True)
    assert "Liste d'attente : 1 personne attend qu'un créneau se libère" in page


def test_a_desk_added_by_the_staff_is_offered_too(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    unit, _ = full_unit
    join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    assert offer(app) == 0
    with app.app_context():
        from booking.services.units.reading import lock_unit

        db.session.begin()
        current = lock_unit(unit.id)
        assert current is not None
        current.desks = 2  # as the settings page saves it: the unit's row changes
        current.updated_at = MONDAY_9AM + timedelta(seconds=1)
        db.session.commit()
    assert offer(app) == 1
    assert holds(app)[-1] == ("alice@example.org", "pending")


def test_an_entry_ends_after_its_last_day_and_the_metrics_count_who_waits(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    metrics = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert "booking_waitlist_waiting 1.0" in metrics.get_data(as_text=True)
    assert offer(app, MONDAY_9AM + timedelta(days=4)) == 0  # past 26 November
    assert entries(app) == {"alice@example.org": EntryStatus.EXPIRED}
    metrics = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert "booking_waitlist_waiting 0.0" in metrics.get_data(as_text=True)


def test_leaving_while_an_offer_is_being_made_wins_and_its_email_is_not_sent(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    from booking.services.waitlist.offers import SlotsOfRun, _offer_one

    _, taken = full_unit
    alice = join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    cancel_first(app, taken)
    with app.app_context():
        queued = db.session.scalars(select(WaitlistEntry)).one()  # the runner read its queue…
        token = waitlist_token(alice, derive(app.config["SECRET_KEY"], "waitlist"))
        from booking.services.waitlist.entries import leave

        leave(alice, token, MONDAY_9AM)  # …Alice left meanwhile…
        assert _offer_one(queued, MONDAY_9AM, SlotsOfRun(MONDAY_9AM)) == 0  # …no offer
    assert holds(app)[-1] == ("first@example.org", "cancelled_by_citizen")


def test_an_offer_email_still_queued_when_the_hold_ends_is_not_sent(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    _, taken = full_unit
    alice = join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    cancel_first(app, taken)
    assert offer(app) == 1
    with app.app_context():
        from booking.services.waitlist.entries import leave

        leave(
            alice, waitlist_token(alice, derive(app.config["SECRET_KEY"], "waitlist")), MONDAY_9AM
        )
    send(app)
    assert not [m for m in smtp.messages if "libéré" in str(m["Subject"])]


def test_one_mailbox_gets_one_offer_at_a_time_and_never_the_same_slot_again(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    full_unit: tuple[Unit, Booking],
    clock_at: Callable[[datetime], None],
) -> None:
    _, taken = full_unit
    join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    join_and_confirm(app, client, smtp, "Alice Premier", "alice+2@example.org")
    join_and_confirm(app, client, smtp, "Bruno Second", "bruno@example.org")
    cancel_first(app, taken)
    assert offer(app) == 1
    assert holds(app)[-1] == ("alice@example.org", "pending")
    later = MONDAY_9AM + timedelta(minutes=31)
    clock_at(later)
    with app.app_context():
        release_expired_holds(later)
    assert offer(app, later) == 1
    assert holds(app)[-1] == ("bruno@example.org", "pending")  # not alice+2@: the same person


def test_the_database_keeps_one_open_offer_per_mailbox(
    app: Flask, full_unit: tuple[Unit, Booking], create_booking: Callable[..., Booking]
) -> None:
    from sqlalchemy.exc import IntegrityError

    unit, taken = full_unit
    other = create_booking(unit, WEDNESDAY_10 + timedelta(days=7), reason_code="otv")
    with app.app_context():
        made = []
        for n, address in enumerate(("a@example.org", "a+2@example.org")):  # one mailbox
            entry = WaitlistEntry(
                reference=f"REF{n}",
                reason_code="otv",
                name="A",
                email=address,
                email_key="a@example.org",
                weekdays="2",
                parts="am",
                until=WEDNESDAY_10.date(),
                status=EntryStatus.WAITING,
                token_hash=str(n) * 64,
            )
            db.session.add(entry)
            db.session.flush()
            made.append(entry)
        for entry, booking in zip(made, (taken, other), strict=True):
            db.session.add(
                WaitlistOffer(
                    entry_id=entry.id,
                    email_key="a@example.org",
                    booking_id=booking.id,
                    unit_id=unit.id,
                    starts_at=booking.starts_at,
                    status=OfferStatus.OFFERED,
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_two_offers_let_expire_end_the_entry(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    full_unit: tuple[Unit, Booking],
    create_booking: Callable[..., Booking],
    clock_at: Callable[[datetime], None],
) -> None:
    unit, taken = full_unit
    uid = "second@rdv.test"
    second = create_booking(
        unit,
        WEDNESDAY_10 + timedelta(days=7),
        reason_code="otv",
        ics_uid=uid,
        token_hash=hash_token(link_token(uid, derive(SECRET_KEY, "links"))),
    )
    assert (
        join(client, "Alice Premier", "alice@example.org", jusqu_au="2026-12-03").status_code == 303
    )
    send(app)
    path, page, token = follow(client, mail_to(smtp, "alice@", "Confirmez"), "/liste-attente/")
    reference = path.split("/liste-attente/")[1].split("?")[0]
    client.post(
        f"/liste-attente/{reference}/confirmer", data={"token": token, "csrf_token": csrf_of(page)}
    )
    cancel_first(app, taken)
    cancel_first(app, second)  # two slots free, a week apart
    now = MONDAY_9AM
    for _ in range(2):  # offered one after the other, and let expire each time
        assert offer(app, now) == 1
        now += timedelta(minutes=31)
        clock_at(now)
        with app.app_context():
            release_expired_holds(now)
    assert offer(app, now) == 0
    assert entries(app) == {"alice@example.org": EntryStatus.EXPIRED}


def test_leaving_and_offering_at_the_same_moment_end_consistent(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    """The runner offers while the person leaves: no deadlock, no error, and no pending
    hold for someone who left."""
    from booking.services.waitlist.entries import leave

    _, taken = full_unit
    alice = join_and_confirm(app, client, smtp, "Alice Premier", "alice@example.org")
    cancel_first(app, taken)
    token = waitlist_token(alice, derive(app.config["SECRET_KEY"], "waitlist"))
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        with app.app_context():
            try:
                start.wait()
                job()
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    jobs = [lambda: offer_freed_slots(MONDAY_9AM), lambda: leave(alice, token, MONDAY_9AM)]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert entries(app) == {"alice@example.org": EntryStatus.LEFT}
    assert ("alice@example.org", "pending") not in holds(app)


@pytest.mark.parametrize(
    ("department", "zone"),
    [("01", "Europe/Paris"), ("988", "Pacific/Noumea"), ("974", "Indian/Reunion")],
)
def test_an_offer_made_at_night_is_held_until_ten_and_does_not_end_the_entry(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    clock_at: Callable[[datetime], None],
    department: str,
    zone: str,
) -> None:
    """A slot freed at 01:04 (the unit's time) is held until 10:00 that morning; the email
    and the offer's page say so; two night offers let expire keep the registration."""
    local = ZoneInfo(zone)
    night = datetime(2026, 11, 24, 1, 4, tzinfo=local).astimezone(UTC)
    clock_at(night)
    unit = create_unit(public_id="ORNEX", department=department, hours=ONE_SLOT)
    taken = []
    for week in (1, 2):
        uid = f"taken-{week}@rdv.test"
        taken.append(
            create_booking(
                unit,
                datetime(2026, 11, 25, 10, 0, tzinfo=local).astimezone(UTC)
                + timedelta(days=7 * (week - 1)),
                reason_code="otv",
                ics_uid=uid,
                token_hash=hash_token(link_token(uid, derive(SECRET_KEY, "links"))),
            )
        )
    assert join(client, "Alice", "alice@example.org", jusqu_au="2026-12-03").status_code == 303
    send(app, night)
    path, page, token = follow(client, mail_to(smtp, "alice@", "Confirmez"), "/liste-attente/")
    reference = path.split("/liste-attente/")[1].split("?")[0]
    client.post(
        f"/liste-attente/{reference}/confirmer", data={"token": token, "csrf_token": csrf_of(page)}
    )
    now = night
    for booking in taken:
        cancel_first(app, booking)
        assert offer(app, now) == 1
        with app.app_context():
            held = db.session.scalar(select(Booking).where(Booking.status == BookingStatus.PENDING))
            assert held is not None
            assert held.hold_expires_at == datetime(
                now.astimezone(local).year, 11, now.astimezone(local).day, 10, 0, tzinfo=local
            )
        send(app, now)
        offered = mail_to(smtp, "alice@", "Un créneau")
        assert "10 h 00" in offered
        manage = re.search(r"http://rdv\.test(/rendez-vous/[^\s]+)", offered)
        assert manage is not None
        shown = client.get(manage.group(1)).get_data(as_text=True)
        assert "Il vous est réservé jusqu'au" in shown
        assert "10 h 00" in shown
        # Not answered: expired at 10:00 local, then the next night comes.
        now = held.hold_expires_at + timedelta(minutes=1)
        clock_at(now)
        with app.app_context():
            release_expired_holds(now)
        offer(app, now)
        now = datetime.combine(
            now.astimezone(local).date() + timedelta(days=1), time(1, 4), local
        ).astimezone(UTC)
        clock_at(now)
    assert entries(app) == {"alice@example.org": EntryStatus.WAITING}


def test_no_outbox_row_holds_a_waitlist_secret_and_rows_go_with_their_entry(
    app: Flask, client: FlaskClient, smtp: SmtpServer, full_unit: tuple[Unit, Booking]
) -> None:
    """The confirmation email is recorded as a notice (no link's secret in the database)
    and rendered when sent, its link working; deleting the entry (an unconfirmed request,
    after a day) deletes its email's row."""
    assert join(client, "Alice Premier", "alice@example.org").status_code == 303
    with app.app_context():
        [row] = db.session.scalars(select(OutboxMessage)).all()
        entry = db.session.scalars(select(WaitlistEntry)).one()
        token = waitlist_token(entry.reference, derive(app.config["SECRET_KEY"], "waitlist"))
        assert row.waitlist_entry_id == entry.id
        stored = " ".join([row.notice, row.message, row.subject])
        assert token not in stored
        assert "token=" not in stored
    send(app)
    path, _, sent_token = follow(client, mail_to(smtp, "alice@", "Confirmez"), "/liste-attente/")
    assert sent_token == token  # derived again when sending, and it works
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.sent_at)) is not None
    offer(app, MONDAY_9AM + timedelta(days=2))  # unconfirmed for a day: deleted…
    with app.app_context():
        assert db.session.scalars(select(WaitlistEntry)).all() == []
        assert db.session.scalars(select(OutboxMessage)).all() == []  # …with its email
