"""capacity rule: a hold past its expiry holds nothing

The desk rule, the closure rule and the desks rule count the bookings that hold a seat by
the one capacity rule (booking/domain/capacity.py): confirmed ones, and holds whose expiry
is still to come by the database's clock. A hold past its expiry no longer blocks its slot
until the job runner marks it. The rule is checked again when a hold's expiry changes.

Revision ID: a41c2e7d9b10
Revises: 5df53a447c29
Create Date: 2026-12-07

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a41c2e7d9b10'
down_revision = '5df53a447c29'
branch_labels = None
depends_on = None

# The rules and counters as this revision makes them (frozen: booking/db_rules.py moves on).
NEW_RULES = {'postgresql': ['\n'
                'CREATE OR REPLACE FUNCTION bookings_within_desks() RETURNS trigger AS $$\n'
                'DECLARE\n'
                '    unit_desks integer;\n'
                '    peak integer;\n'
                'BEGIN\n'
                "    IF NOT (NEW.status = 'confirmed' OR (NEW.status = 'pending' AND "
                'coalesce(NEW.hold_expires_at > now(), false))) THEN\n'
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
                "        WHERE other.unit_id = NEW.unit_id AND (other.status = 'confirmed' OR "
                "(other.status = 'pending' AND coalesce(other.hold_expires_at > now(), false))) "
                'AND other.id <> NEW.id\n'
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT NEW.starts_at AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.unit_id AND (bookings.status = 'confirmed' OR "
                "(bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > now(), "
                'false))) AND id <> NEW.id\n'
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
                'hold_expires_at, starts_at, ends_at, unit_id ON bookings FOR EACH ROW EXECUTE '
                'FUNCTION bookings_within_desks()',
                '\n'
                'CREATE OR REPLACE FUNCTION closures_leave_bookings() RETURNS trigger AS $$\n'
                'BEGIN\n'
                '    PERFORM 1 FROM units WHERE id = NEW.unit_id FOR UPDATE;\n'
                '    IF EXISTS (\n'
                '        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND (bookings.status = '
                "'confirmed' OR (bookings.status = 'pending' AND coalesce(bookings.hold_expires_at "
                '> now(), false)))\n'
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
                "        WHERE other.unit_id = NEW.id AND (other.status = 'confirmed' OR "
                "(other.status = 'pending' AND coalesce(other.hold_expires_at > now(), false))) \n"
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT now() AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.id AND (bookings.status = 'confirmed' OR "
                "(bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > now(), "
                'false))) \n'
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
                'CREATE TRIGGER bookings_count_change AFTER INSERT OR UPDATE OF status, '
                'hold_expires_at, starts_at, ends_at, unit_id OR DELETE ON bookings FOR EACH ROW '
                'EXECUTE FUNCTION units_count_change()',
                'CREATE TRIGGER closures_count_change AFTER INSERT OR UPDATE OR DELETE ON closures '
                'FOR EACH ROW EXECUTE FUNCTION units_count_change()',
                'CREATE TRIGGER opening_ranges_count_change AFTER INSERT OR UPDATE OR DELETE ON '
                'opening_ranges FOR EACH ROW EXECUTE FUNCTION units_count_change()'],
 'sqlite': ['\n'
            'CREATE TRIGGER bookings_within_desks_insert\n'
            'BEFORE INSERT ON bookings\n'
            "WHEN (NEW.status = 'confirmed' OR (NEW.status = 'pending' AND "
            "coalesce(NEW.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), false)))\n"
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id\n'
            '          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            "    SELECT RAISE(ABORT, 'overbooking')\n"
            '    WHERE \n'
            '(SELECT coalesce(max((\n'
            '    SELECT count(*) FROM bookings AS other\n'
            "    WHERE other.unit_id = NEW.unit_id AND (other.status = 'confirmed' OR "
            "(other.status = 'pending' AND coalesce(other.hold_expires_at > strftime('%Y-%m-%d "
            "%H:%M:%f', 'now'), false))) \n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            '    SELECT NEW.starts_at AS t\n'
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.unit_id AND (b.status = 'confirmed' OR (b.status = "
            "'pending' AND coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), "
            'false))) \n'
            '      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at\n'
            ') AS instant)\n'
            ' >= (SELECT desks FROM units WHERE id = NEW.unit_id);\n'
            'END\n',
            '\n'
            'CREATE TRIGGER bookings_within_desks_update\n'
            'BEFORE UPDATE OF status, hold_expires_at, starts_at, ends_at, unit_id ON bookings\n'
            "WHEN (NEW.status = 'confirmed' OR (NEW.status = 'pending' AND "
            "coalesce(NEW.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), false)))\n"
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM closures WHERE unit_id = NEW.unit_id\n'
            '          AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            "    SELECT RAISE(ABORT, 'overbooking')\n"
            '    WHERE \n'
            '(SELECT coalesce(max((\n'
            '    SELECT count(*) FROM bookings AS other\n'
            "    WHERE other.unit_id = NEW.unit_id AND (other.status = 'confirmed' OR "
            "(other.status = 'pending' AND coalesce(other.hold_expires_at > strftime('%Y-%m-%d "
            "%H:%M:%f', 'now'), false))) AND other.id <> NEW.id\n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            '    SELECT NEW.starts_at AS t\n'
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.unit_id AND (b.status = 'confirmed' OR (b.status = "
            "'pending' AND coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), "
            'false))) AND b.id <> NEW.id\n'
            '      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at\n'
            ') AS instant)\n'
            ' >= (SELECT desks FROM units WHERE id = NEW.unit_id);\n'
            'END\n',
            '\n'
            'CREATE TRIGGER closures_leave_bookings_insert\n'
            'BEFORE INSERT ON closures\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND (bookings.status = '
            "'confirmed' OR (bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > "
            "strftime('%Y-%m-%d %H:%M:%f', 'now'), false)))\n"
            "          AND starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') AND starts_at < "
            'NEW.ends_at AND ends_at > NEW.starts_at\n'
            '    );\n'
            'END\n',
            '\n'
            'CREATE TRIGGER closures_leave_bookings_update\n'
            'BEFORE UPDATE ON closures\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'closed') WHERE EXISTS (\n"
            '        SELECT 1 FROM bookings WHERE unit_id = NEW.unit_id AND (bookings.status = '
            "'confirmed' OR (bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > "
            "strftime('%Y-%m-%d %H:%M:%f', 'now'), false)))\n"
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
            "    WHERE other.unit_id = NEW.id AND (other.status = 'confirmed' OR (other.status = "
            "'pending' AND coalesce(other.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), "
            'false))) \n'
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            "    SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS t\n"
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.id AND (b.status = 'confirmed' OR (b.status = 'pending' AND "
            "coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), false))) \n"
            "      AND b.starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') \n"
            ') AS instant)\n'
            ' > NEW.desks;\n'
            'END\n',
            'CREATE TRIGGER bookings_count_insert AFTER INSERT ON bookings BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER bookings_count_update AFTER UPDATE OF status, hold_expires_at, '
            'starts_at, ends_at, unit_id ON bookings BEGIN UPDATE units SET changes = changes + 1 '
            'WHERE id = NEW.unit_id; END',
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
# The rules and counters of the revision before (frozen, for the downgrade).
OLD_RULES = {'postgresql': ['\n'
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
OLD_DROPS = {'postgresql': ['DROP TRIGGER IF EXISTS bookings_count_change ON bookings',
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


def _dialect():
    return op.get_bind().dialect.name


def upgrade():
    for statement in OLD_DROPS[_dialect()]:
        op.execute(statement)
    for statement in NEW_RULES[_dialect()]:
        op.execute(statement)


def downgrade():
    for statement in NEW_DROPS[_dialect()]:
        op.execute(statement)
    for statement in OLD_RULES[_dialect()]:
        op.execute(statement)
