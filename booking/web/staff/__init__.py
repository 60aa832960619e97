"""The staff workspace: sign in, the day's agenda, visits, cancellations, unit settings.

One blueprint (`staff`), its views in these modules: `signin` (password and second factor,
sign out), `proconnect` (ProConnect's sign-in, its client in `oidc`), `sessions` (the
agent's account: open sessions, second factor; the administrators' list of accounts),
`account` (the units, the audit log, API keys), `desk` (the day's agenda, visits,
cancellations, the calendar feed), `settings` (hours, desks, closures) and `callers`
(booking for a caller, the card to print, invitation links). Every route that names a unit
goes through `blueprint.staff_unit()`: a unit the agent does not belong to answers 404,
exactly like a unit that does not exist, and shows nothing of it.
"""

from booking.web.staff import account, callers, desk, proconnect, sessions, settings, signin
from booking.web.staff.blueprint import bp
from booking.web.staff.oidc import init_app

__all__ = [
    "account",
    "bp",
    "callers",
    "desk",
    "init_app",
    "proconnect",
    "sessions",
    "settings",
    "signin",
]
