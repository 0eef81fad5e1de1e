from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from budget import services
from budget.inputs import ExpenseInput
from budget.models import Budget, Expense, Income
from events.models import ProgrammeRole
from jubileum.lib.apitokens import create_token

Role = ProgrammeRole.Role
BASE = "/api/v1/programmes/brandweer-100/budget"


def _user(username: str, programme=None, role: str = Role.ORGANISER):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.org", first_name=username.title()
    )
    if programme is not None:
        ProgrammeRole.objects.create(user=user, programme=programme, role=role)
    return user


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


@pytest.fixture
def organiser(programme):
    return _user("anne", programme)


@pytest.fixture
def second_organiser(programme):
    return _user("bert", programme)


@pytest.fixture
def viewer(programme):
    return _user("vera", programme, Role.VIEWER)


def bearer(user) -> dict[str, str]:
    _row, token = create_token(user, "test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def as_organiser(organiser) -> dict[str, str]:
    return bearer(organiser)


@pytest.fixture
def expense(budget, organiser) -> Expense:
    return services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.get(name="Huur").pk,
            supplier="Verhuurbedrijf De Eembocht",
            description="Tent 10 x 20 m",
            date=dt.date(2027, 1, 20),
            amount_excl_vat=Decimal("875.00"),
            vat_rate=21,
        ),
        by=organiser,
    )


def expense_payload(budget, **fields) -> dict:
    payload = {
        "category_id": budget.categories.get(name="Catering").pk,
        "supplier": "Bakkerij Van der Pol",
        "description": "Koffie en gebak",
        "date": "2027-01-15",
        "amount_excl_vat": "33.33",
        "vat_rate": 9,
    }
    payload.update(fields)
    return payload


# --- Reading -----------------------------------------------------------------------------------


def test_summary_with_a_token(client, budget, expense, as_organiser):
    response = client.get(BASE, headers=as_organiser)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == "8000.00"
    assert body["counted_vat_mode"] == "incl"
    assert body["planned"] == "1058.75"
    assert body["forecast"] == "6941.25"
    assert body["remaining"] == "8000.00"
    assert body["forecast_percentage"] == "13.2"
    assert body["awaiting_approval"] == 1
    huur = next(line for line in body["per_category"] if line["name"] == "Huur")
    assert huur["forecast"] == "1058.75"
    assert body["over_time"] == [{"date": "2027-01-20", "forecast": "1058.75", "paid": "0.00"}]


def test_summary_with_the_session(client, budget, organiser):
    client.force_login(organiser)
    assert client.get(BASE).status_code == 200


def test_viewer_reads_but_cannot_change(client, budget, viewer, expense):
    headers = bearer(viewer)
    assert client.get(BASE, headers=headers).status_code == 200
    listed = client.get(f"{BASE}/expenses", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert client.get(f"{BASE}/income", headers=headers).status_code == 200
    created = client.post(
        f"{BASE}/expenses",
        expense_payload(budget),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 403
    assert created.json()["code"] == "permission_denied"
    patched = client.patch(
        f"{BASE}/expenses/{expense.pk}",
        {"supplier": "Iemand anders"},
        content_type="application/json",
        headers=headers,
    )
    assert patched.status_code == 403
    income = client.post(
        f"{BASE}/income",
        {"kind": "sponsorship", "description": "Gift", "date": "2027-01-01", "amount": "10.00"},
        content_type="application/json",
        headers=headers,
    )
    assert income.status_code == 403
    assert Expense.objects.get().supplier == "Verhuurbedrijf De Eembocht"
    assert not Income.objects.exists()


def test_organiser_of_another_programme_gets_404(client, budget, expense, make_programme):
    outsider = _user("otto", make_programme())
    headers = bearer(outsider)
    for url in (BASE, f"{BASE}/expenses", f"{BASE}/income"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    response = client.patch(
        f"{BASE}/expenses/{expense.pk}",
        {"supplier": "x"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404


def test_expense_of_another_budget_is_404(client, budget, as_organiser, make_programme, organiser):
    other = Budget.objects.create(programme=make_programme(), total=Decimal("100.00"))
    ProgrammeRole.objects.create(user=organiser, programme=other.programme, role=Role.ORGANISER)
    foreign = services.record_expense(
        other,
        ExpenseInput(
            category_id=other.categories.first().pk,
            supplier="x",
            description="y",
            date=dt.date(2027, 1, 1),
            amount_excl_vat=Decimal("1.00"),
        ),
        by=organiser,
    )
    response = client.patch(
        f"{BASE}/expenses/{foreign.pk}",
        {"supplier": "z"},
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer jub_" + "x" * 43},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic YW5uZTpzZWNyZXQ="},
    ],
)
def test_without_valid_credentials_is_401(client, budget, headers):
    response = client.get(BASE, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_session_changes_need_the_csrf_token(budget, organiser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(organiser)
    response = client.post(
        f"{BASE}/expenses", expense_payload(budget), content_type="application/json"
    )
    assert response.status_code == 403
    assert not Expense.objects.exists()


def test_list_is_paginated_with_fixed_queries(
    client, budget, organiser, as_organiser, django_assert_max_num_queries
):
    category = budget.categories.first()
    Expense.objects.bulk_create(
        Expense(
            budget=budget,
            category=category,
            supplier=f"Leverancier {n}",
            description="Regel",
            date=dt.date(2027, 1, 1),
            amount_excl_vat=Decimal("10.00"),
            vat_amount=Decimal("2.10"),
            recorded_by=organiser,
        )
        for n in range(120)
    )
    with django_assert_max_num_queries(8):
        response = client.get(f"{BASE}/expenses?page_size=50&page=2", headers=as_organiser)
    body = response.json()
    assert body["count"] == 120
    assert len(body["items"]) == 50
    assert body["items"][0]["amount_incl_vat"] == "12.10"
    assert client.get(f"{BASE}/expenses?colour=red", headers=as_organiser).status_code == 422


# --- Writing -----------------------------------------------------------------------------------


def test_create_expense(client, budget, organiser, as_organiser):
    response = client.post(
        f"{BASE}/expenses",
        expense_payload(budget, invoice_number="F-1"),
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount_excl_vat"] == "33.33"
    assert body["vat_amount"] == "3.00"
    assert body["amount_incl_vat"] == "36.33"
    assert body["counted_amount"] == "36.33"
    assert body["status"] == "planned"
    assert body["recorded_by"] == "Anne"
    expense = Expense.objects.get()
    assert expense.history.get().history_user == organiser


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"amount_excl_vat": "1234.565"}, 422, "amount_too_precise"),
        ({"amount_excl_vat": "-5.00"}, 422, "amount_not_positive"),
        ({"amount_excl_vat": 12.5}, 422, "validation_error"),
        ({"vat_rate": 19}, 422, "invalid_vat_rate"),
        ({"colour": "red"}, 422, "validation_error"),
        ({"supplier": "  "}, 422, "validation_error"),
        ({"supplier": "x" * 201}, 422, "validation_error"),
        ({"category_id": 999999}, 422, "unknown_category"),
        ({"amount_excl_vat": "5000.00", "status": "paid"}, 409, "approval_required"),
    ],
)
def test_bad_expense_input(client, budget, as_organiser, fields, status, code):
    response = client.post(
        f"{BASE}/expenses",
        expense_payload(budget, **fields),
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert not Expense.objects.exists()


def test_patch_changes_fields_and_moves_forward(
    client, budget, expense, as_organiser, second_organiser
):
    url = f"{BASE}/expenses/{expense.pk}"
    refused = client.patch(
        url, {"status": "committed"}, content_type="application/json", headers=as_organiser
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "approval_required"
    approved = client.post(
        f"{url}/approve", content_type="application/json", headers=bearer(second_organiser)
    )
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == "Bert"
    response = client.patch(
        url,
        {"invoice_number": "2027-014", "status": "invoiced", "status_date": "2027-02-01"},
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "invoiced"
    assert body["invoice_number"] == "2027-014"
    assert body["committed_on"] == body["invoiced_on"] == "2027-02-01"
    backwards = client.patch(
        url, {"status": "planned"}, content_type="application/json", headers=as_organiser
    )
    assert backwards.status_code == 409
    assert backwards.json()["code"] == "status_backwards"


def test_patch_changes_only_the_fields_sent(client, budget, expense, as_organiser, activity):
    url = f"{BASE}/expenses/{expense.pk}"
    response = client.patch(
        url,
        {"activity_id": activity.pk, "supplier": None, "invoice_number": "F-9"},
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # null for a field that cannot be empty leaves it as it was.
    assert body["supplier"] == "Verhuurbedrijf De Eembocht"
    assert (body["activity"]["id"], body["invoice_number"]) == (activity.pk, "F-9")
    assert body["amount_excl_vat"] == "875.00"
    cleared = client.patch(
        url,
        {"activity_id": None, "invoice_number": None},
        content_type="application/json",
        headers=as_organiser,
    ).json()
    assert (cleared["activity"], cleared["invoice_number"]) == (None, "")
    refused = client.patch(
        url, {"amount_excl_vat": "0.00"}, content_type="application/json", headers=as_organiser
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "amount_not_positive")
    assert Expense.objects.get().amount_excl_vat == Decimal("875.00")


def test_approving_own_expense_is_403(client, expense, as_organiser):
    response = client.post(
        f"{BASE}/expenses/{expense.pk}/approve",
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "own_expense"


def test_income_create_and_list(client, budget, as_organiser):
    response = client.post(
        f"{BASE}/income",
        {
            "kind": "sponsorship",
            "description": "Rabobank Clubsupport",
            "date": "2027-01-10",
            "amount": "750.00",
        },
        content_type="application/json",
        headers=as_organiser,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "750.00"
    listed = client.get(f"{BASE}/income", headers=as_organiser).json()
    assert listed["count"] == 1
    assert listed["items"][0]["from_payments"] is False
    summary = client.get(BASE, headers=as_organiser).json()
    assert summary["income_other"] == "750.00"
    assert summary["forecast"] == "8750.00"


def test_budget_endpoints_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/programmes/{slug}/budget" in spec["paths"]
    assert "/programmes/{slug}/budget/expenses/{id}" in spec["paths"]
    assert "OrganiserAuth" in spec["components"]["securitySchemes"]


# --- An approval binds what was approved (issue 15 case 10) -------------------------------------


@pytest.fixture
def third_organiser(programme):
    return _user("carla", programme)


def _patch(client, expense_id: int, body: dict, user) -> dict:
    response = client.patch(
        f"{BASE}/expenses/{expense_id}", body, content_type="application/json", headers=bearer(user)
    )
    return {**response.json(), "http": response.status_code}


def _approve(client, expense_id: int, user) -> dict:
    response = client.post(
        f"{BASE}/expenses/{expense_id}/approve",
        content_type="application/json",
        headers=bearer(user),
    )
    return {**response.json(), "http": response.status_code}


def test_who_changes_an_expense_may_not_approve_it(
    client, budget, organiser, second_organiser, third_organiser
):
    # Bert's € 450 (0 % VAT): below the threshold, no approval needed.
    created = client.post(
        f"{BASE}/expenses",
        expense_payload(budget, amount_excl_vat="450.00", vat_rate=0),
        content_type="application/json",
        headers=bearer(second_organiser),
    )
    expense_id = created.json()["id"]
    # Anne makes it € 6,500 from another supplier: it needs approval now.
    changed = _patch(
        client,
        expense_id,
        {"amount_excl_vat": "6500.00", "supplier": "Evenementenbureau Zuid"},
        organiser,
    )
    assert (changed["http"], changed["needs_approval"], changed["approved_by"]) == (200, True, None)

    refused = _approve(client, expense_id, organiser)
    assert (refused["http"], refused["code"]) == (403, "approver_changed_expense")
    assert "gewijzigd" in refused["message"]
    paid = _patch(client, expense_id, {"status": "paid"}, organiser)
    assert (paid["http"], paid["code"]) == (409, "approval_required")
    expense = Expense.objects.get(pk=expense_id)
    assert (expense.status, expense.approved_by) == (Expense.Status.PLANNED, None)

    # Bert recorded it: not him either. Carla neither recorded nor changed it.
    assert _approve(client, expense_id, second_organiser)["code"] == "own_expense"
    assert _approve(client, expense_id, third_organiser)["approved_by"] == "Carla"
    assert _patch(client, expense_id, {"status": "paid"}, organiser)["http"] == 200


def test_raising_a_paid_expense_puts_it_back_in_the_queue_for_someone_else(
    client, budget, organiser, second_organiser, third_organiser
):
    created = client.post(
        f"{BASE}/expenses",
        expense_payload(budget, amount_excl_vat="100.00", status="paid"),
        content_type="application/json",
        headers=bearer(second_organiser),
    )
    expense_id = created.json()["id"]
    raised = _patch(client, expense_id, {"amount_excl_vat": "7500.00"}, organiser)
    # It stays paid (that happened), and waits in the queue for a second pair of eyes.
    assert (raised["http"], raised["status"], raised["approved_by"]) == (200, "paid", None)
    queue = client.get(f"{BASE}/expenses?awaiting_approval=true", headers=bearer(organiser))
    assert [item["id"] for item in queue.json()["items"]] == [expense_id]
    assert _approve(client, expense_id, organiser)["code"] == "approver_changed_expense"
    assert _approve(client, expense_id, third_organiser)["approved_by"] == "Carla"


def test_an_approval_binds_amount_vat_supplier_and_description(
    client, budget, expense, organiser, second_organiser, third_organiser
):
    assert _approve(client, expense.pk, second_organiser)["approved_by"] == "Bert"
    # Carla changes only the description: Bert approved another one.
    changed = _patch(client, expense.pk, {"description": "Tent 10 x 30 m"}, third_organiser)
    assert (changed["http"], changed["approved_by"]) == (200, None)
    refused = _patch(client, expense.pk, {"status": "committed"}, organiser)
    assert (refused["http"], refused["code"]) == (409, "approval_required")
    assert _approve(client, expense.pk, third_organiser)["code"] == "approver_changed_expense"
    assert _approve(client, expense.pk, second_organiser)["approved_by"] == "Bert"
    assert _patch(client, expense.pk, {"status": "committed"}, organiser)["http"] == 200
