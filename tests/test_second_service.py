"""A second state service with no Python of its own (issue 12, point 5).

``tests/second_service/`` holds a tiny service — issuing a certificate: a diagram, its declaration
(``certificate_issuance.process.toml``) and its forms. The product is pointed at a processes and a
forms folder holding the shipped processes plus this one, deploys them as ``homeschool serve`` does,
and the service runs end to end: registered at the office through the web intake page, its task
done by a person holding the role the declaration adds, started and followed over the API. Every
page and route it uses exists only because the declaration names it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.application.deployments import DeploymentRefused, deploy, deploy_shipped
from service.application.staff import register_api_client
from service.bootstrap import Services
from service.domain.staff import Actor
from service.web import create_app

from .support import PROJECT, SCHOOL_25, registry, shipped_services

SECOND = Path(__file__).parent / "second_service"
PROCESS = "certificate_issuance"
PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
OFFICER_PASSWORD = "certificate-officer-2026"


def _tree(root: Path, declaration: str | None = None) -> tuple[Path, Path]:
    """processes/ and forms/: the shipped ones plus the second service (``declaration``: its declaration's text)."""
    processes, forms = root / "processes", root / "forms"
    shutil.copytree(PROJECT / "processes", processes)
    shutil.copytree(PROJECT / "forms", forms)
    for path in (SECOND / "processes").iterdir():
        shutil.copy(path, processes / path.name)
    shutil.copytree(SECOND / "forms" / PROCESS, forms / PROCESS)
    if declaration is not None:
        (processes / f"{PROCESS}.process.toml").write_text(declaration, encoding="utf-8")
    return processes, forms


def _services(tmp_path: Path, database_url: str, processes: Path, forms: Path) -> Services:
    services = shipped_services(tmp_path, database_url, {"HOMESCHOOL_PROCESSES_DIR": str(processes),
                                                        "HOMESCHOOL_FORMS_DIR": str(forms)})
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    return services


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product on the shipped processes plus the second service, deployed as at start-up."""
    processes, forms = _tree(tmp_path / "tree")
    services = _services(tmp_path, database_url, processes, forms)
    result = deploy_shipped(services.write_uow, services.runtime, processes, forms, services.now())
    assert result is not None and PROCESS in {version.process_id for version in result.versions}
    yield services
    services.database.dispose()


def _client(product: Services) -> FlaskClient:
    client = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie is Secure
    return client


def _signed_in(product: Services, login: str, password: str | None = None) -> FlaskClient:
    client = _client(product)
    response = client.post("/login", data={"login": login, "password": password or PASSWORDS[login]})
    assert response.status_code == 302, response.data
    return client


def _tasks(page: str) -> list[str]:
    return re.findall(r'href="/tasks/([0-9a-f-]{36})"', page)


def test_the_declaration_is_deployed_with_the_diagram(product: Services) -> None:
    with product.uow(write=False) as uow:
        digest = uow.deployments.current()[PROCESS]
        deployment = uow.deployments.get(digest)
    assert deployment is not None and f"processes/{PROCESS}.process.toml" in deployment.manifest
    declared = product.runtime.declarations.get(PROCESS)
    assert declared is not None and [role.code for role in declared.roles] == ["certificate_officer"]


def test_the_second_service_runs_through_the_web_app_and_the_api(product: Services) -> None:
    ids = registry(product)
    # the administrator grants the role the declaration adds, shown by its declared name
    admin = _signed_in(product, "admin25")
    assert "Специалист по справкам" in admin.get("/admin/staff").data.decode()
    added = admin.post("/admin/staff", data={"login": "officer", "full_name": "Анықтама Берушісі",
                                             "password": OFFICER_PASSWORD, "roles": ["certificate_officer"]})
    assert added.status_code == 302
    with product.uow(write=False) as uow:
        found = uow.staff.by_login("officer")
    assert found is not None and found[0].roles_in(ids[SCHOOL_25]) == {"certificate_officer"}

    # the office clerk finds the declared intake in the menu and registers a request
    clerk = _signed_in(product, "clerk")
    menu = clerk.get("/tasks").data.decode()
    assert 'href="/intake/certificate"' in menu and "Заявление на справку" in menu
    page = clerk.get("/intake/certificate")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'name="applicant_name"' in html and 'name="certificate_number"' not in html  # office fields hidden
    registered = clerk.post("/intake/certificate", data={"applicant_name": "Ахметова Айгүл",
                                                         "purpose": "по месту работы"})
    assert registered.status_code == 302, registered.data.decode()[:2000]
    case_id = int(registered.headers["Location"].rsplit("/", 1)[1])
    with product.uow(write=False) as uow:
        case = uow.instances.get(case_id)
    assert case is not None and case.process_id == PROCESS and case.business_key.startswith("CERT-")
    assert case.organisation_id == ids[SCHOOL_25]

    # the task goes to the new role: not to the clerk, to the officer, who completes it
    assert _tasks(clerk.get("/tasks").data.decode()) == []
    officer = _signed_in(product, "officer", OFFICER_PASSWORD)
    assert officer.get("/intake/certificate").status_code == 403  # registering is the clerk's role
    [task] = _tasks(officer.get("/tasks").data.decode())
    assert clerk.post(f"/tasks/{task}", data={"certificate_text": "Справка дана"}).status_code in (403, 404)
    assert officer.get(f"/tasks/{task}").status_code == 200
    done = officer.post(f"/tasks/{task}", data={"certificate_text": "Справка дана по месту требования."})
    assert done.status_code == 302, done.data.decode()[:2000]

    # over the API: the status of the office's case, and a new case from the portal
    with product.uow() as uow:
        token = register_api_client(uow, name="portal", scopes=("applications:submit", "cases:read"),
                                    now=product.now())
    api = _client(product)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    status = api.get(f"/api/v1/cases/{case.business_key}", headers=headers)
    assert status.status_code == 200, status.data
    answer = status.get_json()
    assert (answer["process"], answer["status"], answer["stage"]) == (PROCESS, "completed", "certificate_issued")
    assert answer["stage_name"] == "The certificate was issued"
    assert [stage["stage"] for stage in answer["stages"]] == ["certificate_preparation", "certificate_issued"]

    with product.uow() as uow:
        reader = register_api_client(uow, name="reader", scopes=("cases:read",), now=product.now())
    refused = api.post("/api/v1/certificates", json={"provider_bin": SCHOOL_25, "applicant_name": "Серікова Дана",
                                                      "purpose": "в банк"},
                       headers={"Authorization": f"Bearer {reader}", "Idempotency-Key": "reader-1"})
    assert refused.status_code == 403  # the declared scope, applications:submit, is needed
    started = api.post("/api/v1/certificates", json={"provider_bin": SCHOOL_25, "applicant_name": "Серікова Дана",
                                                      "purpose": "в банк"},
                       headers={**headers, "Idempotency-Key": "portal-cert-1"})
    assert started.status_code == 201, started.data
    number = started.get_json()["case_number"]
    assert number.startswith("CERT-") and started.get_json()["stage"] == "certificate_preparation"
    again = api.get(f"/api/v1/cases/{number}", headers={**headers, "Accept-Language": "kk"}).get_json()
    assert (again["status"], again["stage_name"]) == ("running", "Анықтама дайындалуда")
    with product.uow(write=False) as uow:
        portal_case = uow.instances.get(again_id := started.get_json()["instance_id"])
    assert portal_case is not None and again_id and portal_case.process_id == PROCESS
    documented = api.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/certificates" in documented["paths"]
    assert PROCESS in documented["components"]["schemas"]["CaseStatus"]["properties"]["process"]["enum"]

    # the Rules paragraph it declares is traced to its elements
    analyst = _signed_in(product, "analyst")
    diagrams = analyst.get("/diagrams").data.decode()
    assert re.search(r"<td>§11</td><td><code[^>]*>[^<]*certificate_issuance:issue_certificate", diagrams)


def test_a_new_version_of_the_declaration_is_taken_up_without_a_restart(product: Services) -> None:
    clerk = _signed_in(product, "clerk")
    assert "<title>Заявление на справку —" in clerk.get("/intake/certificate").data.decode()
    path = product.settings.processes_dir / f"{PROCESS}.process.toml"
    renamed = path.read_text(encoding="utf-8").replace('ru = "Заявление на справку"', 'ru = "Запрос справки"')
    result = deploy(product.write_uow, product.runtime, actor=Actor.system("test"),
                    files={f"processes/{PROCESS}.process.toml": renamed.encode("utf-8")}, now=product.now())
    assert result.changed
    page = clerk.get("/intake/certificate").data.decode()
    assert "<title>Запрос справки —" in page and '<a href="/intake/certificate">Запрос справки</a>' in page



def test_a_new_version_moving_the_api_start_answers_at_once_without_a_new_app(product: Services) -> None:
    """The start routes are looked up per request: the app made before the deployment serves the new path."""
    with product.uow() as uow:
        token = register_api_client(uow, name="portal", scopes=("applications:submit",), now=product.now())
    api = _client(product)  # made before the new version is deployed
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "kk"}
    body = {"provider_bin": SCHOOL_25, "applicant_name": "Серікова Дана", "purpose": "в банк"}
    assert api.post("/api/v1/certificates", json=body, headers={**headers, "Idempotency-Key": "v1"}).status_code == 201
    path = product.settings.processes_dir / f"{PROCESS}.process.toml"
    moved = path.read_text(encoding="utf-8").replace('path = "certificates"', 'path = "certificate-requests"')
    assert moved != path.read_text(encoding="utf-8")
    deploy(product.write_uow, product.runtime, actor=Actor.system("test"),
           files={f"processes/{PROCESS}.process.toml": moved.encode("utf-8")}, now=product.now())

    started = api.post("/api/v1/certificate-requests", json=body, headers={**headers, "Idempotency-Key": "v2"})
    assert started.status_code == 201, started.data
    assert started.get_json()["case_number"].startswith("CERT-")
    gone = api.post("/api/v1/certificates", json=body, headers={**headers, "Idempotency-Key": "v3"})
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found"
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/certificate-requests" in paths and "/api/v1/certificates" not in paths
    # the fixed routes still win over the declared ones, and keep their methods
    assert api.post("/api/v1/sms/replies", json={}, headers=headers).status_code == 403
    wrong_method = api.post("/api/v1/cases/CERT-1", json={}, headers=headers)
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]


def test_a_broken_declaration_is_not_deployed(product: Services) -> None:
    path = product.settings.processes_dir / f"{PROCESS}.process.toml"
    broken = path.read_text(encoding="utf-8").replace("lookup_priority = 10", "lookup_priority = 'ten'")
    with pytest.raises(DeploymentRefused) as refused:
        deploy(product.write_uow, product.runtime, actor=Actor.system("test"),
               files={f"processes/{PROCESS}.process.toml": broken.encode("utf-8")}, now=product.now())
    assert any(f"{PROCESS}.process.toml: lookup_priority: must be an integer" in line
               for line in refused.value.problems), refused.value.problems
    assert product.runtime.declarations.get(PROCESS).lookup_priority == 10  # type: ignore[union-attr]


def test_without_its_intake_and_api_declared_the_service_has_neither(tmp_path: Path, database_url: str) -> None:
    """The pages and routes come from the declaration: one declaring only its role and stages gets none."""
    text = (SECOND / "processes" / f"{PROCESS}.process.toml").read_text(encoding="utf-8")
    bare = re.sub(r"\[\[(intake|api_start)\]\]\n(?:[^\[\n].*\n|\n)*", "", text)
    assert "[[intake]]" not in bare and "[[role]]" in bare
    processes, forms = _tree(tmp_path / "tree", declaration=bare)
    services = _services(tmp_path, database_url, processes, forms)
    try:
        clerk = _signed_in(services, "clerk")
        assert 'href="/intake/certificate"' not in clerk.get("/tasks").data.decode()
        assert clerk.get("/intake/certificate").status_code == 302  # back to the task list: no such intake
        with services.uow() as uow:
            token = register_api_client(uow, name="portal", scopes=("applications:submit",), now=services.now())
        response = _client(services).post("/api/v1/certificates", json={"provider_bin": SCHOOL_25},
                                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k"})
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    finally:
        services.database.dispose()
