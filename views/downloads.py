"""Every file a page sends to download (workbooks, CSV lists): one response builder.

``xlsx_response(data, filename)`` for a workbook, ``csv_response(text_or_chunks, filename)``
for CSV; both go through ``download_response``, which names the file for the browser (an
ASCII name, and the exact one as ``filename*`` when it has other characters) and streams a
body given as chunks (an iterator), within the request's context.
"""
import unicodedata
from datetime import datetime
from urllib.parse import quote

from flask import Response, stream_with_context

from exports.upload_safety import XLSX_CONTENT_TYPE
from tracker import clock

XLSX_MIMETYPE = XLSX_CONTENT_TYPE  # the one spelling, beside the check of uploaded workbooks
CSV_MIMETYPE = "text/csv"


def generated_at():
    """Now, in the deployment's time zone: the "generated" line of a downloaded file."""
    return datetime.now(clock.zone())


def dated(stem, day=None, extension="xlsx"):
    """A file's name: ``stem``, the day (today by default) and the extension."""
    return f"{stem}-{day or clock.today():%Y-%m-%d}.{extension}"


def download_response(body, filename, mimetype):
    """The response that downloads ``body`` (bytes or text; or an iterator of chunks,
    streamed) as ``filename``."""
    if not isinstance(body, (bytes, bytearray, str)):
        body = stream_with_context(body)
    response = Response(body, mimetype=mimetype)
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": f"UTF-8''{quote(filename, safe='!#$&+-.^_`|~')}"}
    else:
        names = {"filename": filename}
    response.headers.set("Content-Disposition", "attachment", **names)
    return response


def xlsx_response(data, filename):
    """A workbook (the bytes ``exports`` built) to download as ``filename``."""
    return download_response(data, filename, XLSX_MIMETYPE)


def csv_response(body, filename):
    """CSV (bytes, text, or an iterator of chunks, streamed) to download as ``filename``."""
    return download_response(body, filename, CSV_MIMETYPE)
