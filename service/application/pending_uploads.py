"""Scans chosen in a form that did not go through yet: every bad one named, the good ones kept for the retry.

A browser empties its file inputs when a form comes back with errors; the files already chosen
are kept here on the server (under the instance directory, per person, for a day) and offered
again by a token, so the clerk corrects the form without choosing the files again.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .attachments import SIGNATURES
from .intake import Upload

#: How long a kept file waits for the form to be sent again.
KEEP_FOR = timedelta(hours=24)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class KeptFile:
    """A file kept for a form that is being corrected."""

    token: str
    kind: str
    filename: str
    size: int


@dataclass(frozen=True)
class FileProblem:
    """What is wrong with one chosen file: ``code`` is empty, too_large or wrong_type."""

    kind: str
    code: str
    filename: str
    size: int
    limit: int


def file_problems(uploads: Iterable[Upload], max_bytes: int) -> list[FileProblem]:
    """Every chosen file that cannot be taken (empty, too large, not a PDF/JPEG/PNG), each named."""
    problems = []
    for upload in uploads:
        content = upload.content
        if not content:
            code = "empty"
        elif len(content) > max_bytes:
            code = "too_large"
        elif not any(content.startswith(signature) for signature in SIGNATURES.values()):
            code = "wrong_type"
        else:
            continue
        problems.append(FileProblem(upload.kind, code, upload.filename, len(content), max_bytes))
    return problems


class PendingUploads:
    """Files kept on disk per person until the form is sent again (or a day has passed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _folder(self, owner: str) -> Path:
        return self.directory / hashlib.sha256(owner.encode("utf-8")).hexdigest()[:24]

    def keep(self, owner: str, upload: Upload) -> KeptFile:
        """Keep one good file for ``owner``; returns what the form offers again."""
        self.expire()
        folder = self._folder(owner)
        folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(16)
        (folder / f"{token}.bin").write_bytes(upload.content)
        meta = {"kind": upload.kind, "filename": upload.filename[:255]}
        (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return KeptFile(token, upload.kind, upload.filename[:255], len(upload.content))

    def get(self, owner: str, token: str) -> tuple[KeptFile, Upload] | None:
        """A file ``owner`` kept earlier (None for an unknown token or another person's)."""
        if not _TOKEN.fullmatch(token or ""):
            return None
        folder = self._folder(owner)
        try:
            meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
            content = (folder / f"{token}.bin").read_bytes()
        except (OSError, ValueError):
            return None
        upload = Upload(str(meta["kind"]), str(meta["filename"]), content)
        return KeptFile(token, upload.kind, upload.filename, len(content)), upload

    def discard(self, owner: str, tokens: Iterable[str]) -> None:
        """Forget kept files once the form went through."""
        folder = self._folder(owner)
        for token in tokens:
            if _TOKEN.fullmatch(token or ""):
                for suffix in (".bin", ".json"):
                    (folder / f"{token}{suffix}").unlink(missing_ok=True)

    def expire(self) -> None:
        """Remove files kept longer than :data:`KEEP_FOR` (by the files' own times)."""
        if not self.directory.is_dir():
            return
        cutoff = time.time() - KEEP_FOR.total_seconds()
        for path in self.directory.glob("*/*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue
