"""Build the static assets once: fetch plotly.js's partial bundle, precompress every text file.

    python deploy/build_assets.py            # fetch (when missing) + precompress
    python deploy/build_assets.py --compress # precompress only (no network)

1. ``plotly.js-basic-dist-min`` at the pinned version, fetched from the npm registry with
   ``npm pack`` (the ordinary client), its tarball's sha512 checked against the pinned
   integrity before anything is extracted, the one file ``plotly-basic.min.js`` written to
   static/vendor/plotly-basic-VERSION.min.js (not committed: 1.2 MB; .gitignore).
   The basic bundle holds bar, scatter and pie; every chart the app draws is a bar chart
   (the timeline is horizontal bars with a ``base``), so it is the smallest official bundle
   that draws them all (cartesian: 1.5 MB, the full bundle: 4.8 MB).
2. Beside every .css/.js/.json/.svg file under static/: ``name.gz`` (gzip -9) and ``name.br``
   (brotli quality 11), rewritten when older than the file. The app's static view and nginx's
   gzip_static/brotli_static send them to clients that accept the encoding.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.platform.assets import PLOTLY_BASIC, PLOTLY_JS_VERSION, PRECOMPRESSED_SUFFIXES, STATIC, VENDOR  # noqa: E402

PACKAGE = "plotly.js-basic-dist-min"
INTEGRITY = ("sha512-1oNF8PeQx2hv/y7tqEVWKD3JGwn/MGEMQ8mL9HUwsaqG9FGy/OU5FHUHvzqbqxN4mnwZG"
             "I9abTiE775C4kkjMQ==")
MEMBER = "package/plotly-basic.min.js"


def fetch_plotly(force=False) -> Path:
    target = VENDOR / PLOTLY_BASIC
    if target.is_file() and not force:
        return target
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{PACKAGE}@{PLOTLY_JS_VERSION}", "--silent",
                        "--pack-destination", tmp], check=True, stdout=subprocess.DEVNULL)
        tarball = Path(tmp) / f"{PACKAGE}-{PLOTLY_JS_VERSION}.tgz"
        data = tarball.read_bytes()
        algo, _, expected = INTEGRITY.partition("-")
        got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
        if got != expected:
            sys.exit(f"{PACKAGE}@{PLOTLY_JS_VERSION}: integrity mismatch ({algo}-{got})")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = tar.getmember(MEMBER)
            source = tar.extractfile(member)
            partial = target.with_suffix(".part")
            with open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            os.replace(partial, target)
    print(f"fetched {PACKAGE}@{PLOTLY_JS_VERSION} -> {target.relative_to(ROOT)} "
          f"({target.stat().st_size} bytes, integrity checked)")
    return target


def precompress(root: Path = STATIC) -> int:
    import brotli

    written = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or not path.name.endswith(PRECOMPRESSED_SUFFIXES):
            continue
        data = None
        mtime = path.stat().st_mtime
        for suffix, pack in ((".gz", lambda d: gzip.compress(d, 9, mtime=0)),
                             (".br", lambda d: brotli.compress(d, quality=11))):
            twin = path.with_name(path.name + suffix)
            if twin.is_file() and twin.stat().st_mtime >= mtime:
                continue
            data = path.read_bytes() if data is None else data
            twin.write_bytes(pack(data))
            os.utime(twin, (mtime, mtime))  # same mtime as the file: one Last-Modified
            written += 1
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compress", action="store_true", help="precompress only, no fetch")
    parser.add_argument("--force", action="store_true", help="fetch plotly.js again")
    parser.add_argument("--strict", action="store_true",
                        help="fail when plotly.js cannot be fetched (default: warn; an "
                             "integrity mismatch always fails)")
    args = parser.parse_args(argv)
    if not args.compress:
        try:
            fetch_plotly(force=args.force)
        except (OSError, subprocess.CalledProcessError) as error:  # no npm, no network
            if args.strict:
                raise
            print(f"warning: plotly.js not fetched ({error}); the app serves the full bundle "
                  "of the Plotly package until `make assets` succeeds", file=sys.stderr)
    print(f"precompressed {precompress()} file(s) under static/")


if __name__ == "__main__":
    main()
