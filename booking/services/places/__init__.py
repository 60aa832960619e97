"""Places (SPEC §9): from what a citizen types to the nearest units.

- `gazetteer`: the communes of data/communes.csv, loaded and matched;
- `search`: finding units from a place, a point, a département or a unit's name, each with
  its next free slot;
- `nearby`: the units' points kept in memory, the nearest ones computed at once;
- `memo`: values built from the database and kept per process until it changes.
"""
