"""Checks an uploaded workbook before any parser opens it.

``check_xlsx(filename, data, limits)`` refuses, with a message a user can act on:
names other than ``.xlsx``, macro workbooks (``.xlsm`` by name or by content), anything that
is not a zip archive, files over the size limit, and archives whose zip directory announces
too many entries, too many uncompressed bytes or an implausible compression ratio (zip
bombs). Only the central directory is read: nothing is decompressed here, and Python's
``zipfile`` never inflates an entry past the size the directory declares, so a file that
passes cannot make openpyxl allocate more than ``max_uncompressed`` bytes.

Other imports (services, websites) reuse this module and ``limits_from_config``.
"""
import io
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MACRO_MARKERS = ("vbaproject.bin", "vbadata.xml")


class UploadRefused(ValueError):
    """An upload refused before parsing; ``str(exc)`` is the message for the user."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 5 * 1024 * 1024
    max_uncompressed: int = 50 * 1024 * 1024
    max_entries: int = 200
    max_ratio: int = 100


def limits_from_config(config) -> UploadLimits:
    return UploadLimits(
        max_bytes=int(config.get("IMPORT_MAX_BYTES") or config["MAX_CONTENT_LENGTH"]),
        max_uncompressed=int(config["IMPORT_MAX_UNCOMPRESSED_BYTES"]),
        max_entries=int(config["IMPORT_MAX_ZIP_ENTRIES"]),
        max_ratio=int(config["IMPORT_MAX_ZIP_RATIO"]),
    )


def _mib(n):
    return f"{n / (1024 * 1024):.1f} MB"


def check_xlsx(filename: str, data: bytes, limits: UploadLimits) -> None:
    """Raise ``UploadRefused`` unless ``data`` is a plausible, bounded .xlsx workbook."""
    name = (filename or "").strip().lower()
    if name.endswith(".xlsm") or name.endswith(".xltm") or name.endswith(".xlam"):
        raise UploadRefused(
            _("Macro-enabled workbooks (.xlsm) are not accepted. Save the file as an Excel "
            "Workbook (.xlsx) and upload it again.")
        )
    if not name.endswith(".xlsx"):
        raise UploadRefused(_("Only Excel workbooks (.xlsx) can be imported."))
    if len(data) == 0:
        raise UploadRefused(_("The file is empty."))
    if len(data) > limits.max_bytes:
        raise UploadRefused(
            _("The file is %(size)s; the largest file accepted is %(limit)s.",
              size=_mib(len(data)), limit=_mib(limits.max_bytes))
        )
    if not data.startswith(b"PK\x03\x04"):
        raise UploadRefused(_("The file is not an Excel workbook (.xlsx): its content is not a "
                            "workbook archive."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception:  # noqa: BLE001  zipfile raises many kinds on a damaged directory
        raise UploadRefused(_("The file is damaged or not an Excel workbook (.xlsx).")) from None
    if len(entries) > limits.max_entries:
        raise UploadRefused(
            _("The workbook has %(num)d parts; at most %(limit)d are accepted.",
              num=len(entries), limit=limits.max_entries)
        )
    names = {e.filename.lower() for e in entries}
    if any(n.rsplit("/", 1)[-1] in _MACRO_MARKERS for n in names):
        raise UploadRefused(
            _("The workbook contains macros. Save it as an Excel Workbook (.xlsx) without "
            "macros and upload it again.")
        )
    if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
        raise UploadRefused(_("The file is not an Excel workbook (.xlsx): parts are missing."))
    total = 0
    compressed = 0
    for e in entries:
        total += e.file_size
        compressed += e.compress_size
        ratio = e.file_size / max(e.compress_size, 1)
        if e.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise UploadRefused(_bomb_message())
    if total > limits.max_uncompressed:
        raise UploadRefused(_bomb_message())
    if total > 1024 * 1024 and total / max(compressed, 1) > limits.max_ratio:
        raise UploadRefused(_bomb_message())


def _bomb_message():
    return (_("The workbook would expand to far more data than it holds (it may be a "
            "compressed bomb) and was refused unopened."))
