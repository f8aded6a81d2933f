"""For analysts: the loaded diagrams, drawn from their layout, and the paragraph → element table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from markupsafe import Markup

from service.application.trace import build_trace
from service.engine.svg import render_svg

from .context import require_role, services, signed_in

blueprint = Blueprint("diagrams", __name__)


@blueprint.get("/diagrams")
@signed_in
def diagram_list() -> Any:
    """Every process the service runs, with the Rules' paragraphs each element carries out."""
    require_role("analyst")
    svc = services()
    diagrams = svc.engine.library.diagrams()
    drawings = {d.process_id: Markup(render_svg(d.source, standalone=False)) for d in diagrams}  # noqa: S704
    trace = build_trace(diagrams, svc.settings.features_dir, rules=svc.runtime.declarations.rules())
    return render_template("diagrams.html", diagrams=diagrams, drawings=drawings, trace=trace)
