"""The staff workspace's use cases.

- `accounts`: staff accounts and which units each may reach;
- `agenda`: a unit's day at the desk, visits honoured or missed, cancellations, the feed;
- `audit`: the record of every staff change;
- `api_keys`: partners' API keys, issued and revoked by administrators.
"""
