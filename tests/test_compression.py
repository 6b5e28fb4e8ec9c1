"""Every text response compressed by the app (brotli where accepted, gzip otherwise), static
files sent precompressed, binary files left alone, ETags and streaming intact."""
import gzip
import time

import brotli
import pytest
from flask import Response, stream_with_context

from tests import factories
from tracker.platform import assets

BR = {"Accept-Encoding": "gzip, deflate, br"}
GZ = {"Accept-Encoding": "gzip"}


def _page(client, url, headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response


def test_pages_are_brotli_where_accepted_and_gzip_otherwise(as_user):
    client = as_user(factories.user("secretary"))
    br = _page(client, "/dashboard/", BR)
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    html = brotli.decompress(br.data).decode()
    assert "Roadmap dashboard" in html
    gz = _page(client, "/dashboard/", GZ)
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data).decode() == html
    plain = _page(client, "/dashboard/", {"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert "Roadmap dashboard" in plain.get_data(as_text=True)


@pytest.mark.fresh_app  # adds a route
def test_csv_and_json_are_compressed_xlsx_is_not(app, as_user):
    @app.route("/_csv_probe.csv")
    def probe():
        return Response("code,title\n" + "M-1,Portal\n" * 300, mimetype="text/csv")

    client = as_user(factories.user("secretary"))
    api = _page(client, "/api/v1/openapi.json", GZ)
    assert api.mimetype == "application/json"
    assert api.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(api.data).startswith(b"{")

    csv = _page(client, "/_csv_probe.csv", BR)
    assert csv.headers["Content-Encoding"] == "br"
    assert brotli.decompress(csv.data).startswith(b"code,title")
    small = _page(client, "/dashboard/health.csv", BR)  # under 500 bytes: not worth it
    assert small.mimetype == "text/csv"
    xlsx = _page(client, "/dashboard/health.xlsx", BR)
    assert "Content-Encoding" not in xlsx.headers
    assert xlsx.data[:2] == b"PK"


def test_static_files_are_sent_precompressed_with_their_own_etag(client, tmp_path, monkeypatch):
    # The build's twins, made here in a copy of static/ so the test does not depend on it.
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    body = ("body { color: black; }\n" * 200).encode()
    (static / "css" / "app.css").write_bytes(body)
    from deploy.build_assets import precompress

    assert precompress(static) == 2
    client.application.static_folder = str(static)

    br = client.get("/static/css/app.css", headers=BR)
    assert br.status_code == 200
    assert br.headers["Content-Encoding"] == "br"
    assert br.mimetype == "text/css"
    assert brotli.decompress(br.data) == body
    gz = client.get("/static/css/app.css", headers=GZ)
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == body
    plain = client.get("/static/css/app.css", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == body
    assert len({br.headers["ETag"], gz.headers["ETag"], plain.headers["ETag"]}) == 3
    for response, headers in ((br, BR), (gz, GZ)):
        again = client.get("/static/css/app.css",
                           headers={**headers, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    # A file edited after the build: its stale twin is not sent.
    time.sleep(0.01)
    (static / "css" / "app.css").write_bytes(body + b"/* new */")
    fresh = client.get("/static/css/app.css", headers=BR)
    assert fresh.headers.get("Content-Encoding") != "br" or \
        brotli.decompress(fresh.data).endswith(b"/* new */")


@pytest.mark.fresh_app  # adds a route
def test_rendered_page_conditional_request_still_answers_304(app, client):
    # A page with an ETag (the sign-in page has none: no-store): a plain view that sets one.
    @app.route("/_etag_probe")
    def probe():
        response = Response("x" * 5000, mimetype="text/plain")
        response.set_etag("v1")
        return response

    first = client.get("/_etag_probe", headers=BR)
    assert first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    assert etag.startswith('"v1')
    second = client.get("/_etag_probe", headers={**BR, "If-None-Match": etag})
    assert second.status_code == 304


@pytest.mark.fresh_app  # adds a route
@pytest.mark.parametrize("headers", [BR, GZ])
def test_a_large_streamed_export_still_streams(app, client, headers):
    # gzip for both: a brotli compressor would hold the whole export back until its end.
    produced = []
    import hashlib  # rows that differ, as real ones do (a repeated row compresses to nothing)

    @app.route("/_stream_probe.csv")
    def probe():
        def rows():
            for i in range(20000):
                produced.append(i)
                yield f"{i},milestone {i},{hashlib.sha256(str(i).encode()).hexdigest()}\n"
        return Response(stream_with_context(rows()), mimetype="text/csv")

    response = client.get("/_stream_probe.csv", headers=headers, buffered=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.is_streamed
    assert "Content-Length" not in response.headers
    chunks = response.response
    first = next(iter(chunks))
    assert first  # compressed bytes arrived ...
    assert len(produced) < 20000  # ... before every row was produced
    body = first + b"".join(chunks)
    text = gzip.decompress(body).decode()
    assert text.count("\n") == 20000
    assert text.startswith("0,milestone 0,")


def test_plotly_bundle_is_the_partial_one_when_built():
    directory, name, tag = assets.plotly_bundle()
    if (assets.VENDOR / assets.PLOTLY_BASIC).is_file():
        assert name == assets.PLOTLY_BASIC and tag.startswith("basic-")
    else:  # a checkout where `make assets` has not run: the full bundle, charts still draw
        assert name == "plotly.min.js" and (directory / name).is_file()
