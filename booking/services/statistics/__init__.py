"""Public statistics (SPEC §14): computed by the job runner, read by the page and the open
data, which never compute them.

- `sources`: every source and the indicators it gives (visits, emails, the waiting list,
  the orienteur, the delay measures), counted per week; `made`: the bookings made, in one
  pass; `family`: what a source gives, and counting rows per Paris week in SQL;
- `refresh`: `refresh_figures`, every five minutes: the weeks still open computed again;
- `delays`: `measure_delays`, every morning at 06:00 Paris time: the delay to the first
  free slot per département and reason;
- `reading`: `figures` for the page, `csv_rows` and `published_csv` for the open data.

A new figure: its computation in `sources` and its name in booking.domain.figures, then the
page.
"""

from booking.services.statistics.delays import measure_delays
from booking.services.statistics.reading import (
    Cell,
    Delay,
    Figures,
    csv_rows,
    figures,
    published_csv,
)
from booking.services.statistics.refresh import refresh_figures

__all__ = [
    "Cell",
    "Delay",
    "Figures",
    "csv_rows",
    "figures",
    "measure_delays",
    "published_csv",
    "refresh_figures",
]
