"""units change counter

Revision ID: cc986af25ab0
Revises: 6e3f85f10824
Create Date: 2026-11-22 22:18:54.590953

"""
from alembic import op
import sqlalchemy as sa


# The desk rule as these revisions made it (frozen here: booking/db_rules.py moves on).
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
SQLITE_TRIGGERS = (
    """
CREATE TRIGGER bookings_within_desks_insert
BEFORE INSERT ON bookings
WHEN NEW.status IN ('confirmed', 'pending')
BEGIN
    SELECT RAISE(ABORT, 'overbooking')
    WHERE 
(SELECT coalesce(max((
    SELECT count(*) FROM bookings AS other
    WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', 'pending') 
      AND other.starts_at <= instant.t AND other.ends_at > instant.t
)), 0)
FROM (
    SELECT NEW.starts_at AS t
    UNION
    SELECT starts_at FROM bookings AS b
    WHERE b.unit_id = NEW.unit_id AND b.status IN ('confirmed', 'pending') 
      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at
) AS instant)
 >= (SELECT desks FROM units WHERE id = NEW.unit_id);
END
""",
    """
CREATE TRIGGER bookings_within_desks_update
BEFORE UPDATE OF status, starts_at, ends_at, unit_id ON bookings
WHEN NEW.status IN ('confirmed', 'pending')
BEGIN
    SELECT RAISE(ABORT, 'overbooking')
    WHERE 
(SELECT coalesce(max((
    SELECT count(*) FROM bookings AS other
    WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', 'pending') AND other.id <> NEW.id
      AND other.starts_at <= instant.t AND other.ends_at > instant.t
)), 0)
FROM (
    SELECT NEW.starts_at AS t
    UNION
    SELECT starts_at FROM bookings AS b
    WHERE b.unit_id = NEW.unit_id AND b.status IN ('confirmed', 'pending') AND b.id <> NEW.id
      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at
) AS instant)
 >= (SELECT desks FROM units WHERE id = NEW.unit_id);
END
""",
)

# The change counters as this revision made them (frozen: booking/db_rules.py moves on).
COUNTED_TABLES = ('bookings', 'closures', 'opening_ranges')
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
POSTGRESQL_COUNTER_TRIGGERS = ['CREATE TRIGGER bookings_count_change AFTER INSERT OR UPDATE OR DELETE ON bookings FOR EACH ROW EXECUTE FUNCTION '
 'units_count_change()',
 'CREATE TRIGGER closures_count_change AFTER INSERT OR UPDATE OR DELETE ON closures FOR EACH ROW EXECUTE FUNCTION '
 'units_count_change()',
 'CREATE TRIGGER opening_ranges_count_change AFTER INSERT OR UPDATE OR DELETE ON opening_ranges FOR EACH ROW EXECUTE '
 'FUNCTION units_count_change()']
SQLITE_COUNTER_TRIGGERS = ['CREATE TRIGGER bookings_count_insert AFTER INSERT ON bookings BEGIN UPDATE units SET changes = changes + 1 WHERE id '
 '= NEW.unit_id; END',
 'CREATE TRIGGER bookings_count_update AFTER UPDATE ON bookings BEGIN UPDATE units SET changes = changes + 1 WHERE id '
 '= NEW.unit_id; END',
 'CREATE TRIGGER bookings_count_delete AFTER DELETE ON bookings BEGIN UPDATE units SET changes = changes + 1 WHERE id '
 '= OLD.unit_id; END',
 'CREATE TRIGGER closures_count_insert AFTER INSERT ON closures BEGIN UPDATE units SET changes = changes + 1 WHERE id '
 '= NEW.unit_id; END',
 'CREATE TRIGGER closures_count_update AFTER UPDATE ON closures BEGIN UPDATE units SET changes = changes + 1 WHERE id '
 '= NEW.unit_id; END',
 'CREATE TRIGGER closures_count_delete AFTER DELETE ON closures BEGIN UPDATE units SET changes = changes + 1 WHERE id '
 '= OLD.unit_id; END',
 'CREATE TRIGGER opening_ranges_count_insert AFTER INSERT ON opening_ranges BEGIN UPDATE units SET changes = changes + '
 '1 WHERE id = NEW.unit_id; END',
 'CREATE TRIGGER opening_ranges_count_update AFTER UPDATE ON opening_ranges BEGIN UPDATE units SET changes = changes + '
 '1 WHERE id = NEW.unit_id; END',
 'CREATE TRIGGER opening_ranges_count_delete AFTER DELETE ON opening_ranges BEGIN UPDATE units SET changes = changes + '
 '1 WHERE id = OLD.unit_id; END']


# revision identifiers, used by Alembic.
revision = 'cc986af25ab0'
down_revision = '6e3f85f10824'
branch_labels = None
depends_on = None


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.Integer(), server_default='0', nullable=False))

    # ### end Alembic commands ###
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_COUNTER_FUNCTION)
        for statement in POSTGRESQL_COUNTER_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_COUNTER_TRIGGERS:
            op.execute(statement)


def downgrade():
    for table in COUNTED_TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_count_change ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_count_{event}")
    sqlite = op.get_bind().dialect.name != "postgresql"
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS units_count_change()")
    else:
        # SQLite rebuilds `units` to drop a column; triggers naming it must step aside.
        op.execute("DROP TRIGGER IF EXISTS bookings_within_desks_insert")
        op.execute("DROP TRIGGER IF EXISTS bookings_within_desks_update")
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('changes')

    # ### end Alembic commands ###
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
