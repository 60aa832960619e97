"""Rules the database itself enforces, whatever code writes the rows.

Which bookings count is the one capacity rule (`booking/domain/capacity.py`): confirmed
ones, and holds whose expiry is still to come by the database's clock. A hold past its
expiry counts for nothing, whether or not the job runner has marked it expired yet.

1. **Desks and lines** (`bookings_within_desks`, on bookings): no insert or update may put,
   at some instant, more bookings holding a seat of a unit's capacity in progress than the
   unit has of it (desks for visits on site, remote lines for phone and video together,
   SPEC §12); nor put one inside one of the unit's closures.
2. **Closures** (`closures_leave_bookings`, on closures): a closure may not cover a booking
   holding a desk that has not started yet; the staff's settings cancel those first.
3. **Fewer desks or lines** (`units_desks_cover_bookings`, on units): lowering a unit's
   desks (or its remote lines) may not leave more bookings holding one in progress at some
   instant from now on than the new number.

Each trigger first locks the unit's row on PostgreSQL (the update of `units` locks it by
itself), so every write that concerns a unit's bookings is checked one after the other,
each seeing what the previous committed, whatever the number of processes or machines. On
SQLite the database's single writer lock does the same (writes start with BEGIN IMMEDIATE).

The most bookings in progress during [start, end) is reached at `start` or at the start of
another booking inside the interval, so only those instants are counted. "Now" is the
database's clock: the rules about closures and desks concern what is still to come.

4. **Change counters**: every change to what decides a unit's slots raises `units.changes`,
   which cached slot answers compare (booking columns other than the time, status and
   unit, a reminder sent or a name erased, do not count).
"""

from __future__ import annotations

from sqlalchemy import DDL, MetaData, event

from booking.domain.capacity import DESKS, LINES, capacity_sql, draws_on_sql, holds_sql

OVERBOOKING = "overbooking"  # more visits than desks
CLOSED = "closed"  # a visit inside a closure
# Every column the rule reads: a change to any of them is checked again.
BOOKING_TIME_COLUMNS = "status, hold_expires_at, starts_at, ends_at, unit_id, mode"

# --- PostgreSQL ------------------------------------------------------------------------------

_PG_PEAK = """
    SELECT coalesce(max((
        SELECT count(*) FROM bookings AS other
        WHERE other.unit_id = {unit} AND {holds_other} {exclude}
          AND {draws_other} = {drawn}
          AND other.starts_at <= instant.t AND other.ends_at > instant.t
    )), 0) INTO peak
    FROM (
        {first}
        UNION
        SELECT starts_at FROM bookings
        WHERE unit_id = {unit} AND {holds_plain} {exclude_plain}
          AND {draws_plain} = {drawn}
          AND starts_at > {low} AND starts_at < {high}
    ) AS instant;
"""
_PG_NOW = "now()"
_PG_HOLDS = {
    "holds_other": holds_sql("other", _PG_NOW),
    "holds_plain": holds_sql("bookings", _PG_NOW),
    "draws_other": draws_on_sql("other"),
    "draws_plain": draws_on_sql("bookings"),
}
POSTGRESQL_BOOKINGS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION bookings_within_desks() RETURNS trigger AS $$
DECLARE
    unit_desks integer;
    peak integer;
BEGIN
    IF NOT {holds_sql("NEW", _PG_NOW)} THEN
        RETURN NEW;
    END IF;
    SELECT CASE WHEN NEW.mode = 'on_site' THEN desks ELSE remote_lines END INTO unit_desks
        FROM units WHERE id = NEW.unit_id FOR UPDATE;
    IF EXISTS (
        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id
          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at
    ) THEN
        RAISE EXCEPTION 'closed: unit % is closed then', NEW.unit_id
            USING ERRCODE = 'check_violation';
    END IF;
    {
    _PG_PEAK.format(
        unit="NEW.unit_id",
        **_PG_HOLDS,
        exclude="AND other.id <> NEW.id",
        exclude_plain="AND id <> NEW.id",
        drawn=draws_on_sql("NEW"),
        first="SELECT NEW.starts_at AS t",
        low="NEW.starts_at",
        high="NEW.ends_at",
    )
}
    IF peak >= unit_desks THEN
        RAISE EXCEPTION 'overbooking: unit % has % seats of its %, all taken', NEW.unit_id,
            unit_desks, {draws_on_sql("NEW")} USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
POSTGRESQL_CLOSURES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION closures_leave_bookings() RETURNS trigger AS $$
BEGIN
    PERFORM 1 FROM units WHERE id = NEW.unit_id FOR UPDATE;
    IF EXISTS (
        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND {_PG_HOLDS["holds_plain"]}
          AND starts_at > now() AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at
    ) THEN
        RAISE EXCEPTION 'closed: a closure of unit % covers booked visits', NEW.unit_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def _pg_capacity_check(column: str) -> str:
    """The fewer-seats rule for one of a unit's capacities (DESKS or LINES)."""
    peak = _PG_PEAK.format(
        unit="NEW.id",
        **_PG_HOLDS,
        exclude="",
        exclude_plain="",
        drawn=f"'{column}'",
        first="SELECT now() AS t",
        low="now()",
        high="'infinity'::timestamptz",
    )
    return f"""
    IF NEW.{column} < OLD.{column} THEN
        {peak}
        IF peak > NEW.{column} THEN
            RAISE EXCEPTION 'overbooking: unit % has % visits at once, more than % {column}',
                NEW.id, peak, NEW.{column} USING ERRCODE = 'check_violation';
        END IF;
    END IF;"""


POSTGRESQL_DESKS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION units_desks_cover_bookings() RETURNS trigger AS $$
DECLARE
    peak integer;
BEGIN{_pg_capacity_check(DESKS)}{_pg_capacity_check(LINES)}
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
POSTGRESQL_RULES = (
    POSTGRESQL_BOOKINGS_FUNCTION,
    "CREATE TRIGGER bookings_within_desks BEFORE INSERT OR UPDATE OF"
    f" {BOOKING_TIME_COLUMNS} ON bookings FOR EACH ROW EXECUTE FUNCTION bookings_within_desks()",
    POSTGRESQL_CLOSURES_FUNCTION,
    "CREATE TRIGGER closures_leave_bookings BEFORE INSERT OR UPDATE ON closures"
    " FOR EACH ROW EXECUTE FUNCTION closures_leave_bookings()",
    POSTGRESQL_DESKS_FUNCTION,
    f"CREATE TRIGGER units_desks_cover_bookings BEFORE UPDATE OF {DESKS}, {LINES} ON units"
    " FOR EACH ROW EXECUTE FUNCTION units_desks_cover_bookings()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS bookings_within_desks ON bookings",
    "DROP TRIGGER IF EXISTS closures_leave_bookings ON closures",
    "DROP TRIGGER IF EXISTS units_desks_cover_bookings ON units",
    "DROP FUNCTION IF EXISTS bookings_within_desks()",
    "DROP FUNCTION IF EXISTS closures_leave_bookings()",
    "DROP FUNCTION IF EXISTS units_desks_cover_bookings()",
)

# --- SQLite ----------------------------------------------------------------------------------

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_PEAK = """
(SELECT coalesce(max((
    SELECT count(*) FROM bookings AS other
    WHERE other.unit_id = {unit} AND {holds_other} {exclude}
      AND {draws_other} = {drawn}
      AND other.starts_at <= instant.t AND other.ends_at > instant.t
)), 0)
FROM (
    SELECT {first} AS t
    UNION
    SELECT starts_at FROM bookings AS b
    WHERE b.unit_id = {unit} AND {holds_b} {exclude_b}
      AND {draws_b} = {drawn}
      AND b.starts_at > {low} {high}
) AS instant)
"""
_SQLITE_HOLDS = {
    "holds_other": holds_sql("other", _SQLITE_NOW),
    "holds_b": holds_sql("b", _SQLITE_NOW),
    "draws_other": draws_on_sql("other"),
    "draws_b": draws_on_sql("b"),
}


def _sqlite_booking_trigger(event_name: str, event_sql: str, exclude: bool) -> str:
    """The desk rule on bookings, for one event."""
    peak = _SQLITE_PEAK.format(
        unit="NEW.unit_id",
        **_SQLITE_HOLDS,
        exclude="AND other.id <> NEW.id" if exclude else "",
        exclude_b="AND b.id <> NEW.id" if exclude else "",
        drawn=draws_on_sql("NEW"),
        first="NEW.starts_at",
        low="NEW.starts_at",
        high="AND b.starts_at < NEW.ends_at",
    )
    return f"""
CREATE TRIGGER bookings_within_desks_{event_name}
BEFORE {event_sql} ON bookings
WHEN {holds_sql("NEW", _SQLITE_NOW)}
BEGIN
    SELECT RAISE(ABORT, '{CLOSED}') WHERE EXISTS (
        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id
          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at
    );
    SELECT RAISE(ABORT, '{OVERBOOKING}')
    WHERE {peak} >= (SELECT {capacity_sql("NEW", "units")} FROM units WHERE id = NEW.unit_id);
END
"""


def _sqlite_closure_trigger(event_name: str) -> str:
    """The closure rule, for one event."""
    return f"""
CREATE TRIGGER closures_leave_bookings_{event_name}
BEFORE {event_name.upper()} ON closures
BEGIN
    SELECT RAISE(ABORT, '{CLOSED}') WHERE EXISTS (
        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND {holds_sql("bookings", _SQLITE_NOW)}
          AND starts_at > {_SQLITE_NOW} AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at
    );
END
"""


def _sqlite_capacity_trigger(column: str) -> str:
    """The fewer-seats rule for one of a unit's capacities (DESKS or LINES)."""
    peak = _SQLITE_PEAK.format(
        unit="NEW.id",
        **_SQLITE_HOLDS,
        exclude="",
        exclude_b="",
        drawn=f"'{column}'",
        first=_SQLITE_NOW,
        low=_SQLITE_NOW,
        high="",
    )
    return f"""
CREATE TRIGGER units_{column}_cover_bookings
BEFORE UPDATE OF {column} ON units
WHEN NEW.{column} < OLD.{column}
BEGIN
    SELECT RAISE(ABORT, '{OVERBOOKING}')
    WHERE {peak} > NEW.{column};
END
"""


SQLITE_RULES = (
    _sqlite_booking_trigger("insert", "INSERT", exclude=False),
    _sqlite_booking_trigger("update", f"UPDATE OF {BOOKING_TIME_COLUMNS}", exclude=True),
    _sqlite_closure_trigger("insert"),
    _sqlite_closure_trigger("update"),
    _sqlite_capacity_trigger(DESKS),
    _sqlite_capacity_trigger(LINES),
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS bookings_within_desks_insert",
    "DROP TRIGGER IF EXISTS bookings_within_desks_update",
    "DROP TRIGGER IF EXISTS closures_leave_bookings_insert",
    "DROP TRIGGER IF EXISTS closures_leave_bookings_update",
    f"DROP TRIGGER IF EXISTS units_{DESKS}_cover_bookings",
    f"DROP TRIGGER IF EXISTS units_{LINES}_cover_bookings",
)


def refusal(error: BaseException) -> str:
    """Which rule refused a write (OVERBOOKING or CLOSED), or "" for any other error."""
    text = str(getattr(error, "orig", error))
    return next((rule for rule in (OVERBOOKING, CLOSED) if rule in text), "")


def is_overbooking(error: BaseException) -> bool:
    """Whether a database error is the desk rule refusing more visits than desks."""
    return refusal(error) == OVERBOOKING


# --- Change counters -------------------------------------------------------------------------

COUNTED_TABLES = ("bookings", "closures", "opening_ranges")
POSTGRESQL_COUNTER_FUNCTION = """
CREATE OR REPLACE FUNCTION units_count_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE units SET changes = changes + 1 WHERE id = OLD.unit_id;
    ELSE
        UPDATE units SET changes = changes + 1 WHERE id = NEW.unit_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def _updated_columns(table: str) -> str:
    """`UPDATE` or `UPDATE OF …`: which updates of a table change slots."""
    return f"UPDATE OF {BOOKING_TIME_COLUMNS}" if table == "bookings" else "UPDATE"


def postgresql_counter_trigger(table: str) -> str:
    """The AFTER trigger of one table."""
    return (
        f"CREATE TRIGGER {table}_count_change AFTER INSERT OR {_updated_columns(table)} OR DELETE"
        f" ON {table} FOR EACH ROW EXECUTE FUNCTION units_count_change()"
    )


def sqlite_counter_triggers(table: str) -> list[str]:
    """The AFTER triggers of one table (SQLite has one per event)."""
    return [
        f"CREATE TRIGGER {table}_count_{name} AFTER {event_sql} ON {table} BEGIN"
        f" UPDATE units SET changes = changes + 1 WHERE id = {row}.unit_id; END"
        for name, event_sql, row in (
            ("insert", "INSERT", "NEW"),
            ("update", _updated_columns(table), "NEW"),
            ("delete", "DELETE", "OLD"),
        )
    ]


def counter_statements(dialect: str) -> list[str]:
    """Every statement creating the counters on a dialect."""
    if dialect == "postgresql":
        return [POSTGRESQL_COUNTER_FUNCTION, *map(postgresql_counter_trigger, COUNTED_TABLES)]
    return [sql for table in COUNTED_TABLES for sql in sqlite_counter_triggers(table)]


def counter_drops(dialect: str) -> list[str]:
    """Every statement dropping the counters on a dialect."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {t}_count_change ON {t}" for t in COUNTED_TABLES]
    return [
        f"DROP TRIGGER IF EXISTS {t}_count_{name}"
        for t in COUNTED_TABLES
        for name in ("insert", "update", "delete")
    ]


def rule_statements(dialect: str) -> tuple[str, ...]:
    """Every statement creating rules 1–3 on a dialect."""
    return POSTGRESQL_RULES if dialect == "postgresql" else SQLITE_RULES


def attach(metadata: MetaData) -> None:
    """Create every rule and counter when the tables are created from the models (tests);
    migrations create them with `rule_statements` and `counter_statements`."""
    for dialect in ("postgresql", "sqlite"):
        for statement in (*rule_statements(dialect), *counter_statements(dialect)):
            # DDL formats its text with %: the statements' own % signs are doubled.
            ddl = DDL(statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
            event.listen(metadata, "after_create", ddl.execute_if(dialect=dialect))
