"""Documents issued to the applicant (receipt, reasoned refusal, notification, admission order).

``render_html`` turns a ``document.<kind>`` message's payload into a page in Kazakh or Russian;
``render_pdf`` lays such a page out on A4; ``ProviderInfo`` is the school printed on them.
"""

from .provider import ProviderFileError, ProviderInfo
from .render import document_title, render_html, render_pdf

__all__ = ["ProviderFileError", "ProviderInfo", "document_title", "render_html", "render_pdf"]
