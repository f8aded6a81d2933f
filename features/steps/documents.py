"""Steps about the documents the provider issues: the receipt, the reasoned refusal, the
notification of acceptance and the admission order — in Kazakh and Russian, read as a person reads them."""

from __future__ import annotations

from pytest_bdd import parsers, then

from service.bootstrap import Services
from service.domain.documents import DocumentInfo
from service.domain.organisations import Organisation
from service.domain.staff import role_name

from . import people, wording
from .cases import Case, application_case
from .tasks import open_tasks

_DOC_FORMS = "|".join(form for name in wording.DOCUMENTS for form in name.forms)
_LANGUAGES = "|".join(wording.DOCUMENT_LANGUAGES)


def issued(product: Services, case: Case, kind: str) -> list[DocumentInfo]:
    """The documents of ``kind`` issued on the case."""
    with product.uow(write=False) as uow:
        return [d for d in uow.documents.for_instance(case.instance_id) if d.kind == kind]


def html_of(product: Services, case: Case, document: str, language: str) -> str:
    """The HTML of the case's document (named as in the features) in «казахском»/«русском»."""
    name = wording.document(document)
    code = wording.DOCUMENT_LANGUAGES[language]
    found = [d for d in issued(product, case, name.kind) if d.language == code]
    assert len(found) == 1, f"{name.title} ({code}) issued {len(found)} times on case {case.number}"
    with product.uow(write=False) as uow:
        stored = uow.documents.get(found[0].id)
    assert stored is not None
    return stored.html


def text_of(product: Services, case: Case, document: str, language: str) -> str:
    """What a reader sees of the case's document (named as in the features) in «казахском»/«русском»."""
    return wording.visible_text(html_of(product, case, document, language))


def registered(product: Services, bin_: str) -> Organisation:
    """An organisation as the registry of organisations describes it."""
    with product.uow(write=False) as uow:
        found = uow.organisations.by_bin(bin_)
    assert found is not None, f"{bin_} is not in the registry"
    return found


def names_organisation(text: str, organisation: Organisation, language: str, where: str) -> None:
    """The organisation's name in ``language`` and its BIN, as the registry has them, are on the document."""
    name = " ".join(organisation.name(language).split())
    assert name in text, f"«{name}» is not on the {where}"
    assert organisation.bin in text, f"the BIN {organisation.bin} is not on the {where}"


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


@then(parsers.re(rf"в каждом документе по делу на (?P<language>{_LANGUAGES}) языке сказано:"))
def every_document_says(product: Services, case: Case, language: str, datatable: list[list[str]]) -> None:
    """Each line of the table appears in every document of the case issued in that language."""
    code = wording.DOCUMENT_LANGUAGES[language]
    with product.uow(write=False) as uow:
        pages = {d.title: uow.documents.get(d.id) for d in uow.documents.for_instance(case.instance_id)
                 if d.language == code}
    assert pages, f"no document in {language} on case {case.number}"
    for title, stored in pages.items():
        assert stored is not None
        text = wording.visible_text(stored.html)
        for line in wording.table_lines(datatable):
            assert line in text, f"«{line}» is not in «{title}»:\n{text}"


@then(parsers.re(rf"в (?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке принятыми названы только "
                 r"(?P<listed>«.+»)"))
def accepted_documents(product: Services, case: Case, document: str, language: str, listed: str) -> None:
    """The list of accepted documents holds exactly these, in this order."""
    items = wording.list_items(html_of(product, case, document, language), "documents")
    assert items == wording.quoted(listed), f"the {document} ({language}) lists {items}"


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке "
                 r"подписан[аоы]? сотрудником канцелярии, зарегистрировавшим заявление"))
def signed_by_the_clerk(product: Services, case: Case, document: str, language: str) -> None:
    """The office clerk who registered the application stands in the signature, by role and name."""
    text = text_of(product, case, document, language)
    clerk = people.official(case.school, "office_clerk")
    position = role_name("office_clerk", wording.DOCUMENT_LANGUAGES[language])
    assert f"{position} {clerk.full_name}" in text, f"«{position} {clerk.full_name}» does not sign the {document}"


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) значится в деле под своим номером № (?P<number>\S+) "
                 r"на казахском и русском языках"))
def listed_under_its_number(product: Services, case: Case, document: str, number: str) -> None:
    """The case lists the document by its own number (an order's number), not by the application's."""
    name = wording.document(document)
    titles = sorted(d.title for d in issued(product, case, name.kind))
    assert len(titles) == 2 and all(t.endswith(f" № {number}") for t in titles), titles


_FROM_REGISTRY = r"(?:из реестра организаций|из настроек)"


@then(parsers.re(rf"в (?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке "
                 rf"названа школа-услугодатель {_FROM_REGISTRY}"))
def names_the_school(product: Services, case: Case, document: str, language: str) -> None:
    """The case's school — its name in that language and its BIN, as the registry has them — is on the document."""
    text = text_of(product, case, document, language)
    names_organisation(text, registered(product, case.school), wording.DOCUMENT_LANGUAGES[language], document)


@then(parsers.re(rf"в (?P<document>{_DOC_FORMS}) по заявлению № (?P<number>\S+) на (?P<language>{_LANGUAGES}) "
                 rf"языке названа (?P<school>школа № \d+) {_FROM_REGISTRY}"))
def names_that_school(product: Services, document: str, number: str, language: str, school: str) -> None:
    """The document of that application names the school, as the registry has it."""
    text = text_of(product, application_case(product, number), document, language)
    bin_ = people.organisation(school.replace("школа", "школы"))
    names_organisation(text, registered(product, bin_), wording.DOCUMENT_LANGUAGES[language], document)


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке "
                 rf"подписан[аоы]? руководителем школы-услугодателя {_FROM_REGISTRY}"))
def signed_by_the_head(product: Services, case: Case, document: str, language: str) -> None:
    """The head's position from the registry and the name of the head who acted stand in the signature."""
    text = text_of(product, case, document, language)
    school = registered(product, case.school)
    head = people.official(case.school, "head")
    signature = f"{school.head_position_kk if language == 'казахском' else school.head_position_ru} {head.full_name}"
    assert signature in text, f"«{signature}» is not on the {document}"


@then(parsers.re(rf"(?P<document>{_DOC_FORMS}) на (?P<language>{_LANGUAGES}) языке "
                 r"подписан[аоы]? сотрудником канцелярии, подтвердившим отказ"))
def signed_by_the_confirming_clerk(product: Services, case: Case, document: str, language: str) -> None:
    """The clerk who confirmed the refusal stands in its signature, by role and name — not the head."""
    text = text_of(product, case, document, language)
    clerk = people.official(case.school, "office_clerk")
    head = people.official(case.school, "head")
    position = role_name("office_clerk", wording.DOCUMENT_LANGUAGES[language])
    assert f"{position} {clerk.full_name}" in text, f"«{position} {clerk.full_name}» does not sign the {document}"
    assert head.full_name not in text, f"the head {head.full_name} is named on the {document}, though the clerk refused"


@then("документы руководителю не переданы")
def not_passed_to_the_head(product: Services, case: Case) -> None:
    """No receipt was issued and nothing of the case waits for the head."""
    assert issued(product, case, "receipt") == []
    assert open_tasks(product, case, "head") == []
