"""Backups of everything the service holds, and restoring one.

``flask --app qa_audit backup PATH`` writes one archive; ``restore --yes PATH`` puts
it back. What is kept is the database and the evidence files the database lists
(evidence files live on disk, not in the database: a backup without them would list
files nobody can open).

The archive (backup format 1) is a gzip-compressed tar file holding, in this order:

``database.sqlite`` or ``database.dump``
    The database. SQLite: a copy made with SQLite's online backup API, consistent
    even while the app writes (it reads one snapshot of the WAL database).
    PostgreSQL: ``pg_dump --format=custom``, taken in a snapshot exported from a
    transaction that counts the rows in the same snapshot.
``evidence/<storage key>``
    Each evidence file listed in that snapshot of the database, byte for byte, under
    its storage key (the name it has in the evidence folder).
``manifest.json``
    What the archive holds: ``format`` ("qa_audit backup"), ``format_version`` (1),
    ``app_version``, ``created_at`` (UTC, ISO 8601), ``database`` ("sqlite" or
    ``"postgresql"``), ``database_version``, ``schema`` (PostgreSQL only),
    ``alembic_revision`` (the database's migration), ``tables`` (rows in each table),
    ``evidence`` (``files``, ``bytes`` and ``missing``: storage keys the database
    listed that were not in the folder) and ``members`` (each other member's
    ``sha256`` and ``bytes``).

Restoring checks all of that before it changes anything: every member is listed and
matches its checksum, nothing else is in the archive, the database is of the kind the
app uses, and its migration is one this code knows. Then the database is replaced
(SQLite: the backup API copies the file in, in one step; PostgreSQL: ``pg_restore``
piped into ``psql`` in one transaction that also checks the rows restored against the
manifest, so a failure leaves the database as it was), the evidence folder is made to
hold exactly the backup's files, and the migrations run up to the newest.

The checksums find a damaged or altered archive; they do not prove who made it. Keep
backups where only the people who run the service can change them, encrypted.

archive.py writes and reads the archive and runs a restore; sqlite.py and postgres.py
copy each kind of database out and back; common.py holds what they share.
"""

from qa_audit.backup.archive import backup, restore
from qa_audit.backup.common import (
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    KIND_LABELS,
    BackupError,
    BackupResult,
    RestoreResult,
    plural,
    size_label,
)
from qa_audit.backup.postgres import libpq_connection, pg_tool

__all__ = [
    "DATABASE_MEMBERS",
    "FORMAT",
    "FORMAT_VERSION",
    "KIND_LABELS",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "backup",
    "libpq_connection",
    "pg_tool",
    "plural",
    "restore",
    "size_label",
]
