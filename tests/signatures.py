"""Reading issued PDFs back as their recipient would: pyHanko's verdict on the signature, pypdf's text."""

from __future__ import annotations

import io

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from service.documents.signing import outside_event_loop


def signature_of(pdf: bytes, certificate: x509.Certificate) -> PdfSignatureStatus:
    """pyHanko's verdict on the PDF's one PAdES signature, with ``certificate`` as the only trust root."""
    root = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES, not adbe.pkcs7
    context = ValidationContext(trust_roots=[root])
    # validate_pdf_signature calls asyncio.run: not inside the loop a browser test session keeps running
    return outside_event_loop(lambda: validate_pdf_signature(embedded, context))


def pdf_text(pdf: bytes) -> str:
    """What a reader sees of a PDF: the text of every page, spaces collapsed."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())
