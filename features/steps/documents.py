"""Steps about the documents the provider issues: the receipt, the reasoned refusal, the
notification of acceptance and the admission order — in Kazakh and Russian, read as a person reads them."""

from __future__ import annotations

from pytest_bdd import parsers, then

from service.bootstrap import Services
from service.documents.provider import ProviderInfo
from service.domain.documents import DocumentInfo

from . import wording
from .cases import Case
from .tasks import open_tasks

_DOC_FORMS = "|".join(form for name in wording.DOCUMENTS for form in name.forms)
_LANGUAGES = "|".join(wording.DOCUMENT_LANGUAGES)


def issued(product: Services, case: Case, kind: str) -> list[DocumentInfo]:
    """The documents of ``kind`` issued on the case."""
    with product.uow(write=False) as uow:
        return [d for d in uow.documents.for_instance(case.instance_id) if d.kind == kind]


def text_of(product: Services, case: Case, document: str, language: str) -> str:
    """What a reader sees of the case's document (named as in the features) in «казахском»/«русском»."""
    name = wording.document(document)
    code = wording.DOCUMENT_LANGUAGES[language]
    found = [d for d in issued(product, case, name.kind) if d.language == code]
    assert len(found) == 1, f"{name.title} ({code}) issued {len(found)} times on case {case.number}"
    with product.uow(write=False) as uow:
        stored = uow.documents.get(found[0].id)
    assert stored is not None
    return wording.visible_text(stored.html)


def provider(product: Services) -> ProviderInfo:
    """The school as the operator configured it (config/provider.toml)."""
    return ProviderInfo.load(product.settings.provider_file)


@then(parsers.re(r"выдан[аоы]? «(?P<title>.+)» на казахском и русском языках"))
def issued_in_both_languages(product: Services, case: Case, title: str) -> None:
    """The document exists once in each language, under its official name."""
    name = wording.document(title)
    documents = issued(product, case, name.kind)
    assert sorted(d.language for d in documents) == ["kk", "ru"], documents
    russian = next(d for d in documents if d.language == "ru")
    assert russian.title.startswith(name.title), russian.title


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) выдан[аоы]? (?P<at>.+), в момент подачи"))
def issued_at_once(product: Services, case: Case, document: str, at: str) -> None:
    """Issued in the same moment the package was handed in, not later."""
    documents = issued(product, case, wording.document(document).kind)
    assert documents and all(d.created_at == wording.moment(at) for d in documents), documents


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) не выдан[аоы]?(?:, .+)?"))
def not_issued(product: Services, case: Case, document: str) -> None:
    """No such document exists on the case (in any language)."""
    assert issued(product, case, wording.document(document).kind) == []


@then(parsers.re(rf"в (?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке сказано:"))
def document_says(product: Services, case: Case, document: str, language: str, datatable: list[list[str]]) -> None:
    """Each line of the table appears in the document's text, as written."""
    text = text_of(product, case, document, language)
    for line in wording.table_lines(datatable):
        assert line in text, f"«{line}» is not in the {document} ({language}):\n{text}"


@then(parsers.re(rf"в (?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке нет слов:"))
def document_does_not_say(product: Services, case: Case, document: str, language: str,
                          datatable: list[list[str]]) -> None:
    """None of the table's lines appears in the document's text."""
    text = text_of(product, case, document, language).lower()
    for line in wording.table_lines(datatable):
        assert line.lower() not in text, f"«{line}» is in the {document} ({language})"


@then(parsers.re(rf"в (?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке "
                 r"названа школа-услугодатель из настроек"))
def names_the_school(product: Services, case: Case, document: str, language: str) -> None:
    """The school's name in that language and its BIN, as configured, are on the document."""
    text = text_of(product, case, document, language)
    school = provider(product)
    name = " ".join(school.name(wording.DOCUMENT_LANGUAGES[language]).split())
    assert name in text, f"«{name}» is not on the {document}"
    assert school.bin in text, f"the BIN {school.bin} is not on the {document}"


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке "
                 r"подписан[аоы]? руководителем школы-услугодателя из настроек"))
def signed_by_the_head(product: Services, case: Case, document: str, language: str) -> None:
    """The head's position and name, as configured, stand in the signature."""
    text = text_of(product, case, document, language)
    school = provider(product)
    signature = f"{school.head_position(wording.DOCUMENT_LANGUAGES[language])} {school.head_name}"
    assert signature in text, f"«{signature}» is not on the {document}"


@then("документы руководителю не переданы")
def not_passed_to_the_head(product: Services, case: Case) -> None:
    """No receipt was issued and nothing of the case waits for the head."""
    assert issued(product, case, "receipt") == []
    assert open_tasks(product, case, "head") == []
