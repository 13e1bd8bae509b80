"""Evidence files: documents and photos attached to a finding.

The rules:

* Who and when are the same as for recording findings: the audit's auditors or a QA
  lead (admin), while the audit is in progress. Anyone who may see the audit may
  download its files (``can_view_audit``).
* Accepted are PDF, Word (.docx, .doc), Excel (.xlsx, .xls), PNG and JPEG, up to
  ``EVIDENCE_MAX_BYTES`` each. The type is read from the content, never from the
  file's name: ``filetype`` recognises PDF, PNG and JPEG (and everything it knows
  that is refused); Word and Excel files are containers, so the container is opened
  and its parts named (a .docx holds ``word/``, an .xlsx ``xl/``; an old .doc or .xls
  is an OLE compound file holding a ``WordDocument`` or ``Workbook`` stream).
  Files with macros, and password-protected Office files, are refused.
* Files are stored outside the web root, in ``EVIDENCE_FOLDER`` (default
  ``instance/evidence``), each under a random storage key: the name the user gave is
  never part of a path. It is kept, cleaned, only to show and to offer on download.
  A file is written to a temporary name and renamed when complete; a stored file is
  deleted only after the database change that removes its row is committed.
"""

from __future__ import annotations

import io
import math
import os
import re
import secrets
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage

from qa_audit.auth.models import User
from qa_audit.errors import InvalidInput
from qa_audit.extensions import db
from qa_audit.findings.models import EvidenceFile, Finding
from qa_audit.findings.services import check_in_progress, check_recording_allowed

FIELD = "file"


@dataclass(frozen=True)
class Accepted:
    label: str
    extensions: tuple[str, ...]  # the first is added to a name that has none of them


PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ACCEPTED = {
    PDF: Accepted("PDF", ("pdf",)),
    DOCX: Accepted("Word document", ("docx",)),
    DOC: Accepted("Word document", ("doc",)),
    XLSX: Accepted("Excel spreadsheet", ("xlsx",)),
    XLS: Accepted("Excel spreadsheet", ("xls",)),
    PNG: Accepted("PNG image", ("png",)),
    JPEG: Accepted("JPEG image", ("jpg", "jpeg")),
}
ACCEPT_ATTRIBUTE = ",".join(sorted({f".{ext}" for a in ACCEPTED.values() for ext in a.extensions}) + sorted(ACCEPTED))

NO_FILE = "Select a file"
EMPTY = "The selected file is empty"
WRONG_TYPE = "The selected file must be a PDF, Word document, Excel spreadsheet, PNG or JPEG"
MACROS = "The selected file contains macros: save it without macros, as a Word document (.docx) or Excel workbook (.xlsx), and choose that"
PASSWORD = "The selected file is protected with a password: save a copy without the password and choose that"
COULD_NOT_SAVE = "The file could not be saved. Try again later; if it keeps happening, tell your system administrator"

KEY = re.compile(r"[0-9a-f]{64}")  # a storage key: the backup recognises evidence files by it
_SEPARATORS = re.compile(r"[/\\]")
_SPACES = re.compile(r"\s+")
NAME_MAX = 255  # EvidenceFile.filename


class EvidenceUnavailable(Exception):
    """The stored file cannot be written or read (a full disk, a file lost from storage)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# Settings ---------------------------------------------------------------------------


def evidence_folder() -> Path:
    """Where stored files live: ``EVIDENCE_FOLDER`` (relative to the instance folder
    when not absolute), or ``instance/evidence``."""
    configured = current_app.config.get("EVIDENCE_FOLDER")
    instance = Path(current_app.instance_path)
    return instance / configured if configured else instance / "evidence"


def max_bytes() -> int:
    """The largest file accepted: the evidence limit, or the request limit if that is lower."""
    limit = int(current_app.config.get("EVIDENCE_MAX_BYTES") or 10 * 1024 * 1024)
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(limit, int(request_limit)) if request_limit else limit


def limit_label(size: int | None = None) -> str:
    """A limit as GOV.UK writes it in an error message: 10MB, 500KB."""
    size = max_bytes() if size is None else size
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g}MB"
    return f"{math.ceil(size / 1024)}KB"


def too_big_message() -> str:
    return f"The selected file must be smaller than {limit_label()}"


def size_label(size: int) -> str:
    """A file's size for people: 12 KB, 1.4 MB."""
    if size < 1024 * 1024:
        return f"{max(1, math.ceil(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def type_label(content_type: str) -> str:
    accepted = ACCEPTED.get(content_type)
    return accepted.label if accepted else content_type


# What a file is -------------------------------------------------------------------------


class Refused(ValueError):
    """The content is not a file this service accepts; the message says why."""


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
_MAXREGSECT = 0xFFFFFFFA
_ENDOFCHAIN = 0xFFFFFFFE


def sniff(data: bytes) -> str:
    """The content type of these bytes, read from the content alone, or Refused."""
    if data.startswith(OLE_SIGNATURE):
        return _legacy_office_type(data)
    if data.startswith(ZIP_SIGNATURE):
        return _office_open_xml_type(data)
    kind = filetype.guess(data)
    # An animated PNG is a PNG (filetype names it apart).
    mime = PNG if kind is not None and kind.mime == "image/apng" else (kind.mime if kind else None)
    if mime in (PDF, PNG, JPEG):
        return mime
    raise Refused(WRONG_TYPE)


def _office_open_xml_type(data: bytes) -> str:
    """A .docx or .xlsx is a zip of XML parts: a ``[Content_Types].xml`` and the
    document's own folder. Only the zip's directory is read, never its contents."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise Refused(WRONG_TYPE) from None
    if "[Content_Types].xml" not in names:
        raise Refused(WRONG_TYPE)
    word = any(name.startswith("word/") for name in names)
    excel = any(name.startswith("xl/") for name in names)
    if word == excel:  # neither (a plain zip, a PowerPoint, an OpenDocument file), or both
        raise Refused(WRONG_TYPE)
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise Refused(MACROS)
    return DOCX if word else XLSX


def _legacy_office_type(data: bytes) -> str:
    """An old .doc or .xls is an OLE compound file (a small file system) holding a
    ``WordDocument`` or ``Workbook`` (``Book`` before Excel 97) stream. So are
    PowerPoint files, installers and password-protected .docx/.xlsx files: refused."""
    names = ole_entry_names(data)
    if "EncryptedPackage" in names:
        raise Refused(PASSWORD)
    word = "WordDocument" in names
    excel = bool(names & {"Workbook", "Book"})
    if word == excel:
        raise Refused(WRONG_TYPE)
    if names & {"Macros", "_VBA_PROJECT_CUR", "VBA"}:
        raise Refused(MACROS)
    return DOC if word else XLS


def ole_entry_names(data: bytes) -> set[str]:
    """The names of the streams and storages in an OLE compound file (MS-CFB), or
    none when it cannot be read. Reads the header, the sector allocation table and
    the directory chain, with every offset bounds-checked and every chain guarded
    against loops."""
    if len(data) < 512 or not data.startswith(OLE_SIGNATURE):
        return set()
    shift = int.from_bytes(data[30:32], "little")
    if shift not in (9, 12):
        return set()
    size = 1 << shift
    sectors = len(data) // size  # an upper bound on any sector number that can be read

    def sector(number: int) -> bytes | None:
        start = (number + 1) * size
        chunk = data[start : start + size]
        return chunk if len(chunk) == size else None

    def numbers(chunk: bytes) -> tuple[int, ...]:
        return struct.unpack(f"<{len(chunk) // 4}I", chunk)

    # The allocation table's own sectors: 109 listed in the header, then a chain of more.
    fat_sectors = list(numbers(data[76:512]))
    difat, seen = int.from_bytes(data[68:72], "little"), set()
    while difat <= _MAXREGSECT and difat not in seen and len(seen) <= sectors:
        seen.add(difat)
        chunk = sector(difat)
        if chunk is None:
            break
        entries = numbers(chunk)
        fat_sectors.extend(entries[:-1])
        difat = entries[-1]
    fat: list[int] = []
    for number in fat_sectors:
        if number > _MAXREGSECT:
            continue
        chunk = sector(number)
        if chunk is None:
            return set()
        fat.extend(numbers(chunk))

    names: set[str] = set()
    current, seen = int.from_bytes(data[48:52], "little"), set()
    while current <= _MAXREGSECT and current not in seen:
        seen.add(current)
        chunk = sector(current)
        if chunk is None:
            break
        for offset in range(0, size, 128):
            entry = chunk[offset : offset + 128]
            length = int.from_bytes(entry[64:66], "little")
            if entry[66] in (1, 2) and 2 <= length <= 64 and length % 2 == 0:  # a storage or a stream
                names.add(entry[: length - 2].decode("utf-16-le", "replace"))
        current = fat[current] if current < len(fat) else _ENDOFCHAIN
    return names


# Names ------------------------------------------------------------------------------------


def safe_filename(raw: str | None, content_type: str) -> str:
    """The name to show and to offer on download: the last part of what the browser
    sent (some send a whole path), without control or formatting characters (a
    right-to-left override can disguise ``exe.pdf``), no leading dots, at most 255
    characters, and ending in an extension that fits what the content is."""
    name = unicodedata.normalize("NFC", raw or "")
    name = _SEPARATORS.split(name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _SPACES.sub(" ", name).strip().lstrip(".").strip().rstrip(". ")
    accepted = ACCEPTED[content_type]
    stem, dot, extension = name.rpartition(".")
    if not name:
        name = f"evidence.{accepted.extensions[0]}"
    elif not (dot and stem and extension.lower() in accepted.extensions):
        name = f"{name}.{accepted.extensions[0]}"
    if len(name) > NAME_MAX:
        stem, _, extension = name.rpartition(".")
        name = f"{stem[: NAME_MAX - len(extension) - 1].rstrip()}.{extension}"
    return name


# Storing ------------------------------------------------------------------------------


def _path(storage_key: str) -> Path:
    if not KEY.fullmatch(storage_key or ""):
        raise EvidenceUnavailable("This file's storage key is not valid")
    return evidence_folder() / storage_key


def _store(data: bytes) -> str:
    """Write the bytes under a new random key: to a temporary file first, renamed
    when complete, so that a half-written file never has a key's name."""
    folder = evidence_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, folder / key)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return key


def discard(storage_keys: list[str]) -> None:
    """Delete stored files whose rows are gone. Call only after the commit: a file
    left behind by a failure here is harmless, a row without its file is not."""
    for key in storage_keys:
        try:
            _path(key).unlink()
        except FileNotFoundError:
            pass
        except (OSError, EvidenceUnavailable):
            current_app.logger.exception("Could not delete stored evidence file %s", key)


def path_of(evidence: EvidenceFile) -> Path:
    """The stored file's path (for a report that embeds it), or EvidenceUnavailable."""
    path = _path(evidence.storage_key)
    if not path.is_file():
        raise EvidenceUnavailable(_missing(evidence))
    return path


def open_evidence(evidence: EvidenceFile) -> BinaryIO:
    """The stored file, open for reading (the caller closes it), or EvidenceUnavailable."""
    try:
        return open(_path(evidence.storage_key), "rb")
    except OSError:
        current_app.logger.warning("Evidence file %s (%s) is missing from storage", evidence.id, evidence.storage_key)
        raise EvidenceUnavailable(_missing(evidence)) from None


def _missing(evidence: EvidenceFile) -> str:
    return f"The file ‘{evidence.filename}’ is missing from storage. Ask your system administrator to restore it from the backup."


# The rules --------------------------------------------------------------------------------


def _read(upload: FileStorage | bytes | None, filename: str | None) -> tuple[bytes, str | None]:
    """The bytes sent (at most one over the limit, however big the file) and their name."""
    if upload is None:
        raise InvalidInput({FIELD: [NO_FILE]})
    if isinstance(upload, (bytes, bytearray)):
        return bytes(upload[: max_bytes() + 1]), filename
    name = filename if filename is not None else upload.filename
    data = upload.stream.read(max_bytes() + 1)
    if not name and not data:
        raise InvalidInput({FIELD: [NO_FILE]})
    return data, name


def add_evidence(finding: Finding, upload: FileStorage | bytes | None, user: User, *, filename: str | None = None) -> EvidenceFile:
    """Attach a file to a finding: an uploaded FileStorage, or bytes with their filename."""
    check_recording_allowed(finding.audit, user)
    check_in_progress(finding.audit)
    data, name = _read(upload, filename)
    if len(data) > max_bytes():
        raise InvalidInput({FIELD: [too_big_message()]})
    if not data:
        raise InvalidInput({FIELD: [EMPTY]})
    try:
        content_type = sniff(data)
    except Refused as refused:
        raise InvalidInput({FIELD: [str(refused)]}) from None
    try:
        key = _store(data)
    except OSError:
        current_app.logger.exception("Could not store an evidence file for finding %s", finding.id)
        raise EvidenceUnavailable(COULD_NOT_SAVE) from None
    evidence = EvidenceFile(
        finding=finding,
        filename=safe_filename(name, content_type),
        content_type=content_type,
        size=len(data),
        storage_key=key,
        uploaded_by_id=user.id,
    )
    db.session.add(evidence)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        discard([key])
        raise
    return evidence


def remove_evidence(evidence: EvidenceFile, user: User) -> None:
    """Remove a file from its finding while the audit is in progress (the history
    keeps a record of it; the stored file is deleted once the row is gone)."""
    audit = evidence.finding.audit
    check_recording_allowed(audit, user)
    check_in_progress(audit)
    key = evidence.storage_key
    db.session.delete(evidence)
    db.session.commit()
    discard([key])
