"""A full disk under a SQLite install, for real: a small tmpfs filled to its last byte, then freed.

Writing (a lesson view records progress) gets the app's 503 page with Retry-After, pages that
only read go on, writing comes back without a restart once there is room, and a server started
while the disk is full starts and serves reads (SQLite could not even open its -shm file).
The tests mount a tmpfs, which needs root, as the suite runs (CI runs as root too).
"""

import html
import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from tests.test_serve import Served, install, login

WAL_LIMIT = 256 * 1024


class Disk:
    """A small file system of its own (tmpfs) that can be filled to the last byte and freed again."""

    def __init__(self, path: Path):
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        """Take every free byte (in ever smaller writes, down to one byte)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (1 << 20, 1 << 16, 4096, 512, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == 28  # ENOSPC
        finally:
            os.close(fd)
        assert os.statvfs(self.path).f_bavail == 0

    def free(self) -> None:
        """Give the space back."""
        self.filler.unlink()


@pytest.fixture
def disk(tmp_path):
    """A 48 MB tmpfs mounted for this test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    try:
        yield Disk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def empty_the_wal(database: Path) -> None:
    """Copy the WAL into the file and cut it to nothing: the next write needs new space."""
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def views(database: Path) -> int:
    """How many lesson views are recorded, in all."""
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute("SELECT coalesce(sum(view_count), 0) FROM lesson_progress").fetchone()[0]


def test_a_full_disk_refuses_writes_with_the_503_page_keeps_reads_and_recovers_without_a_restart(disk, tmp_path):
    env = install(disk.path, ALLIANCE_SQLITE_WAL_MAX_BYTES=str(WAL_LIMIT))
    database = disk.path / "alliance.sqlite"
    with Served(env, tmp_path, 2) as server:
        learner = login(server.port, "a@example.org")
        lesson = server.lesson_path()
        assert learner.request("GET", lesson)[0] == 200
        empty_the_wal(database)
        disk.fill()

        status, headers, page = learner.request("GET", lesson)  # viewing the lesson records progress: a write
        assert status == 503, page[:300]
        assert int(headers["Retry-After"]) >= 30 and headers["Cache-Control"] == "no-store"
        assert "the server's disk is full, so nothing was saved" in html.unescape(page)
        assert "Pages that only show things still work" in page and "Traceback" not in page
        for _ in range(3):  # both workers, again and again: reads go on, still signed in
            status, _, page = learner.request("GET", "/learn/progress")
            assert status == 200 and "Ann" in page
        assert learner.request("GET", lesson)[0] == 503

        disk.free()  # no restart
        assert [learner.request("GET", lesson)[0] for _ in range(4)] == [200] * 4
        assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text()


def test_a_server_started_on_a_full_disk_serves_reads_and_writes_once_there_is_room(disk, tmp_path):
    env = install(disk.path)
    database = disk.path / "alliance.sqlite"
    empty_the_wal(database)
    with Served(env, tmp_path, 1) as server:
        learner = login(server.port, "a@example.org")
        lesson = server.lesson_path()
        assert learner.request("GET", lesson)[0] == 200
    # The last connection to close (here `sqlite3`, as an operator's backup or check would) removes the -wal
    # and -shm files: SQLite needs room to make them again before it can read anything.
    empty_the_wal(database)
    assert not database.with_name("alliance.sqlite-shm").exists()
    disk.fill()

    with Served(env, tmp_path, 2) as server:  # it starts: the sign-in page answers
        learner.base = f"http://127.0.0.1:{server.port}"
        for _ in range(3):
            status, _, page = learner.request("GET", "/learn/progress")
            assert status == 200 and "Ann" in page
        status, headers, page = learner.request("GET", lesson)
        assert status == 503 and "nothing was saved" in page and int(headers["Retry-After"]) >= 30

        disk.free()
        assert [learner.request("GET", lesson)[0] for _ in range(4)] == [200] * 4
        assert views(database) == 5  # the one before the disk filled, none while full, four after
        assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text()
