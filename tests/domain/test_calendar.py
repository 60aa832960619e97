"""Calendar invitations: iTIP methods, and VTIMEZONEs that tell the truth about DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from booking.domain.calendar import Appointment, feed, invitation, vtimezone


def appointment(timezone: str = "Europe/Paris", **changes: object) -> Appointment:
    """An appointment with plausible values."""
    values: dict[str, object] = {
        "uid": "abc@rdv.test",
        "sequence": 0,
        "start": datetime(2026, 3, 30, 8, 0, tzinfo=UTC),
        "end": datetime(2026, 3, 30, 8, 30, tzinfo=UTC),
        "timezone": timezone,
        "summary": "Rendez-vous – Brigade",
        "description": "Référence : K7PM2QXH",
        "location": "1 Rue de la Gare 01210 Ornex",
        "latitude": 46.27,
        "longitude": 6.09,
        "organizer_email": "ne-pas-repondre@rdv.test",
        "organizer_name": "Brigade",
        "attendee_email": "camille@example.org",
        "attendee_name": "Camille",
    }
    values.update(changes)
    return Appointment(**values)  # type: ignore[arg-type]


def observances(component: Calendar) -> list[tuple[str, datetime, str, str]]:
    """(kind, DTSTART, TZOFFSETFROM, TZOFFSETTO) of each block of a VTIMEZONE."""
    return [
        (
            sub.name,
            sub.decoded("dtstart"),
            str(sub["tzoffsetfrom"].to_ical()),
            str(sub["tzoffsetto"].to_ical()),
        )
        for sub in component.subcomponents
    ]


def test_paris_changes_at_two_in_spring_and_three_in_autumn() -> None:
    blocks = observances(vtimezone("Europe/Paris", date(2026, 1, 1), date(2026, 12, 31)))
    assert ("DAYLIGHT", datetime(2026, 3, 29, 2, 0), "+0100", "+0200") in blocks
    assert ("STANDARD", datetime(2026, 10, 25, 3, 0), "+0200", "+0100") in blocks


@pytest.mark.parametrize(
    ("zone", "offset"),
    [("Indian/Reunion", "+0400"), ("Pacific/Tahiti", "-1000"), ("Pacific/Noumea", "+1100")],
)
def test_zones_without_dst_have_one_block(zone: str, offset: str) -> None:
    [(kind, _, before, after)] = observances(vtimezone(zone, date(2026, 1, 1), date(2027, 1, 1)))
    assert (kind, before, after) == ("STANDARD", offset, offset)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # just before the spring change
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # the change
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # first 02:30 of the autumn night
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # second 02:30
    ],
)
def test_a_client_reading_our_vtimezone_gets_the_same_instant(moment: datetime) -> None:
    ics = invitation(appointment(start=moment, end=moment + timedelta(minutes=30)), "REQUEST")
    calendar = Calendar.from_ical(ics)
    zone = calendar.walk("VTIMEZONE")[0].to_tz()
    [event] = calendar.walk("VEVENT")
    local = event["dtstart"].dt.replace(tzinfo=None)
    assert (
        local.replace(
            tzinfo=zone, fold=1 if moment.hour == 1 and moment.month == 10 else 0
        ).astimezone(UTC)
        == moment
    )


def test_request_and_cancel_share_uid_and_carry_status() -> None:
    request = Calendar.from_ical(invitation(appointment(), "REQUEST"))
    cancel = Calendar.from_ical(invitation(appointment(sequence=1), "CANCEL"))
    assert str(request["method"]) == "REQUEST"
    assert str(cancel["method"]) == "CANCEL"
    [first], [second] = request.walk("VEVENT"), cancel.walk("VEVENT")
    assert first["uid"] == second["uid"]
    assert (int(first["sequence"]), int(second["sequence"])) == (0, 1)
    assert (str(first["status"]), str(second["status"])) == ("CONFIRMED", "CANCELLED")
    assert str(first["organizer"]) == "mailto:ne-pas-repondre@rdv.test"
    assert str(first["attendee"]) == "mailto:camille@example.org"
    assert first.decoded("geo") is not None


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="PUBLISH"):
        invitation(appointment(), "PUBLISH")


def test_feed_is_a_publish_calendar_of_many_events() -> None:
    calendar = Calendar.from_ical(
        feed([appointment(uid="a@x"), appointment(uid="b@x", timezone="Indian/Reunion")], "Agenda")
    )
    assert str(calendar["method"]) == "PUBLISH"
    assert len(calendar.walk("VEVENT")) == 2
    assert {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")} == {
        "Europe/Paris",
        "Indian/Reunion",
    }
