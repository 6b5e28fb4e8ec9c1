"""Print a workbook as LibreOffice would, and read the PDF back: the tools of the print test.

``to_pdf`` converts with ``soffice --headless`` in a private profile (parallel runs do not
clash); ``words`` gives every word of the PDF with its page and box (``pdftotext -bbox``);
``page_texts`` the text of each page."""
import html
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("soffice", "pdftotext", "pdftoppm")


def missing_tools():
    return [t for t in TOOLS if shutil.which(t) is None]


def to_pdf(data: bytes, workdir: Path, stem: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"{stem}.xlsx"
    source.write_bytes(data)
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    try:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(workdir), str(source)],
            check=True, capture_output=True, timeout=240,
            env={**os.environ, "HOME": profile},
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = workdir / f"{stem}.pdf"
    if not pdf.exists():
        raise RuntimeError(f"LibreOffice made no PDF of {source.name}")
    return pdf


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self):
        return self.y1 - self.y0


_PAGE = re.compile(r"<page [^>]*>(.*?)</page>", re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def words(pdf: Path):
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    found = []
    for n, page in enumerate(_PAGE.findall(out), start=1):
        for x0, y0, x1, y1, text in _WORD.findall(page):
            found.append(Word(n, html.unescape(text), float(x0), float(y0), float(x1), float(y1)))
    return found


def page_count(pdf: Path) -> int:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return len(_PAGE.findall(out))


def page_texts(pdf: Path):
    out = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    pages = out.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    return pages


def page_sizes(pdf: Path):
    """(width, height) in points of every page."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return [(float(w), float(h)) for w, h in
            re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", out)]


def to_png(pdf: Path, prefix: Path, resolution=60, first=None, last=None):
    args = ["pdftoppm", "-r", str(resolution), "-png"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    subprocess.run(args + [str(pdf), str(prefix)], check=True, capture_output=True, timeout=120)
    return sorted(prefix.parent.glob(prefix.name + "*.png"))


def flat(text: str) -> str:
    """Text with every run of white space (line ends of wrapped cells) as one space."""
    return " ".join(text.split())
