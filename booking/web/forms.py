"""Forms: the public pages' (Flask-WTF, CSRF on every POST) and the staff's hours form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired

from booking.domain.hours import (
    DAY_LABELS_FR,
    HoursError,
    Range,
    WeeklyHours,
    check_range,
    format_time,
    normalise_day,
    parse_time,
)
from booking.domain.units_csv import RANGES_PER_DAY
from booking.domain.words import N_
from booking.errors import Invalid
from booking.services.bookings.make import BookingDetails
from booking.services.waitlist.join import WaitRequest
from booking.web.languages import current_language


class CancelForm(FlaskForm):  # type: ignore[misc]
    """Cancel (or confirm) a booking from the link of its email. Cancelling takes two
    steps: the first shows what will be cancelled, the second (`confirme`) cancels."""

    token = HiddenField(validators=[DataRequired()])
    confirme = HiddenField()
    confirmation = HiddenField()  # a hold's: the secret its email carries


class MoveForm(FlaskForm):  # type: ignore[misc]
    """Move a booking to another offered slot."""

    token = HiddenField(validators=[DataRequired()])
    semaine = HiddenField()  # the week shown, shown again after a lost race
    start = RadioField(
        _l("Nouveau créneau"),
        validators=[DataRequired(message=_l("Choisissez un créneau."))],
        validate_choice=False,
    )


class BookingForm(FlaskForm):  # type: ignore[misc]
    """The citizen's details; the service checks them (one set of rules for web and API)."""

    name = StringField(_l("Nom et prénom"))
    email = EmailField(_l("Adresse électronique"))
    phone = TelField(_l("Téléphone (facultatif)"))
    comment = TextAreaField(_l("Précisions utiles à l'unité (facultatif)"))
    # A field that people never see nor fill; scripts that fill every field do.
    website = StringField(_l("Ne pas remplir ce champ"))
    start = RadioField(_l("Autre créneau"), validate_choice=False)
    # The form's one-time key: sent again (back button, reload, double tap), it leads to
    # the booking already made (booking.services.bookings.once).
    cle = HiddenField()
    # Set when the slot was just lost: another one must then be chosen.
    autre = HiddenField()
    # "Je souhaite une prise de contact discrète" (SPEC §17).
    discret = BooleanField(_l("Je souhaite une prise de contact discrète"))

    def details(
        self, start: str, pre_declaration: dict[str, str], mode: str = "on_site"
    ) -> BookingDetails:
        """What the service needs to book, as typed, in the mode of the page."""
        return BookingDetails(
            start=start,
            name=self.name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or "",
            comment=self.comment.data or "",
            pre_declaration=pre_declaration,
            discreet=bool(self.discret.data),
            mode=mode,
            language=current_language(),
        )


WEEKDAY_VALUES = [str(day) for day in range(7)]


class WaitlistForm(FlaskForm):  # type: ignore[misc]
    """Waiting for a slot: who, at which units, on which days and parts of day, until when.
    The form parses what was ticked and typed; the service checks what it means."""

    name = StringField(_l("Nom et prénom"))
    email = EmailField(_l("Adresse électronique"))
    unites = SelectMultipleField(_l("Unités où vous pouvez aller"), validate_choice=False)
    jours = SelectMultipleField(_l("Jours qui vous conviennent"), validate_choice=False)
    moments = SelectMultipleField(_l("Moments de la journée"), validate_choice=False)
    jusqu_au = StringField(_l("Jusqu'au"))
    website = StringField(_l("Ne pas remplir ce champ"))  # the honeypot
    mode = HiddenField()  # on site (empty), phone or video: as the slots page chose
    phone = TelField(_l("Téléphone"))  # the number to call, for a phone appointment

    # The service's names of the fields, and the form's.
    FIELDS = {"units": "unites", "weekdays": "jours", "parts": "moments", "until": "jusqu_au"}

    def validate_jours(self, field: Field) -> None:
        """Days of the week, 0 (Monday) to 6."""
        if any(day not in WEEKDAY_VALUES for day in field.data or []):
            raise ValidationError(_("Choisissez parmi les jours de la semaine proposés."))

    def validate_moments(self, field: Field) -> None:
        """The morning, the afternoon, or both."""
        if any(part not in ("am", "pm") for part in field.data or []):
            raise ValidationError(_("Choisissez le matin, l'après-midi, ou les deux."))

    def validate_jusqu_au(self, field: Field) -> None:
        """A date of the calendar, or nothing (then: as long as possible)."""
        if (field.data or "").strip():
            try:
                date.fromisoformat(field.data.strip())
            except ValueError:
                raise ValidationError(_("Date invalide (exemple : 2026-12-24).")) from None

    def request(self) -> WaitRequest:
        """What the person asks for."""
        until = (self.jusqu_au.data or "").strip()
        return WaitRequest(
            name=self.name.data or "",
            email=self.email.data or "",
            units=[unit for unit in self.unites.data or [] if unit],
            weekdays=frozenset(int(day) for day in self.jours.data or []),
            parts=frozenset(self.moments.data or []),
            until=date.fromisoformat(until) if until else None,
            mode=self.mode.data or "on_site",
            phone=self.phone.data or "",
            language=current_language(),
        )

    def invalid(self) -> Invalid:
        """The form's own errors, as the page shows a service's (one message a field)."""
        if self.csrf_token.errors:
            return Invalid(N_("Le formulaire a expiré : validez-le à nouveau."))
        fields = {name: messages[0] for name, messages in self.errors.items() if messages}
        return Invalid(fields=fields)

    def on_form(self, error: Invalid) -> Invalid:
        """A service's Invalid, its fields named as the form names them."""
        fields = {self.FIELDS.get(name, name): text for name, text in error.fields.items()}
        return Invalid(error.message, fields)


def read_hours_form(form: Mapping[str, str]) -> tuple[dict[int, list[Range]], int]:
    """Hours and desks from the settings form; Invalid with a French message per wrong field,
    keyed by the input it is about (`h-0-1-start`), or by the range (`h-0-1`) when both are."""
    hours: dict[int, list[Range]] = {}
    errors: dict[str, str] = {}
    for day, label in enumerate(DAY_LABELS_FR):
        for n in range(1, RANGES_PER_DAY + 1):
            name = f"h-{day}-{n}"
            start, end = form.get(f"{name}-start", "").strip(), form.get(f"{name}-end", "").strip()
            if not start and not end:
                continue
            times = {}
            for part, text in (("start", start), ("end", end)):
                try:
                    if not text:
                        raise HoursError("indiquez le début et la fin")
                    times[part] = parse_time(text)
                except HoursError as error:
                    errors.setdefault(f"{name}-{part}", f"{label}, plage {n} : {error}")
            if len(times) < 2:
                continue
            try:
                hours.setdefault(day, []).append(check_range(times["start"], times["end"]))
            except HoursError as error:
                errors[name] = f"{label}, plage {n} : {error}"
        try:
            normalise_day(hours.get(day, []))
        except HoursError as error:
            errors.setdefault(f"h-{day}-1", f"{label} : {error}")
    try:
        desks = int(form.get("desks", ""))
    except ValueError:
        desks = 0
        errors["desks"] = "Nombre de guichets : un nombre entier"
    if errors:
        raise Invalid("Corrigez les horaires.", errors)
    return hours, desks


def hours_fields(hours: WeeklyHours, desks: int) -> dict[str, str]:
    """The settings form's values for weekly hours and desks."""
    values = {"desks": str(desks)}
    for day, ranges in hours.items():
        for n, (start, end) in enumerate(ranges[:RANGES_PER_DAY], start=1):
            values[f"h-{day}-{n}-start"] = format_time(start)
            values[f"h-{day}-{n}-end"] = format_time(end)
    return values


def local_datetime(value: str, zone: str, field: str) -> datetime:
    """A `datetime-local` field, in the unit's zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("Date invalide.", {field: "date et heure attendues"}) from None
    return moment.replace(tzinfo=ZoneInfo(zone))
