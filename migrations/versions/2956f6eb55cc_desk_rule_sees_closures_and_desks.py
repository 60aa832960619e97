"""desk rule sees closures and desks; session versions; mailbox keys

The desk rule now also refuses a booking inside a closure, a closure over booked visits, and
fewer desks than the visits still to come need (booking/db_rules.py); the change counters
no longer fire on booking columns that do not change slots. Staff sessions carry a version;
bookings keep the mailbox behind their address for the per-email limit.

Revision ID: 2956f6eb55cc
Revises: cc986af25ab0
Create Date: 2026-11-24 14:40:25.901558

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2956f6eb55cc'
down_revision = 'cc986af25ab0'
branch_labels = None
depends_on = None

# The rules and counters as this revision makes them (frozen: booking/db_rules.py moves on).
NEW_RULES = {'postgresql': ['\n'
                'CREATE OR REPLACE FUNCTION bookings_within_desks() RETURNS trigger AS $$\n'
                'DECLARE\n'
                '    unit_desks integer;\n'
                '    peak integer;\n'
                'BEGIN\n'
                "    IF NEW.status NOT IN ('confirmed', 'pending') THEN\n"
                '        RETURN NEW;\n'
                '    END IF;\n'
                '    SELECT desks INTO unit_desks FROM units WHERE id = NEW.unit_id FOR UPDATE;\n'
                '    IF EXISTS (\n'
                '        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id\n'
                '          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at\n'
                '    ) THEN\n'
                "        RAISE EXCEPTION 'closed: unit % is closed then', NEW.unit_id\n"
                "            USING ERRCODE = 'check_violation';\n"
                '    END IF;\n'
                '    \n'
                '    SELECT coalesce(max((\n'
                '        SELECT count(*) FROM bookings AS other\n'
                "        WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', "
                "'pending') AND other.id <> NEW.id\n"
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT NEW.starts_at AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.unit_id AND status IN ('confirmed', 'pending') AND id "
                '<> NEW.id\n'
                '          AND starts_at > NEW.starts_at AND starts_at < NEW.ends_at\n'
                '    ) AS instant;\n'
                '\n'
                '    IF peak >= unit_desks THEN\n'
                "        RAISE EXCEPTION 'overbooking: unit % has % desks, all taken', "
                'NEW.unit_id, unit_desks\n'
                "            USING ERRCODE = 'check_violation';\n"
                '    END IF;\n'
                '    RETURN NEW;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                'CREATE TRIGGER bookings_within_desks BEFORE INSERT OR UPDATE OF status, '
                'starts_at, ends_at, unit_id ON bookings FOR EACH ROW EXECUTE FUNCTION '
                'bookings_within_desks()',
                '\n'
                'CREATE OR REPLACE FUNCTION closures_leave_bookings() RETURNS trigger AS $$\n'
                'BEGIN\n'
                '    PERFORM 1 FROM units WHERE id = NEW.unit_id FOR UPDATE;\n'
                '    IF EXISTS (\n'
                '        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND status IN '
                "('confirmed', 'pending')\n"
                '          AND starts_at > now() AND starts_at < NEW.ends_at AND ends_at > '
                'NEW.starts_at\n'
                '    ) THEN\n'
                "        RAISE EXCEPTION 'closed: a closure of unit % covers booked visits', "
                'NEW.unit_id\n'
                "            USING ERRCODE = 'check_violation';\n"
                '    END IF;\n'
                '    RETURN NEW;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                'CREATE TRIGGER closures_leave_bookings BEFORE INSERT OR UPDATE ON closures FOR '
                'EACH ROW EXECUTE FUNCTION closures_leave_bookings()',
                '\n'
                'CREATE OR REPLACE FUNCTION units_desks_cover_bookings() RETURNS trigger AS $$\n'
                'DECLARE\n'
                '    peak integer;\n'
                'BEGIN\n'
                '    IF NEW.desks >= OLD.desks THEN\n'
                '        RETURN NEW;\n'
                '    END IF;\n'
                '    \n'
                '    SELECT coalesce(max((\n'
                '        SELECT count(*) FROM bookings AS other\n'
                "        WHERE other.unit_id = NEW.id AND other.status IN ('confirmed', "
                "'pending') \n"
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT now() AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.id AND status IN ('confirmed', 'pending') \n"
                "          AND starts_at > now() AND starts_at < 'infinity'::timestamptz\n"
                '    ) AS instant;\n'
                '\n'
                '    IF peak > NEW.desks THEN\n'
                "        RAISE EXCEPTION 'overbooking: unit % has % visits at once, more than % "
                "desks',\n"
                "            NEW.id, peak, NEW.desks USING ERRCODE = 'check_violation';\n"
                '    END IF;\n'
                '    RETURN NEW;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                'CREATE TRIGGER units_desks_cover_bookings BEFORE UPDATE OF desks ON units FOR '
                'EACH ROW EXECUTE FUNCTION units_desks_cover_bookings()',
                '\n'
                'CREATE OR REPLACE FUNCTION units_count_change() RETURNS trigger AS $$\n'
                'BEGIN\n'
                "    IF TG_OP = 'DELETE' THEN\n"
                '        UPDATE units SET changes = changes + 1 WHERE id = OLD.unit_id;\n'
                '    ELSE\n'
                '        UPDATE units SET changes = changes + 1 WHERE id = NEW.unit_id;\n'
                '    END IF;\n'
                '    RETURN NULL;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                'CREATE TRIGGER bookings_count_change AFTER INSERT OR UPDATE OF status, starts_at, '
                'ends_at, unit_id OR DELETE ON bookings FOR EACH ROW EXECUTE FUNCTION '
                'units_count_change()',
                'CREATE TRIGGER closures_count_change AFTER INSERT OR UPDATE OR DELETE ON closures '
                'FOR EACH ROW EXECUTE FUNCTION units_count_change()',
                'CREATE TRIGGER opening_ranges_count_change AFTER INSERT OR UPDATE OR DELETE ON '
                'opening_ranges FOR EACH ROW EXECUTE FUNCTION units_count_change()'],
 'sqlite': ['\n'
            'CREATE TRIGGER bookings_within_desks_insert\n'
            'BEFORE INSERT ON bookings\n'
            "WHEN NEW.status IN ('confirmed', 'pending')\n"
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id\n'
            '          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            "    SELECT RAISE(ABORT, 'overbooking')\n"
            '    WHERE \n'
            '(SELECT coalesce(max((\n'
            '    SELECT count(*) FROM bookings AS other\n'
            "    WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', 'pending') \n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            '    SELECT NEW.starts_at AS t\n'
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.unit_id AND b.status IN ('confirmed', 'pending') \n"
            '      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at\n'
            ') AS instant)\n'
            ' >= (SELECT desks FROM units WHERE id = NEW.unit_id);\n'
            'END\n',
            '\n'
            'CREATE TRIGGER bookings_within_desks_update\n'
            'BEFORE UPDATE OF status, starts_at, ends_at, unit_id ON bookings\n'
            "WHEN NEW.status IN ('confirmed', 'pending')\n"
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id\n'
            '          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            "    SELECT RAISE(ABORT, 'overbooking')\n"
            '    WHERE \n'
            '(SELECT coalesce(max((\n'
            '    SELECT count(*) FROM bookings AS other\n'
            "    WHERE other.unit_id = NEW.unit_id AND other.status IN ('confirmed', 'pending') "
            'AND other.id <> NEW.id\n'
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            '    SELECT NEW.starts_at AS t\n'
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.unit_id AND b.status IN ('confirmed', 'pending') AND b.id "
            '<> NEW.id\n'
            '      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at\n'
            ') AS instant)\n'
            ' >= (SELECT desks FROM units WHERE id = NEW.unit_id);\n'
            'END\n',
            '\n'
            'CREATE TRIGGER closures_leave_bookings_insert\n'
            'BEFORE INSERT ON closures\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND status IN '
            "('confirmed', 'pending')\n"
            "          AND starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') AND starts_at < "
            'NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            'END\n',
            '\n'
            'CREATE TRIGGER closures_leave_bookings_update\n'
            'BEFORE UPDATE ON closures\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND status IN '
            "('confirmed', 'pending')\n"
            "          AND starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') AND starts_at < "
            'NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            'END\n',
            '\n'
            'CREATE TRIGGER units_desks_cover_bookings\n'
            'BEFORE UPDATE OF desks ON units\n'
            'WHEN NEW.desks < OLD.desks\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'overbooking')\n"
            '    WHERE \n'
            '(SELECT coalesce(max((\n'
            '    SELECT count(*) FROM bookings AS other\n'
            "    WHERE other.unit_id = NEW.id AND other.status IN ('confirmed', 'pending') \n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            "    SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS t\n"
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.id AND b.status IN ('confirmed', 'pending') \n"
            "      AND b.starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') \n"
            ') AS instant)\n'
            ' > NEW.desks;\n'
            'END\n',
            'CREATE TRIGGER bookings_count_insert AFTER INSERT ON bookings BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER bookings_count_update AFTER UPDATE OF status, starts_at, ends_at, '
            'unit_id ON bookings BEGIN UPDATE units SET changes = changes + 1 WHERE id = '
            'NEW.unit_id; END',
            'CREATE TRIGGER bookings_count_delete AFTER DELETE ON bookings BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = OLD.unit_id; END',
            'CREATE TRIGGER closures_count_insert AFTER INSERT ON closures BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER closures_count_update AFTER UPDATE ON closures BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER closures_count_delete AFTER DELETE ON closures BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = OLD.unit_id; END',
            'CREATE TRIGGER opening_ranges_count_insert AFTER INSERT ON opening_ranges BEGIN '
            'UPDATE units SET changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER opening_ranges_count_update AFTER UPDATE ON opening_ranges BEGIN '
            'UPDATE units SET changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER opening_ranges_count_delete AFTER DELETE ON opening_ranges BEGIN '
            'UPDATE units SET changes = changes + 1 WHERE id = OLD.unit_id; END']}
NEW_DROPS = {'postgresql': ['DROP TRIGGER IF EXISTS bookings_count_change ON bookings',
                'DROP TRIGGER IF EXISTS closures_count_change ON closures',
                'DROP TRIGGER IF EXISTS opening_ranges_count_change ON opening_ranges',
                'DROP TRIGGER IF EXISTS bookings_within_desks ON bookings',
                'DROP TRIGGER IF EXISTS closures_leave_bookings ON closures',
                'DROP TRIGGER IF EXISTS units_desks_cover_bookings ON units',
                'DROP FUNCTION IF EXISTS bookings_within_desks()',
                'DROP FUNCTION IF EXISTS closures_leave_bookings()',
                'DROP FUNCTION IF EXISTS units_desks_cover_bookings()'],
 'sqlite': ['DROP TRIGGER IF EXISTS bookings_count_insert',
            'DROP TRIGGER IF EXISTS bookings_count_update',
            'DROP TRIGGER IF EXISTS bookings_count_delete',
            'DROP TRIGGER IF EXISTS closures_count_insert',
            'DROP TRIGGER IF EXISTS closures_count_update',
            'DROP TRIGGER IF EXISTS closures_count_delete',
            'DROP TRIGGER IF EXISTS opening_ranges_count_insert',
            'DROP TRIGGER IF EXISTS opening_ranges_count_update',
            'DROP TRIGGER IF EXISTS opening_ranges_count_delete',
            'DROP TRIGGER IF EXISTS bookings_within_desks_insert',
            'DROP TRIGGER IF EXISTS bookings_within_desks_update',
            'DROP TRIGGER IF EXISTS closures_leave_bookings_insert',
            'DROP TRIGGER IF EXISTS closures_leave_bookings_update',
            'DROP TRIGGER IF EXISTS units_desks_cover_bookings']}

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


def _dialect():
    return op.get_bind().dialect.name


def _drop_previous_rules():
    """The rules and counters of the revisions before this one."""
    if _dialect() == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bookings_within_desks ON bookings")
        for table in COUNTED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_count_change ON {table}")
    else:
        op.execute("DROP TRIGGER IF EXISTS bookings_within_desks_insert")
        op.execute("DROP TRIGGER IF EXISTS bookings_within_desks_update")
        for table in COUNTED_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_count_{event}")


def _mailbox_key(address):
    """The per-email limit's key (as booking.services.bookings.contact.mailbox_key was written)."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else ""


def upgrade():
    _drop_previous_rules()
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_key', sa.String(length=254), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_bookings_email_key'), ['email_key'], unique=False)

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    # ### end Alembic commands ###
    bookings = sa.table("bookings", sa.column("id"), sa.column("email"), sa.column("email_key"))
    connection = op.get_bind()
    for booking_id, address in connection.execute(sa.select(bookings.c.id, bookings.c.email)):
        connection.execute(
            bookings.update().where(bookings.c.id == booking_id).values(email_key=_mailbox_key(address))
        )
    for statement in NEW_RULES[_dialect()]:
        op.execute(statement)


def downgrade():
    dialect = _dialect()
    for statement in NEW_DROPS[dialect]:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_email_key'))
        batch_op.drop_column('email_key')

    # ### end Alembic commands ###
    if dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
        op.execute(POSTGRESQL_COUNTER_FUNCTION)
        for statement in POSTGRESQL_COUNTER_TRIGGERS:
            op.execute(statement)
    else:
        for statement in (*SQLITE_TRIGGERS, *SQLITE_COUNTER_TRIGGERS):
            op.execute(statement)
