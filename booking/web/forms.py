"""Forms of the public pages (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, RadioField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired


class CancelForm(FlaskForm):  # type: ignore[misc]
    """Cancel a booking from the link of its email."""

    token = HiddenField(validators=[DataRequired()])


class MoveForm(FlaskForm):  # type: ignore[misc]
    """Move a booking to another offered slot."""

    token = HiddenField(validators=[DataRequired()])
    start = RadioField(
        "Nouveau créneau",
        validators=[DataRequired(message="Choisissez un créneau.")],
        validate_choice=False,
    )


class BookingForm(FlaskForm):  # type: ignore[misc]
    """The citizen's details; the service checks them (one set of rules for web and API)."""

    name = StringField("Nom et prénom")
    email = EmailField("Adresse électronique")
    phone = TelField("Téléphone (facultatif)")
    comment = TextAreaField("Précisions utiles à l'unité (facultatif)")
    # A field that people never see nor fill; scripts that fill every field do.
    website = StringField("Ne pas remplir ce champ")
    start = RadioField("Autre créneau", validate_choice=False)
