"""A clerk's correction of a registered request, before anyone decides on it.

The package check proposes; a person decides. When the check is wrong because the data were
typed or read wrongly (a document was handed in but not ticked, the VKK conclusion's date was
mistyped, the parent brought the missing conclusion), the clerk corrects the request instead of
refusing, and the check runs again on the corrected data. Only the handed-in documents and the
VKK conclusion can be corrected this way; the people's data come from the application itself.
Every correction is kept on the request with its note, so the case shows what was changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.errors import InvalidInput

CORRECTABLE = ("documents", "vkk_conclusion")


def corrected_request(request: Mapping[str, Any], corrections: Mapping[str, Any], at: str) -> dict[str, Any]:
    """``request`` with ``corrections`` applied and recorded (``at``: when, ISO 8601).

    Raises ``InvalidInput`` when nothing correctable is given or the note is missing: a
    correction without a reason cannot be told apart from a mistake.
    """
    if not isinstance(corrections, Mapping):
        raise InvalidInput(f"corrections must be an object, got {type(corrections).__name__}")
    changed = [key for key in CORRECTABLE if key in corrections]
    note = str(corrections.get("note") or "").strip()
    if not changed:
        raise InvalidInput(f"a correction changes at least one of: {', '.join(CORRECTABLE)}")
    if not note:
        raise InvalidInput("a correction needs a note saying where the corrected data come from")
    result = dict(request)
    if "documents" in corrections:
        result["documents"] = list(corrections["documents"])
    if "vkk_conclusion" in corrections:
        result["vkk_conclusion"] = dict(corrections["vkk_conclusion"])
    history = list(request.get("corrections") or [])
    history.append({"at": at, "note": note, "changed": changed,
                    "before": {key: request.get(key) for key in changed}})
    result["corrections"] = history
    return result
