"""Light pages on slow links: compression of every text response, and the static files
(CSS, JavaScript, the plotly.js bundle) served precompressed.

- Flask-Compress compresses every text response the app renders (HTML, JSON, CSV, CSS,
  JavaScript): brotli where the client accepts it, gzip otherwise. A streamed response is
  gzipped chunk by chunk and still streams (brotli would hold it all back until the end). Binary files (xlsx, png, pdf) are left alone:
  their mimetypes are not in ``COMPRESS_MIMETYPES`` (and they are compressed already).
- ``make assets`` writes ``name.br`` and ``name.gz`` beside every text file under static/;
  the static view sends the precompressed twin the client accepts (``Content-Encoding`` set,
  so Flask-Compress leaves it alone), with its own ETag, so conditional requests answer 304.
- plotly.js: the official partial bundle ``plotly.js-basic-dist-min`` (bar, scatter, pie:
  every chart of tracker/charts.py is a bar chart), fetched by ``make assets`` into
  static/vendor/ with its version and sha512 checked. Without it (a checkout where the build
  step has not run) the full bundle of the installed Plotly package is served instead, so the
  charts still draw, only heavier.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from flask import current_app, request, send_from_directory

ROOT = Path(__file__).resolve().parent.parent.parent
STATIC = ROOT / "static"
VENDOR = STATIC / "vendor"
PLOTLY_JS_VERSION = "4.1.1"  # keep in step with the Makefile's PLOTLY_JS_VERSION
PLOTLY_BASIC = f"plotly-basic-{PLOTLY_JS_VERSION}.min.js"

TEXT_MIMETYPES = [
    "text/html", "text/css", "text/plain", "text/csv", "text/xml", "text/javascript",
    "application/javascript", "application/json", "application/problem+json",
    "application/xml", "image/svg+xml",
]
# Filename endings the build precompresses (and the static view looks for twins of).
PRECOMPRESSED_SUFFIXES = (".css", ".js", ".json", ".svg", ".txt", ".html", ".csv")
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def init_app(app):
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_MIMETYPES", TEXT_MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # A streamed response (an export read in batches) is gzipped: zlib emits as it goes,
    # while a brotli compressor holds everything up to its window (4 MB) until the end.
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    Compress(app)
    if "static" in app.view_functions:
        app.view_functions["static"] = _static


def _static(filename):
    return send_precompressed(current_app.static_folder, filename,
                              max_age=current_app.get_send_file_max_age(filename))


def accepted(encoding: str) -> bool:
    """Whether the request's Accept-Encoding takes ``encoding`` (a q=0 refuses it)."""
    return request.accept_encodings.quality(encoding) > 0


def send_precompressed(directory, filename, mimetype=None, max_age=None):
    """Send ``filename`` from ``directory``, or its ``.br``/``.gz`` twin when the client
    accepts that encoding and the twin is at least as new as the file."""
    directory = os.fspath(directory)
    if filename.endswith(PRECOMPRESSED_SUFFIXES):
        from werkzeug.security import safe_join

        original = safe_join(directory, filename)
        if original and os.path.isfile(original):
            mtime = os.path.getmtime(original)
            for encoding, suffix in ENCODINGS:
                twin = original + suffix
                if accepted(encoding) and os.path.isfile(twin) and os.path.getmtime(twin) >= mtime:
                    import mimetypes

                    kind = mimetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
                    response = send_from_directory(directory, filename + suffix, mimetype=kind,
                                                   max_age=max_age)
                    response.headers["Content-Encoding"] = encoding
                    response.headers.pop("Content-Disposition", None)
                    response.vary.add("Accept-Encoding")
                    return response
    response = send_from_directory(directory, filename, mimetype=mimetype, max_age=max_age)
    if filename.endswith(PRECOMPRESSED_SUFFIXES):
        response.vary.add("Accept-Encoding")
    return response


def plotly_bundle() -> tuple[Path, str, str]:
    """(directory, file name, URL tag) of the plotly.js to serve: the partial bundle when the
    build has fetched it, else the installed Plotly package's full bundle (found without
    importing Plotly)."""
    if (VENDOR / PLOTLY_BASIC).is_file():
        return VENDOR, PLOTLY_BASIC, f"basic-{PLOTLY_JS_VERSION}"
    spec = importlib.util.find_spec("plotly")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "package_data", "plotly.min.js", "full"
