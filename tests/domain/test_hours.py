"""Opening ranges: the dataset's time formats, OSM strings, French wording."""

from __future__ import annotations

import pytest

from booking.domain.hours import (
    HoursError,
    describe_fr,
    normalise_day,
    osm_opening_hours,
    parse_free_text,
    parse_time,
)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("08h00", 480),  # the official layout
        ("8h00", 480),  # no leading zero
        ("8h0", 480),  # one-digit minutes, seen in real files
        ("8h", 480),  # hour only
        ("08:00", 480),  # colon
        ("08:00:00", 480),  # the directory's seconds
        (" 14h30 ", 870),  # blanks around
        ("00h00", 0),  # start of day
        ("24h00", 1440),  # end of day
        ("24:00", 1440),  # end of day, colon
    ],
)
def test_parse_time_accepts_the_formats_of_real_files(text: str, minutes: int) -> None:
    assert parse_time(text) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "midi",  # words
        "25h00",  # no such hour
        "24h30",  # past the end of the day
        "8h60",  # no such minute
        "08:00:30",  # seconds are not minutes
        "8-12",  # a range is not a time
    ],
)
def test_parse_time_refuses_impossible_times_in_french(text: str) -> None:
    with pytest.raises(HoursError, match="heure"):
        parse_time(text)


def test_day_ranges_are_sorted_and_overlaps_refused() -> None:
    assert normalise_day([(840, 1080), (480, 720)]) == [(480, 720), (840, 1080)]
    with pytest.raises(HoursError, match="chevauchent"):
        normalise_day([(480, 720), (700, 800)])
    with pytest.raises(HoursError, match="précéder"):
        normalise_day([(720, 480)])


def test_free_text_of_the_real_sample_is_read_day_by_day() -> None:
    text = (
        " Lundi : 8h00-12h00 14h00-18h00 Mardi : 8h00-12h00 14h00-18h00 Mercredi : 14h00-18h00"
        " Jeudi : 8h00-12h00 14h00-18h00 Vendredi : 8h00-12h00 14h00-18h00 Samedi : 14h00-18h00"
        " Dimanche : 9h00-12h00 15h00-18h00"
    )
    hours = parse_free_text(text)
    assert hours[0] == [(480, 720), (840, 1080)]
    assert hours[2] == [(840, 1080)]
    assert hours[6] == [(540, 720), (900, 1080)]
    assert 7 not in hours  # no public-holiday hours given: closed on holidays


def test_free_text_absent_days_are_closed_and_holidays_read() -> None:
    hours = parse_free_text("Mercredi : 14h-18h Jours fériés : 9h00-12h00")
    assert hours == {2: [(840, 1080)], 7: [(540, 720)]}
    assert parse_free_text("") == {}


@pytest.mark.parametrize(
    "text",
    [
        "Lundi 8h00-12h00",  # no colon after the day
        "Lundi : 8h00 12h00",  # not a range
        "Lundi : 8h-12h Lundi : 14h-18h",  # the same day twice
        "Lundi : 14h-12h",  # backwards
    ],
)
def test_free_text_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(HoursError):
        parse_free_text(text)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        # weekdays alike are grouped; no holiday hours means closed on holidays
        ({d: [(480, 720), (840, 1080)] for d in range(5)}, "Mo-Fr 08:00-12:00,14:00-18:00; PH off"),
        # holiday ranges replace the weekday's
        (
            {0: [(480, 720)], 6: [(540, 720)], 7: [(540, 720)]},
            "Mo 08:00-12:00; Su 09:00-12:00; PH 09:00-12:00",
        ),
        # a unit open around the clock
        ({d: [(0, 1440)] for d in range(8)}, "Mo-Su 00:00-24:00; PH 00:00-24:00"),
        # non-adjacent days with the same hours are not merged across a gap
        ({0: [(840, 1080)], 2: [(840, 1080)]}, "Mo 14:00-18:00; We 14:00-18:00; PH off"),
        # no hours at all
        ({}, "off"),
    ],
)
def test_osm_opening_hours(hours: dict[int, list[tuple[int, int]]], expected: str) -> None:
    assert osm_opening_hours(hours) == expected


def test_french_description_lists_every_day() -> None:
    lines = dict(describe_fr({0: [(480, 720), (840, 1110)], 6: [(0, 1440)]}))
    assert lines["Lundi"] == "8 h – 12 h, 14 h – 18 h 30"
    assert lines["Mardi"] == "fermé"
    assert lines["Dimanche"] == "24 h sur 24"
    assert lines["Jours fériés"] == "fermé"
