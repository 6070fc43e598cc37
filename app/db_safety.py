"""SQLite safety: a migration never leaves the file half-changed, and a full disk never lets the WAL grow without bound.

Migrations: a copy is taken first and put back if the migration does not finish.

SQLite commits each schema change at once (the driver runs DDL outside any transaction), so a
migration stopped part-way, by an error or a kill -9, used to leave tables half-changed where
no later upgrade could go on ("_alembic_tmp_user already exists"). Now, before any change,
`alliance db upgrade` (and downgrade) copies the file through SQLite's backup API to
`<file>.before-upgrade`, written whole under a temporary name and then renamed, so that name
exists only for a complete copy. The copy is removed once the migration has finished. If the
migration fails, the copy is put back at once; if the process was killed, the next upgrade or
downgrade finds the copy, puts it back, says so, and runs again. PostgreSQL needs none of
this: there, the whole migration is one transaction.

The write-ahead log (WAL): changes go to `<file>-wal` and are copied into the file by checkpoints.
When the file cannot take them (a full disk), every checkpoint fails and the WAL used to grow
until the disk was full. `bound_wal` refuses to commit while the WAL holds more than its limit
that no checkpoint could copy (the person sees the 503 page; reading goes on), and checks again
with a checkpoint at each transaction, so writing resumes by itself once there is room.

A full disk at start-up: SQLite needs room for its shared-memory file (`<file>-shm`, 32 KiB)
before it can read a database in WAL mode, and removes that file when its last connection
closes; so after a restart on a full disk every read failed ("disk I/O error"). When there is
no room and no unsaved WAL, a connection opens the file read-only as immutable (no -shm, no
-wal, no locks: correct because nobody can write either); it serves every page that only
reads, and any write gets the 503 page. Such a connection is replaced by an ordinary one as
soon as there is room again (or another process wrote a WAL), at its next checkout: no restart.
"""

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DisconnectionError, OperationalError

SUFFIX = ".before-upgrade"
#: Free bytes below which a file system counts as full for SQLite: its -shm file takes 32 KiB, the WAL a page or more.
ROOM = 64 * 1024
#: Marks a pooled connection opened read-only because the disk was full.
IMMUTABLE = "alliance.immutable"
#: SQLite's default page size, which Alliance's databases keep, and the header of each page in the WAL.
PAGE_SIZE, WAL_FRAME_HEADER = 4096, 24


class MigrationUndone(RuntimeError):
    """A migration failed and the database was put back as it was before it; the message says what to do."""


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite database URL, or None for other databases and in-memory ones."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return None  # a URI filename (shared memory and the like): no single file to copy
    return Path(url.database).resolve()


def backup_path(database: Path) -> Path:
    """Where the copy taken before a migration is kept while the migration runs."""
    return database.with_name(database.name + SUFFIX)


def _copy(source: Path, target: Path) -> None:
    """Copy a SQLite database into another file through SQLite's backup API (a consistent snapshot)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sync(path: Path) -> None:
    """Ask the operating system to put a file (or folder) on disk now."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _put_back(database: Path, backup: Path) -> None:
    """Restore the database from the copy, then remove the copy."""
    try:
        _copy(backup, database)
    except sqlite3.Error as exc:
        raise MigrationUndone(
            f"The database {database} could not be put back from the copy taken before the migration ({exc}). "
            f"Stop Alliance, then replace {database} with {backup} (and remove {database.name}-wal and "
            f"{database.name}-shm beside it)."
        ) from None
    backup.unlink()


def recover(database: Path) -> bool:
    """Put back a database whose last migration never finished (a copy is still there); whether one was."""
    backup = backup_path(database)
    backup.with_name(backup.name + ".partial").unlink(missing_ok=True)  # a copy cut short: the file was untouched
    if not backup.exists():
        return False
    _put_back(database, backup)
    _say(
        f"The last upgrade or downgrade of {database} did not finish (it was stopped part-way). The database "
        "was put back as it was before it, from the copy taken first: nothing in it was lost. Going on now."
    )
    return True


@contextmanager
def restore_point(engine: Engine) -> Iterator[Callable[[], None]]:
    """Around a migration of a SQLite file: yields `take_copy`, to call before the first change.

    Once the copy is taken, the database is put back from it if the block does not finish.
    Commands that change nothing (`alliance db current`) never call it, so copy nothing.
    """
    database = sqlite_file(engine.url)
    copied = False

    def take_copy() -> None:
        nonlocal copied
        if database is None or copied:
            return
        recover(database)
        backup = backup_path(database)
        partial = backup.with_name(backup.name + ".partial")
        try:
            _copy(database, partial)
            _sync(partial)
            os.replace(partial, backup)
            _sync(backup.parent)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise MigrationUndone(
                f"No copy of {database} could be made before migrating ({exc}), so nothing was changed. "
                "The copy needs as much free space as the database takes: free some, then run the command again."
            ) from None
        copied = True

    try:
        yield take_copy
    except BaseException:
        if copied:
            engine.dispose()  # the migration's connection, closed before the file is put back
            _put_back(database, backup_path(database))
            _say(
                f"The migration of {database} did not finish, so the database was put back as it was before it: "
                "nothing was changed. The reason follows."
            )
        raise
    if copied:
        backup_path(database).unlink()


def bound_wal(engine: Engine, max_bytes: int) -> None:
    """For a SQLite file: refuse to commit while the WAL holds more than `max_bytes` no checkpoint could copy.

    The WAL then stays within `max_bytes` and one transaction; once the file can take the
    changes again, the first checkpoint lets writing resume. Also sets the WAL's pragmas
    (wal_autocheckpoint, journal_size_limit) to fit the limit.
    """
    database = sqlite_file(engine.url)
    if database is None:
        return
    wal = database.with_name(database.name + "-wal")
    # Checkpoints at SQLite's default (every 1000 pages, about 4 MB) or a quarter of the limit, if
    # less; a WAL that grew (a long read held checkpoints back) is cut back to at most 32 MB (or a
    # quarter of the limit) once checkpointed, rather than kept at its largest.
    checkpoint_pages = max(1, min(1000, max_bytes // 4 // PAGE_SIZE))
    truncate_to = min(32 * 1024 * 1024, max_bytes // 4)

    read_while_full(engine, database)

    @event.listens_for(engine, "connect")
    def _wal_pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
        dbapi_connection.execute(f"PRAGMA journal_size_limit={truncate_to}")

    @event.listens_for(engine, "begin")
    def _note_unmoved_wal(connection) -> None:
        try:
            size = wal.stat().st_size
        except FileNotFoundError:
            size = 0
        if size > max_bytes:
            # The file's size is not the whole story: a WAL already copied into the database is
            # only reused (and cut back) by the next write. A passive checkpoint, which waits for
            # nobody, copies what it can now and tells what is left; on a full disk it fails.
            try:
                _busy, frames, moved = connection.connection.dbapi_connection.execute(
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).fetchone()
                size = max(0, frames - moved) * (PAGE_SIZE + WAL_FRAME_HEADER)
            except sqlite3.Error:
                pass
        connection.info["alliance.unmoved_wal"] = size

    @event.listens_for(engine, "commit")
    def _refuse_when_over(connection) -> None:
        # Judged by the WAL as the transaction found it: earlier commits no checkpoint could copy
        # into the file. A single large transaction (a migration) may still pass the limit.
        size = connection.info.pop("alliance.unmoved_wal", 0)
        if size > max_bytes:
            reason = (
                f"the write-ahead log {wal} holds {size} bytes no checkpoint could copy into the database, over "
                f"the limit of {max_bytes} (ALLIANCE_SQLITE_WAL_MAX_BYTES). Is the disk full?"
            )
            raise OperationalError("COMMIT", None, sqlite3.OperationalError(reason))


def no_room(database: Path) -> bool:
    """Whether the file system holding the database has less free space than SQLite needs to open it."""
    try:
        stats = os.statvfs(database.parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < ROOM


def _wal_is_empty(database: Path) -> bool:
    """Whether no WAL holds changes the database file lacks (a missing or empty -wal file)."""
    try:
        return database.with_name(database.name + "-wal").stat().st_size == 0
    except FileNotFoundError:
        return True


def _needs_room(error: sqlite3.Error) -> bool:
    """Whether SQLite failed for want of space (a full disk, or an I/O error making the -shm file)."""
    name = getattr(error, "sqlite_errorname", "")
    return name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR")


def read_while_full(engine: Engine, database: Path) -> None:
    """Open the database read-only (immutable) while the disk is too full to open it otherwise; see the docstring."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, record, cargs, cparams):
        connection = dialect.dbapi.connect(*cargs, **cparams)
        if not no_room(database):
            return connection
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the -shm and -wal
            return connection
        except sqlite3.Error as exc:
            if not (_needs_room(exc) and no_room(database) and _wal_is_empty(database)):
                connection.close()
                raise
        connection.close()
        record.info[IMMUTABLE] = True
        options = {key: value for key, value in cparams.items() if key not in ("database", "uri")}
        return dialect.dbapi.connect(f"{database.as_uri()}?immutable=1", uri=True, **options)

    @event.listens_for(engine, "checkout")
    def _leave_read_only(_dbapi_connection, record, _proxy) -> None:
        if record.info.get(IMMUTABLE) and not (no_room(database) and _wal_is_empty(database)):
            # Room again, or another process wrote: an ordinary connection from now on (the pool reconnects).
            raise DisconnectionError("the disk has room again: reopening the database for writing")
