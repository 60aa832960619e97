"""Bookings: what a citizen, a partner or the job runner does with an appointment.

- `make`: check a request, then take the slot in one short write (the database's capacity
  rule has the last word);
- `change`: confirm a hold, cancel, move; the rules on what can still change;
- `once`: one booking per submission (the form's one-time key, the API's Idempotency-Key);
- `contact`: the citizen's details and the chosen start, checked for web and API alike;
- `predeclarations`: a reason's optional pre-declaration, sealed before it is stored;
- `manage`: what the page of a booking's link shows.
"""
