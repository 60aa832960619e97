"""Forms of the public pages (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
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
