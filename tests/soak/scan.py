"""No card number or CVC at rest or in logs: a scan for the cards the harness was shown.

Every card number the harness saw (issued virtual cards, the people's funding card) is
searched in every file the wallets and the database server wrote (databases, WAL files,
logs), digits run together or in groups of four; every CVC next to the word ``cvc`` in
those files; and in the database, every text value is searched for the numbers and compared
with the CVCs (a CVC alone is three digits: only a value equal to it counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from tests.support.wallet import DEFAULT_CARD

from .cluster import Cluster
from .rounds import Round

DIGIT_RUN = re.compile(rb"\d{16,19}")
GROUPED = re.compile(rb"\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}")
# A CVC as a key/value would write it: "cvc": "123", cvc=123, [cvc]=123 (also URL-encoded).
CVC_VALUE = re.compile(rb"cvc(?:%5d|\])?[\"'\s]*[:=]\s*[\"']?(\d{3,4})(?!\d)")


def _files(roots: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return found


def _numbers_in(data: bytes, numbers: set[bytes]) -> set[bytes]:
    hits: set[bytes] = set()
    for match in DIGIT_RUN.finditer(data):
        run = match.group()
        for start in range(len(run) - 15):
            window = run[start : start + 16]
            if window in numbers:
                hits.add(window)
    for match in GROUPED.finditer(data):
        compact = re.sub(rb"[ -]", b"", match.group())
        if compact in numbers:
            hits.add(compact)
    return hits


def _cvcs_in(data: bytes, cvcs: set[bytes]) -> set[bytes]:
    return {m.group(1) for m in CVC_VALUE.finditer(data.lower()) if m.group(1) in cvcs}


def _stored_text(cluster: Cluster) -> list[str]:
    """Every text value of every table of the cluster's database."""
    values: list[str] = []
    if cluster.backend == "sqlite":
        import sqlite3

        assert cluster.sqlite_file is not None
        connection = sqlite3.connect(f"file:{cluster.sqlite_file}?mode=ro", uri=True)
        try:
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for (table,) in tables.fetchall():
                for row in connection.execute(f'SELECT * FROM "{table}"'):  # our own tables
                    values.extend(v for v in row if isinstance(v, str))
        finally:
            connection.close()
        return values
    url = make_url(cluster.url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        listing = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        for (table,) in connection.execute(listing).fetchall():
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # our own tables
                values.extend(str(v) for v in row if isinstance(v, str | dict | list))
    return values


def scan_at_rest(r: Round, extra_roots: Iterable[Path] = ()) -> None:
    """Search the cluster's files, ``extra_roots`` and its database for the known cards."""
    cluster = r.cluster
    cards = set(cluster.known_cards) | {(DEFAULT_CARD["number"], DEFAULT_CARD["cvc"])}
    numbers = {number.encode() for number, _ in cards}
    cvcs = {cvc.encode() for _, cvc in cards}
    files = _files([cluster.root, *extra_roots])
    scanned = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file that vanished (a server's temporary file)
        scanned += 1
        for number in _numbers_in(data, numbers):
            r.check(False, f"card number ····{number[-4:].decode()} in clear in {path}")
        for cvc in _cvcs_in(data, cvcs):
            r.check(False, f"a CVC ({len(cvc)} digits) written as a cvc value in {path}")
    stored = _stored_text(cluster)
    text_cvcs = {c.decode() for c in cvcs}
    for value in stored:
        if value in text_cvcs:
            r.check(False, "a CVC stored in clear in the database")
    for number in _numbers_in("\n".join(stored).encode(), numbers):
        r.check(False, f"card number ····{number[-4:].decode()} stored in clear in the database")
    r.attempt(len(cards))
    r.tally.note("files scanned", scanned)
    r.tally.note("values scanned", len(stored))
