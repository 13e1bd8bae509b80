"""The audit report as a PDF, drawn by WeasyPrint from the report's print layout.

WeasyPrint never goes to the network: its URL fetcher serves only this app's static
files (the stylesheets and the fonts they name) from disk, and refuses every other
URL, so neither a link in a finding nor a stylesheet's url() can make the server
fetch anything. The document's base URL is ``file:///``: the layout's
``/assets/app.css`` (and the CSS's own ``url(/assets/fonts/…)``) reach the fetcher
as ``file:///assets/…``, which it maps into the static folder."""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

BASE_URL = "file:///"

# Warnings WeasyPrint gives while reading a stylesheet written for browsers.
_STYLESHEET_NOISE = (
    "Expected a media type",
    "Invalid media type",
    "Ignored `",
    "Unknown rule",
    "Unknown empty rule",
    "Invalid or unsupported selector",
)


class _StylesheetNoise(logging.Filter):
    """GOV.UK Frontend's stylesheet is written for browsers: WeasyPrint warns about each
    screen-width media query and browser-only property it skips, hundreds for every PDF.
    Those are expected and dropped; its other warnings (a refused URL) still reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_STYLESHEET_NOISE)


_LOGGER = logging.getLogger("weasyprint")
if not any(isinstance(existing, _StylesheetNoise) for existing in _LOGGER.filters):
    _LOGGER.addFilter(_StylesheetNoise())


class RefusedURL(ValueError):
    """A URL that is not one of the app's static files."""


class StaticFilesOnly(URLFetcher):
    """Serves ``file:///<static_url_path>/<file>`` from ``static_folder``; refuses the rest."""

    def __init__(self, static_folder: str | Path, static_url_path: str):
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.static_folder = str(static_folder)
        self.prefix = static_url_path.rstrip("/") + "/"

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"Only the app's own static files are used in a PDF: refused {url[:200]}")
        path = posixpath.normpath(unquote(parts.path))
        if not path.startswith(self.prefix):
            raise RefusedURL(f"Not one of the app's static files: refused {url[:200]}")
        filename = safe_join(self.static_folder, path[len(self.prefix):])
        if filename is None or not Path(filename).is_file():
            raise RefusedURL(f"No such static file: {url[:200]}")
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(filename).read_bytes(), {"Content-Type": content_type})


def fetcher() -> StaticFilesOnly:
    return StaticFilesOnly(current_app.static_folder, current_app.static_url_path)


def render_pdf(html: str) -> bytes:
    """The PDF of a page rendered with the print layout."""
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher()).write_pdf()
