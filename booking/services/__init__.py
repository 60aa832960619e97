"""Use cases: one function per thing a user does, each one transaction, grouped by capability.

- `bookings/`: making a booking, confirming, cancelling and moving it, the citizen's
  details, one booking per submission, the manage page, sealed pre-declarations;
- `slots/`: the slots a unit offers for a reason: the two reads of the database, the
  policy, the kept answers of the slots endpoint;
- `waitlist/`: joining the waiting list, its entries, the offers the job runner makes;
- `units/`: reading units, their staff settings (hours, desks, closures), the dataset's
  import and export;
- `places/`: the gazetteer, finding units from what a citizen types, the nearest units;
- `staff/`: staff accounts, the agenda at the desk, the audit log, partners' API keys;
- `messages/`: the emails about a booking (notices) and the outbox the job runner sends;
- `reasons.py`, `orientation.py`: the reasons for a visit, the orienteur's decision tree;
- `challenge.py`, `privacy.py`, `health.py`: the proof-of-work challenge, the retention of
  personal data, readiness.

Services import the models, the domain and the infrastructure modules of `booking`, and
each other; never `booking.web` nor `booking.cli` (tests/test_layers.py).
"""
