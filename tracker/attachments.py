"""The attachment store: files attached to records, kept outside the web root.

- ``check_upload(storage, data, allowed, max_bytes)`` decides what a file is from its
  content (magic bytes and structure; the name is never trusted): PDF, PNG, JPEG or an Excel
  workbook (.xlsx: a real zip archive with the workbook's parts, checked by
  ``exports.upload_safety``). It raises ``UploadRefused`` with a message for the form, and
  returns a ``CheckedFile`` (sanitised name, type, size, sha256, bytes) otherwise.
- ``write(checked)`` stores the bytes under a name the server chooses (random, never the
  user's) in ``ATTACHMENTS_DIR``, atomically (a temporary file in the same directory, flushed
  to disk, then renamed), and returns its storage key. A file written in a transaction that
  is rolled back is deleted; a file removed in a transaction is only deleted once it commits
  (see ``_after_commit`` / ``_after_rollback``), so the disk follows the database.
- ``path_of(key)`` is where a stored file is, for sending it; ``stored_name(key)`` the same
  below the store's root, ``write_whole`` the atomic write (the backup's restore uses both).
"""
import hashlib
import io
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from exports.upload_safety import XLSX_CONTENT_TYPE, UploadLimits, UploadRefused, check_xlsx

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = XLSX_CONTENT_TYPE
EVIDENCE_TYPES = (PDF, PNG, JPEG, XLSX)
SIGNED_MINUTES_TYPES = (PDF,)
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", XLSX: ".xlsx"}
MAX_FILES_PER_UPLOAD = 5

__all__ = ["UploadRefused", "CheckedFile", "check_upload", "check_uploads", "write",
           "path_of", "stored_name", "write_whole", "human_size"]


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def human_size(n):
    """A size as people read it: "820 bytes", "12 KB", "1.2 MB"."""
    if n is None:
        return ""
    if n < 1024:
        return _("%(num)d bytes", num=n)
    if n < 1024 * 1024:
        return _("%(num)s KB", num=f"{n / 1024:.0f}")
    return _("%(num)s MB", num=f"{n / (1024 * 1024):.1f}")


def sniff(data: bytes):
    """The content type ``data`` is by its content, or None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return XLSX  # confirmed, or refused, by check_xlsx
    return None


_UNSAFE = re.compile(r"[^\w\s.()\-]+", re.UNICODE)


def clean_filename(name, content_type):
    """The uploader's name, made safe to show and to send back: the last path part only, no
    control or punctuation characters but ``. - ( )``, at most 120 characters, and the
    extension of what the file is (a PNG named ``order.pdf`` becomes ``order.png``)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _UNSAFE.sub("_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" ._") or _("attachment")
    return stem[:120] + EXTENSIONS[content_type]


def display_name(name):
    """The name as the user gave it, for a message: last path part, no control characters."""
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")[:120]


def _allowed_message(allowed):
    if allowed == SIGNED_MINUTES_TYPES:
        return _("The signed minutes must be a PDF file. This file is not a PDF by its "
                 "content, whatever its name says.")
    return _("Only PDF, PNG, JPEG and Excel workbook (.xlsx) files can be attached. This file "
             "is none of these by its content, whatever its name says.")


def check_upload(storage, allowed=EVIDENCE_TYPES, max_bytes=None):
    """Read and check one uploaded file (a Werkzeug ``FileStorage``); raise ``UploadRefused``
    or return a ``CheckedFile``. Nothing is written."""
    max_bytes = max_bytes or int(current_app.config["MAX_ATTACHMENT_BYTES"])
    original = storage.filename or ""
    data = storage.read(max_bytes + 1)
    label = display_name(original) or _("The file")
    if not data:
        raise UploadRefused(_("%(name)s: the file is empty.", name=label))
    if len(data) > max_bytes:
        raise UploadRefused(
            _("%(name)s is larger than %(limit)s, the largest file that can be attached.",
              name=label, limit=human_size(max_bytes)))
    kind = sniff(data)
    if kind == XLSX and XLSX in allowed:
        try:
            check_xlsx("attachment.xlsx", data, UploadLimits(
                max_bytes=max_bytes,
                max_uncompressed=int(current_app.config["IMPORT_MAX_UNCOMPRESSED_BYTES"]),
                max_entries=int(current_app.config["IMPORT_MAX_ZIP_ENTRIES"]),
                max_ratio=int(current_app.config["IMPORT_MAX_ZIP_RATIO"])))
        except UploadRefused as exc:
            raise UploadRefused(f"{label}: {exc}") from None
    if kind is None or kind not in allowed:
        raise UploadRefused(f"{label}: {_allowed_message(allowed)}")
    return CheckedFile(filename=clean_filename(original, kind), content_type=kind,
                       size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def check_uploads(storages, allowed=EVIDENCE_TYPES):
    """Check every file chosen in a form's file field (empty parts skipped); all or none."""
    files = [s for s in storages if s is not None and s.filename]
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise UploadRefused(_("At most %(num)d files can be attached at once.",
                              num=MAX_FILES_PER_UPLOAD))
    return [check_upload(s, allowed) for s in files]


# --- On disk -----------------------------------------------------------------------------


def root() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


STORAGE_KEY = re.compile(r"[0-9a-f]{32}")


def stored_name(key: str) -> str:
    """Where a stored file is below the store's root: ``ab/abcd…`` (the backup's archive
    names its files the same way)."""
    if not STORAGE_KEY.fullmatch(key or ""):
        raise ValueError("not a storage key")
    return f"{key[:2]}/{key}"


def path_of(key: str) -> Path:
    return root() / stored_name(key)


def write_whole(target: Path, data) -> None:
    """Write the file-like ``data`` to ``target`` whole or not at all: a temporary file in
    the same directory, flushed to disk, then renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(checked: CheckedFile, session) -> str:
    """Store the bytes under a new random key; return the key. The file is deleted again if
    ``session``'s transaction rolls back."""
    key = secrets.token_hex(16)
    target = path_of(key)
    write_whole(target, io.BytesIO(checked.data))
    session.info.setdefault("attachments_written", []).append(target)
    return key


def remove_on_commit(key: str, session):
    """Delete the stored file once ``session`` commits (kept if it rolls back)."""
    session.info.setdefault("attachments_removed", []).append(path_of(key))


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    session.info.pop("attachments_written", None)
    for path in session.info.pop("attachments_removed", []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is not None:  # a savepoint: the outer one decides
        return
    session.info.pop("attachments_removed", None)
    for path in session.info.pop("attachments_written", []):
        path.unlink(missing_ok=True)
