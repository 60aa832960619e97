"""Slots (SPEC §3): what a unit offers for a reason.

- `read`: the only two reads of the database that feed the slot engine (one unit's days,
  in one statement; the busy spans of many units, for their first slots);
- `offered`: the booking policy, the windows of dates, and what views and services call
  (a unit's days or week, one start checked, the first slot of many units);
- `cache`: the slots endpoint's answers, kept per process while the unit is unchanged.

The computation itself is the domain's (`booking.domain.slots`), and which bookings hold
a seat is the one capacity rule (`booking.domain.capacity`).
"""
