"""Units and their data.

- `reading`: one unit, searches by text, postcode, département and distance, the row lock
  every write to a unit's bookings takes first;
- `settings`: what a unit's staff change (opening hours, desks, closures);
- `importing`, `exporting`: the official dataset in (SPEC §4) and the open data out.
"""
