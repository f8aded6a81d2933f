"""``GET /vendor/<library>/<file>``: front-end libraries from the npm registry, served by the app itself
(and ``GET /static/<file>``, the app's own scripts and style sheets, served the same way).

``make setup`` installs them with ``npm ci`` from ``package-lock.json`` into
``HOMESCHOOL_NODE_MODULES_DIR``; nothing is fetched from a CDN and no copy is committed. Only the
files listed here are served (the distributed bundles and their style sheets and fonts), so the
folder's other contents never leak. Pages load them with ``url_for('vendor.asset', ...)``, which
keeps the strict Content-Security-Policy (``script-src 'self'``).
"""

from __future__ import annotations

import io
import mimetypes
import stat
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from service import bootstrap

blueprint = Blueprint("vendor", __name__, url_prefix="/vendor")

#: library → (folder inside node_modules, files that may be served from it).
LIBRARIES: dict[str, tuple[str, frozenset[str]]] = {
    "bpmn-js": ("bpmn-js/dist", frozenset({
        "bpmn-viewer.production.min.js",
        "bpmn-navigated-viewer.production.min.js",
        "bpmn-modeler.production.min.js",
        "assets/diagram-js.css",
        "assets/bpmn-js.css",
        "assets/bpmn-font/css/bpmn.css",
        "assets/bpmn-font/css/bpmn-embedded.css",
        "assets/bpmn-font/font/bpmn.woff",
        "assets/bpmn-font/font/bpmn.woff2",
        "assets/bpmn-font/font/bpmn.ttf",
        "assets/bpmn-font/font/bpmn.eot",
        "assets/bpmn-font/font/bpmn.svg",
    })),
}


def library_folder(node_modules: Path, library: str) -> Path:
    """Where ``library``'s served files lie on this installation."""
    return node_modules / LIBRARIES[library][0]


@blueprint.get("/<library>/<path:name>")
def asset(library: str, name: str) -> Response:
    """One whitelisted file of an installed front-end library (404 for anything else)."""
    if library not in LIBRARIES or name not in LIBRARIES[library][1]:
        abort(404)
    services: bootstrap.Services = current_app.extensions["homeschool"]
    folder = library_folder(services.settings.node_modules_dir, library)
    response = _send(folder / name, max_age=3600)
    if response is None:
        current_app.logger.error("front-end library %s is not installed in %s: run 'make setup'",
                                 library, services.settings.node_modules_dir)
        abort(404)
    response.headers["Cache-Control"] = "public, max-age=3600"  # library code, no personal data
    return response


#: The app's own front-end files (``service/web/static``).
STATIC_FOLDER = Path(__file__).resolve().parent / "static"


def static_file(filename: str) -> Response:
    """``GET /static/<file>`` (the ``static`` endpoint): one of the app's own files, from memory like the libraries."""
    path = safe_join(str(STATIC_FOLDER), filename)
    response = _send(Path(path), max_age=None) if path is not None else None  # revalidated each time (ETag)
    if response is None:
        abort(404)
    return response


def _send(path: Path, max_age: int | None) -> Response | None:
    """The file as a response from memory, or None if there is no such file."""
    found = _read(path)
    if found is None:
        return None
    data, stamp = found
    return send_file(io.BytesIO(data), mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                     max_age=max_age, etag=f"{stamp[0]:x}-{stamp[1]:x}", last_modified=stamp[0] / 1e9,
                     conditional=True)


#: Served files' bytes by path, with the (mtime, size) they were read at: a few MiB in all.
_READ: dict[Path, tuple[tuple[int, int], bytes]] = {}


def _read(path: Path) -> tuple[bytes, tuple[int, int]] | None:
    """The file's bytes, from memory while unchanged on disk (one ``stat`` a request); None if it is no file.

    Served from memory rather than from an open file: a browser that leaves a page mid-download
    (a font it no longer needs) would otherwise leave the development server's file open.
    """
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    found = _READ.get(path)
    if found is None or found[0] != stamp:
        found = (stamp, path.read_bytes())
        _READ[path] = found
    return found[1], stamp
