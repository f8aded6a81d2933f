"""The signed-in person's own settings: where and how often task notifications are e-mailed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.application.notifications import change_notification_settings, notification_settings
from service.domain.errors import InvalidInput
from service.domain.notifications import FREQUENCIES

from .context import actor, language, services, signed_in
from .i18n import translate

blueprint = Blueprint("me", __name__, url_prefix="/me")


@blueprint.route("/notifications", methods=["GET", "POST"])
@signed_in
def notifications() -> Any:
    """Show and change one's own notification address and digest frequency."""
    if request.method == "POST":
        email, frequency = request.form.get("email", ""), request.form.get("frequency", "")
        try:
            with services().uow() as uow:
                change_notification_settings(uow, actor(), email, frequency)
        except InvalidInput:
            problem = "notify_bad_frequency" if frequency not in FREQUENCIES else "notify_bad_email"
            flash(translate(problem, language()), "error")
            return render_template("me_notifications.html", email=email, frequency=frequency,
                                   frequencies=FREQUENCIES), 422
        flash(translate("saved", language()), "ok")
        return redirect(url_for("me.notifications"))
    with services().uow(write=False) as uow:
        current = notification_settings(uow, actor())
    return render_template("me_notifications.html", email=current.email or "", frequency=current.frequency,
                           frequencies=FREQUENCIES)
