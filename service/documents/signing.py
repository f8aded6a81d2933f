"""Signing issued PDFs with the issuing organisation's key: PAdES baseline B-B (pyHanko).

A signature is an invisible CMS signature of the whole file (``/SubFilter /ETSI.CAdES.detached``,
SHA-256, the signing-certificate-v2 attribute, no signing-time attribute: PAdES puts the time in
the signature dictionary). There is no time-stamp authority to ask, so it is B-B, not B-T.

Where the keys come from (the settings ``HOMESCHOOL_SIGNING_KEY``, ``…_PASSPHRASE`` and
``…_KEYS_DIR``):

* an organisation's own key: ``<keys dir>/<BIN>.p12`` (PKCS#12), when the folder is set and holds one;
* otherwise the installation's key (``HOMESCHOOL_SIGNING_KEY``, PKCS#12);
* with no key set, a self-signed demo key that is generated once into the instance folder
  (``signing/demo-signing-key.p12``, readable by the owner only). Nobody trusts it: it is for
  ``make run`` and the tests, never for documents that leave a real installation.

Keys are read on the first signature, not at start-up, so commands that never sign (``homeschool
config``, ``db upgrade``) never touch them.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

#: Where the demo key is generated, inside the instance folder.
DEMO_KEY = Path("signing") / "demo-signing-key.p12"
#: The common name of the demo certificate: says plainly that it proves nothing.
DEMO_SUBJECT = "homeschool demo signing key - NOT TRUSTED"
_T = TypeVar("_T")
#: The name of the (invisible) signature field added to every document.
FIELD_NAME = "IssuerSignature"
_BIN = re.compile(r"^\d{12}$")


class SigningUnavailable(Exception):
    """A key is configured but cannot be used (missing file, wrong passphrase, not PKCS#12)."""


@dataclass(frozen=True)
class SignedBy:
    """Who a signature names: the organisation's BIN (which key) and how the signature describes it."""

    bin: str | None
    name: str
    location: str = ""
    reason: str = ""


@dataclass
class DocumentSigner:
    """Signs PDFs with the issuing organisation's key, else the installation's, else a demo key."""

    key_file: Path | None
    passphrase: str
    keys_dir: Path | None
    instance_dir: Path
    _loaded: dict[Path, SimpleSigner] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sign(self, pdf: bytes, signed_by: SignedBy) -> bytes:
        """``pdf`` with a PAdES B-B signature appended (an incremental update; the pages are unchanged)."""
        pyhanko = _pyhanko()
        meta = pyhanko.signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, md_algorithm="sha256", subfilter=pyhanko.fields.SigSeedSubFilter.PADES,
            name=signed_by.name or None, location=signed_by.location or None, reason=signed_by.reason or None,
        )
        writer = pyhanko.IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        signer = self._signer(self.key_path(signed_by.bin))
        out = outside_event_loop(lambda: pyhanko.signers.sign_pdf(writer, meta, signer=signer))
        return bytes(out.getvalue())

    def key_path(self, bin_: str | None) -> Path:
        """The PKCS#12 file that signs for ``bin_``: its own, else the installation's, else the demo key."""
        if self.keys_dir is not None and bin_ and _BIN.fullmatch(bin_):
            own = self.keys_dir / f"{bin_}.p12"
            if own.is_file():
                return own
        if self.key_file is not None:
            return self.key_file
        return self.instance_dir / DEMO_KEY

    def certificate(self, bin_: str | None = None) -> x509.Certificate:
        """The certificate that signs for ``bin_`` (for checking signatures against it)."""
        path = self.key_path(bin_)
        data = self._read(path)
        _, cert, _ = self._load(path, data)
        return cert

    def _signer(self, path: Path) -> SimpleSigner:
        """The loaded key at ``path`` (read once, then kept)."""
        with self._lock:
            signer = self._loaded.get(path)
            if signer is None:
                data = self._read(path)
                self._load(path, data)  # the readable error for a wrong passphrase or a bad file
                signer = _pyhanko().signers.SimpleSigner.load_pkcs12_data(data, other_certs=(),
                                                                          passphrase=self._secret())
                self._loaded[path] = signer
            return signer

    def _read(self, path: Path) -> bytes:
        """The bytes of a key file; the demo key is generated the first time it is needed."""
        if path == self.instance_dir / DEMO_KEY and not path.exists():
            write_demo_key(path, self._secret())
        try:
            return path.read_bytes()
        except OSError as exc:
            raise SigningUnavailable(f"cannot read the signing key {path}: {exc.strerror}") from exc

    def _load(self, path: Path, data: bytes) -> tuple[object, x509.Certificate, list[x509.Certificate]]:
        """Open a PKCS#12 file, or say in one line why it cannot be used."""
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, self._secret())
        except ValueError as exc:
            raise SigningUnavailable(f"cannot open the signing key {path}: wrong passphrase or not PKCS#12") from exc
        if key is None or cert is None:
            raise SigningUnavailable(f"the signing key {path} holds no private key with its certificate")
        return key, cert, list(extra)

    def _secret(self) -> bytes | None:
        return self.passphrase.encode("utf-8") if self.passphrase else None


def outside_event_loop(work: Callable[[], _T]) -> _T:
    """Run ``work`` here, or in a helper thread when this thread runs an asyncio loop.

    pyHanko's synchronous calls use ``asyncio.run``, which refuses to start inside a running loop
    (an async server, or a test session driving a browser through Playwright).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-signing") as pool:
        return pool.submit(work).result()


@dataclass(frozen=True)
class _PyHanko:
    signers: ModuleType
    fields: ModuleType
    IncrementalPdfFileWriter: Any


def _pyhanko() -> _PyHanko:
    """pyHanko's signing parts, imported on the first signature (the import takes about 0.5 s)."""
    with warnings.catch_warnings():
        # pyHanko imports cryptography's DSA key type, which cryptography has deprecated; we never use DSA.
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
    return _PyHanko(signers, fields, IncrementalPdfFileWriter)


def write_demo_key(path: Path, passphrase: bytes | None) -> None:
    """Generate a self-signed demo key and certificate into ``path`` (owner-only), unless one appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, DEMO_SUBJECT),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "homeschool (demo installation)"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .sign(key, hashes.SHA256())
    )
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    data = pkcs12.serialize_key_and_certificates(b"homeschool demo", key, cert, None, encryption)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.link(tmp, path)  # atomic and refuses to replace: two processes starting at once keep one key
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
