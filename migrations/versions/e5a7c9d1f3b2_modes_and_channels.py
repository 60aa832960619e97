"""modes and channels: phone and video appointments, remote lines, invitation links

A waiting-list entry has a mode, a number to call, and a first day that suits. A booking has a mode (on site, by phone, by video), a channel (online, staff, invitation,
partner API, waiting list), the agent who booked it or invited its citizen, and for a video
appointment a secret room. A unit has remote lines (0 by default: no remote appointment), a
reason the modes it allows. The capacity rule counts, at each instant, the bookings that
draw on the same capacity (desks on site, lines by phone and video) against it; lowering
the lines is refused as lowering the desks is. Invitation links name a unit, a reason and a
mode, for one booking.

Revision ID: e5a7c9d1f3b2
Revises: d4f9a6b7c8e0
Create Date: 2026-12-07

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5a7c9d1f3b2'
down_revision = 'd4f9a6b7c8e0'
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
                "    SELECT CASE WHEN NEW.mode = 'on_site' THEN desks ELSE remote_lines END INTO "
                'unit_desks\n'
                '        FROM units WHERE id = NEW.unit_id FOR UPDATE;\n'
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
                "          AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' "
                "END) = (CASE WHEN NEW.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END)\n"
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT NEW.starts_at AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.unit_id AND (bookings.status = 'confirmed' OR "
                "(bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > now(), "
                'false))) AND id <> NEW.id\n'
                "          AND (CASE WHEN bookings.mode = 'on_site' THEN 'desks' ELSE "
                "'remote_lines' END) = (CASE WHEN NEW.mode = 'on_site' THEN 'desks' ELSE "
                "'remote_lines' END)\n"
                '          AND starts_at > NEW.starts_at AND starts_at < NEW.ends_at\n'
                '    ) AS instant;\n'
                '\n'
                '    IF peak >= unit_desks THEN\n'
                "        RAISE EXCEPTION 'overbooking: unit % has % seats of its %, all taken', "
                'NEW.unit_id,\n'
                "            unit_desks, (CASE WHEN NEW.mode = 'on_site' THEN 'desks' ELSE "
                "'remote_lines' END) USING ERRCODE = 'check_violation';\n"
                '    END IF;\n'
                '    RETURN NEW;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                'CREATE TRIGGER bookings_within_desks BEFORE INSERT OR UPDATE OF status, '
                'hold_expires_at, starts_at, ends_at, unit_id, mode ON bookings FOR EACH ROW '
                'EXECUTE FUNCTION bookings_within_desks()',
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
                '    IF NEW.desks < OLD.desks THEN\n'
                '        \n'
                '    SELECT coalesce(max((\n'
                '        SELECT count(*) FROM bookings AS other\n'
                "        WHERE other.unit_id = NEW.id AND (other.status = 'confirmed' OR "
                "(other.status = 'pending' AND coalesce(other.hold_expires_at > now(), false))) \n"
                "          AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' "
                "END) = 'desks'\n"
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT now() AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.id AND (bookings.status = 'confirmed' OR "
                "(bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > now(), "
                'false))) \n'
                "          AND (CASE WHEN bookings.mode = 'on_site' THEN 'desks' ELSE "
                "'remote_lines' END) = 'desks'\n"
                "          AND starts_at > now() AND starts_at < 'infinity'::timestamptz\n"
                '    ) AS instant;\n'
                '\n'
                '        IF peak > NEW.desks THEN\n'
                "            RAISE EXCEPTION 'overbooking: unit % has % visits at once, more than "
                "% desks',\n"
                "                NEW.id, peak, NEW.desks USING ERRCODE = 'check_violation';\n"
                '        END IF;\n'
                '    END IF;\n'
                '    IF NEW.remote_lines < OLD.remote_lines THEN\n'
                '        \n'
                '    SELECT coalesce(max((\n'
                '        SELECT count(*) FROM bookings AS other\n'
                "        WHERE other.unit_id = NEW.id AND (other.status = 'confirmed' OR "
                "(other.status = 'pending' AND coalesce(other.hold_expires_at > now(), false))) \n"
                "          AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' "
                "END) = 'remote_lines'\n"
                '          AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
                '    )), 0) INTO peak\n'
                '    FROM (\n'
                '        SELECT now() AS t\n'
                '        UNION\n'
                '        SELECT starts_at FROM bookings\n'
                "        WHERE unit_id = NEW.id AND (bookings.status = 'confirmed' OR "
                "(bookings.status = 'pending' AND coalesce(bookings.hold_expires_at > now(), "
                'false))) \n'
                "          AND (CASE WHEN bookings.mode = 'on_site' THEN 'desks' ELSE "
                "'remote_lines' END) = 'remote_lines'\n"
                "          AND starts_at > now() AND starts_at < 'infinity'::timestamptz\n"
                '    ) AS instant;\n'
                '\n'
                '        IF peak > NEW.remote_lines THEN\n'
                "            RAISE EXCEPTION 'overbooking: unit % has % visits at once, more than "
                "% remote_lines',\n"
                '                NEW.id, peak, NEW.remote_lines USING ERRCODE = '
                "'check_violation';\n"
                '        END IF;\n'
                '    END IF;\n'
                '    RETURN NEW;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                'CREATE TRIGGER units_desks_cover_bookings BEFORE UPDATE OF desks, remote_lines ON '
                'units FOR EACH ROW EXECUTE FUNCTION units_desks_cover_bookings()',
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
                'hold_expires_at, starts_at, ends_at, unit_id, mode OR DELETE ON bookings FOR EACH '
                'ROW EXECUTE FUNCTION units_count_change()',
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
            "      AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = "
            "(CASE WHEN NEW.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END)\n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            '    SELECT NEW.starts_at AS t\n'
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.unit_id AND (b.status = 'confirmed' OR (b.status = "
            "'pending' AND coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), "
            'false))) \n'
            "      AND (CASE WHEN b.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = (CASE "
            "WHEN NEW.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END)\n"
            '      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at\n'
            ') AS instant)\n'
            " >= (SELECT (CASE WHEN NEW.mode = 'on_site' THEN units.desks ELSE units.remote_lines "
            'END) FROM units WHERE id = NEW.unit_id);\n'
            'END\n',
            '\n'
            'CREATE TRIGGER bookings_within_desks_update\n'
            'BEFORE UPDATE OF status, hold_expires_at, starts_at, ends_at, unit_id, mode ON '
            'bookings\n'
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
            "      AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = "
            "(CASE WHEN NEW.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END)\n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            '    SELECT NEW.starts_at AS t\n'
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.unit_id AND (b.status = 'confirmed' OR (b.status = "
            "'pending' AND coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), "
            'false))) AND b.id <> NEW.id\n'
            "      AND (CASE WHEN b.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = (CASE "
            "WHEN NEW.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END)\n"
            '      AND b.starts_at > NEW.starts_at AND b.starts_at < NEW.ends_at\n'
            ') AS instant)\n'
            " >= (SELECT (CASE WHEN NEW.mode = 'on_site' THEN units.desks ELSE units.remote_lines "
            'END) FROM units WHERE id = NEW.unit_id);\n'
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
            "      AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = "
            "'desks'\n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            "    SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS t\n"
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.id AND (b.status = 'confirmed' OR (b.status = 'pending' AND "
            "coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), false))) \n"
            "      AND (CASE WHEN b.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = "
            "'desks'\n"
            "      AND b.starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') \n"
            ') AS instant)\n'
            ' > NEW.desks;\n'
            'END\n',
            '\n'
            'CREATE TRIGGER units_remote_lines_cover_bookings\n'
            'BEFORE UPDATE OF remote_lines ON units\n'
            'WHEN NEW.remote_lines < OLD.remote_lines\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'overbooking')\n"
            '    WHERE \n'
            '(SELECT coalesce(max((\n'
            '    SELECT count(*) FROM bookings AS other\n'
            "    WHERE other.unit_id = NEW.id AND (other.status = 'confirmed' OR (other.status = "
            "'pending' AND coalesce(other.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), "
            'false))) \n'
            "      AND (CASE WHEN other.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = "
            "'remote_lines'\n"
            '      AND other.starts_at <= instant.t AND other.ends_at > instant.t\n'
            ')), 0)\n'
            'FROM (\n'
            "    SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS t\n"
            '    UNION\n'
            '    SELECT starts_at FROM bookings AS b\n'
            "    WHERE b.unit_id = NEW.id AND (b.status = 'confirmed' OR (b.status = 'pending' AND "
            "coalesce(b.hold_expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'), false))) \n"
            "      AND (CASE WHEN b.mode = 'on_site' THEN 'desks' ELSE 'remote_lines' END) = "
            "'remote_lines'\n"
            "      AND b.starts_at > strftime('%Y-%m-%d %H:%M:%f', 'now') \n"
            ') AS instant)\n'
            ' > NEW.remote_lines;\n'
            'END\n',
            'CREATE TRIGGER bookings_count_insert AFTER INSERT ON bookings BEGIN UPDATE units SET '
            'changes = changes + 1 WHERE id = NEW.unit_id; END',
            'CREATE TRIGGER bookings_count_update AFTER UPDATE OF status, hold_expires_at, '
            'starts_at, ends_at, unit_id, mode ON bookings BEGIN UPDATE units SET changes = '
            'changes + 1 WHERE id = NEW.unit_id; END',
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
            'DROP TRIGGER IF EXISTS units_desks_cover_bookings',
            'DROP TRIGGER IF EXISTS units_remote_lines_cover_bookings']}
# The rules and counters of the revision before (frozen, for the downgrade).
OLD_RULES = {'postgresql': ['\n'
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


def _now():
    """Now, as each engine stores instants (SQLite: naive UTC text)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%d %H:%M:%S.%f") if _dialect() == "sqlite" else now


def upgrade():
    # The triggers go first: on SQLite a batch rebuilds the tables they name.
    for statement in OLD_DROPS[_dialect()]:
        op.execute(statement)
    with op.batch_alter_table('units') as batch:
        batch.add_column(sa.Column('remote_lines', sa.SmallInteger(), server_default='0', nullable=False))
        batch.create_check_constraint('units_remote_lines_positive', 'remote_lines >= 0')
    with op.batch_alter_table('reasons') as batch:
        batch.add_column(sa.Column('modes', sa.String(length=40), server_default='on_site', nullable=False))
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('mode', sa.String(length=8), server_default='on_site', nullable=False))
        batch.add_column(sa.Column('channel', sa.String(length=12), server_default='online', nullable=False))
        batch.add_column(sa.Column('video_room', sa.String(length=64), server_default='', nullable=False))
        batch.add_column(sa.Column('booked_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_bookings_booked_by_id_staff_users', 'staff_users', ['booked_by_id'], ['id'],
            ondelete='SET NULL',
        )
        batch.create_check_constraint('bookings_mode', "mode IN ('on_site', 'phone', 'video')")
        batch.create_check_constraint(
            'bookings_channel',
            "channel IN ('online', 'staff', 'invitation', 'partner_api', 'waitlist')",
        )
    with op.batch_alter_table('waitlist_entries') as batch:
        batch.add_column(sa.Column('since', sa.Date(), nullable=True))
        batch.add_column(sa.Column('mode', sa.String(length=8), server_default='on_site', nullable=False))
        batch.add_column(sa.Column('phone', sa.String(length=20), server_default='', nullable=False))
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('reason_code', sa.String(length=40), nullable=False),
        sa.Column('mode', sa.String(length=8), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reason_code'], ['reasons.code']),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
        sa.UniqueConstraint('booking_id'),
    )
    op.create_index('ix_invitations_unit_id', 'invitations', ['unit_id'])
    for statement in NEW_RULES[_dialect()]:
        op.execute(statement)


def downgrade():
    # Without modes, a phone or video appointment still to come would become a visit at a
    # desk the unit may not have: refuse, and say which, rather than overbook.
    remote = op.get_bind().execute(sa.text(
        "SELECT reference FROM bookings WHERE mode <> 'on_site'"
        " AND status IN ('confirmed', 'pending') AND ends_at > :now"
    ), {"now": _now()}).scalars().all()
    if remote:
        raise RuntimeError(
            "Rendez-vous par téléphone ou en visio à venir : "
            + ", ".join(remote[:20])
            + " ; annulez-les ou attendez qu'ils soient passés avant de revenir en arrière."
        )
    for statement in NEW_DROPS[_dialect()]:
        op.execute(statement)
    op.drop_index('ix_invitations_unit_id', table_name='invitations')
    op.drop_table('invitations')
    with op.batch_alter_table('bookings') as batch:
        batch.drop_constraint('bookings_channel', type_='check')
        batch.drop_constraint('bookings_mode', type_='check')
        batch.drop_constraint('fk_bookings_booked_by_id_staff_users', type_='foreignkey')
        batch.drop_column('booked_by_id')
        batch.drop_column('video_room')
        batch.drop_column('channel')
        batch.drop_column('mode')
    with op.batch_alter_table('waitlist_entries') as batch:
        batch.drop_column('phone')
        batch.drop_column('mode')
        batch.drop_column('since')
    with op.batch_alter_table('reasons') as batch:
        batch.drop_column('modes')
    with op.batch_alter_table('units') as batch:
        batch.drop_constraint('units_remote_lines_positive', type_='check')
        batch.drop_column('remote_lines')
    for statement in OLD_RULES[_dialect()]:
        op.execute(statement)
