"""The staff workspace: sign in, the day's agenda, visits, cancellations, unit settings.

One blueprint (`staff`), its views in three modules: `account` (sign in and out, the units,
the audit log), `desk` (the day's agenda, visits, cancellations, the calendar feed) and
`settings` (hours, desks, closures), `callers` (booking for a caller, the card to print,
invitation links). Every route that names a unit goes through
`blueprint.staff_unit()`: a unit the agent does not belong to answers 404, exactly like a
unit that does not exist, and shows nothing of it.
"""

from booking.web.staff import account, callers, desk, settings
from booking.web.staff.blueprint import bp

__all__ = ["account", "bp", "callers", "desk", "settings"]
