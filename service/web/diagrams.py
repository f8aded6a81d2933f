"""For analysts: the loaded diagrams, drawn from their layout, and the paragraph → element table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from markupsafe import Markup

from service.application.trace import build_trace
from service.engine.names import with_names
from service.engine.svg import render_svg

from .context import require_role, services, signed_in
from .names_view import names_of

blueprint = Blueprint("diagrams", __name__)


@blueprint.get("/diagrams")
@signed_in
def diagram_list() -> Any:
    """Every process the service runs, with the Rules' paragraphs each element carries out."""
    require_role("analyst")
    svc = services()
    diagrams = svc.engine.library.diagrams()
    drawings = {d.process_id: Markup(render_svg(with_names(d.source, names_of(d.process_id)),  # noqa: S704
                                                standalone=False))
                for d in diagrams}  # each drawn with its names in the interface language
    trace = build_trace(diagrams, svc.settings.features_dir, rules=svc.runtime.declarations.rules())
    return render_template("diagrams.html", diagrams=diagrams, drawings=drawings, trace=trace)
