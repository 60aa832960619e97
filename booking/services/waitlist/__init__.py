"""The waiting list (SPEC §11).

- `join`: a citizen asks to wait (confirmed from an email; the same answer for every
  address);
- `entries`: an entry's link, confirming, leaving, what the unit sees, the purge;
- `offers`: the job runner offers freed slots, first confirmed first, as holds, and closes
  the offers that were answered or expired.
"""
