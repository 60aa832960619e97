"""Rules the database itself enforces: no unit ever has more bookings in progress than desks.

A trigger on `bookings` refuses any insert or update that would put, at some instant, more
active bookings (confirmed, or held while the citizen confirms their email) of a unit in
progress than the unit has desks. A hold past its expiry still counts until it is marked
expired (by the job runner, or by the next booking of the unit). On PostgreSQL it first
locks the unit's row, so concurrent bookings of one unit are checked one after the other,
whatever the number of processes or machines; on SQLite the database's single writer lock
does the same (booking transactions start with BEGIN IMMEDIATE).

The most bookings in progress during [start, end) is reached at `start` or at the start of
another booking inside the interval, so only those instants are counted.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

OVERBOOKING = "overbooking"

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION bookings_within_desks() RETURNS trigger AS $$
DECLARE
    unit_desks integer;
    peak integer;
BEGIN
    IF NEW.status NOT IN ('confirmed', 'pending') THEN
        RETURN NEW;
    END IF;
    SELECT desks INTO unit_desks FROM units WHERE id = NEW.unit_id FOR UPDATE;
    SELECT coalesce(max((
        SELECT count(*) FROM bookings AS other
        WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', 'pending')
          AND other.id <> NEW.id
          AND other.starts_at <= instant.t AND other.ends_at > instant.t
    )), 0) INTO peak
    FROM (
        SELECT NEW.starts_at AS t
        UNION
        SELECT starts_at FROM bookings
        WHERE unit_id = NEW.unit_id AND status IN ('confirmed', 'pending') AND id <> NEW.id
          AND starts_at > NEW.starts_at AND starts_at < NEW.ends_at
    ) AS instant;
    IF peak >= unit_desks THEN
        RAISE EXCEPTION 'overbooking: unit % has % desks, all taken', NEW.unit_id, unit_desks
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
POSTGRESQL_TRIGGER = """
CREATE TRIGGER bookings_within_desks
BEFORE INSERT OR UPDATE OF status, starts_at, ends_at, unit_id ON bookings
FOR EACH ROW EXECUTE FUNCTION bookings_within_desks()
"""

_SQLITE_PEAK = """
(SELECT coalesce(max((
    SELECT count(*) FROM bookings AS other
    WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', 'pending') {exclude}
      AND other.starts_at <= instant.t AND other.ends_at > instant.t
)), 0)
FROM (
    SELECT NEW.starts_at AS t
    UNION
    SELECT starts_at FROM bookings AS b
    WHERE b.unit_id = NEW.unit_id AND b.status IN ('confirmed', 'pending') {exclude_b}
      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at
) AS instant)
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER bookings_within_desks_{event}
BEFORE {event_sql} ON bookings
WHEN NEW.status IN ('confirmed', 'pending')
BEGIN
    SELECT RAISE(ABORT, 'overbooking')
    WHERE {peak} >= (SELECT desks FROM units WHERE id = NEW.unit_id);
END
"""
SQLITE_TRIGGERS = (
    _SQLITE_TRIGGER.format(
        event="insert",
        event_sql="INSERT",
        peak=_SQLITE_PEAK.format(exclude="", exclude_b=""),
    ),
    _SQLITE_TRIGGER.format(
        event="update",
        event_sql="UPDATE OF status, starts_at, ends_at, unit_id",
        peak=_SQLITE_PEAK.format(exclude="AND other.id <> NEW.id", exclude_b="AND b.id <> NEW.id"),
    ),
)


def attach(bookings: Table) -> None:
    """Create the triggers whenever the table is created from the models (tests)."""
    for statement in (POSTGRESQL_FUNCTION, POSTGRESQL_TRIGGER):
        # DDL formats its text with %: the function's own % placeholders are doubled.
        ddl = DDL(statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
        event.listen(bookings, "after_create", ddl.execute_if(dialect="postgresql"))
    for statement in SQLITE_TRIGGERS:
        ddl = DDL(statement)  # type: ignore[no-untyped-call]
        event.listen(bookings, "after_create", ddl.execute_if(dialect="sqlite"))


def is_overbooking(error: BaseException) -> bool:
    """Whether a database error is the trigger refusing an overbooking."""
    return OVERBOOKING in str(getattr(error, "orig", error))


# Every change to what decides a unit's slots raises `units.changes` (cached answers check it).
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


def postgresql_counter_trigger(table: str) -> str:
    """The AFTER trigger of one table."""
    return (
        f"CREATE TRIGGER {table}_count_change AFTER INSERT OR UPDATE OR DELETE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION units_count_change()"
    )


def sqlite_counter_triggers(table: str) -> list[str]:
    """The AFTER triggers of one table (SQLite has one per event)."""
    return [
        f"CREATE TRIGGER {table}_count_{event.lower()} AFTER {event} ON {table} BEGIN"
        f" UPDATE units SET changes = changes + 1 WHERE id = {row}.unit_id; END"
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    ]


def attach_change_counters(*tables: Table) -> None:
    """Create the counters' triggers whenever the tables are created from the models."""
    for table in tables:
        statements = [(POSTGRESQL_COUNTER_FUNCTION, "postgresql")]
        statements.append((postgresql_counter_trigger(table.name), "postgresql"))
        statements += [(sql, "sqlite") for sql in sqlite_counter_triggers(table.name)]
        for statement, dialect in statements:
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect=dialect))
