"""The Django admin per programme: a staff organiser of programme A, even holding every model
permission, sees, changes, deletes and picks only A's rows, cannot grant roles, and cannot reach
what belongs to no programme (Stripe's events, users, the task queue). Superusers see all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from budget.models import ActivityAllocation, Budget
from events.models import Activity, ProgrammeRole
from registrations.models import Invitation, Payment, RosterEntry, StripeEvent

Role = ProgrammeRole.Role
APPS = ["events", "registrations", "budget", "jubileum", "auth", "django_tasks_database", "axes"]


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def with_every_permission(user):
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    return user


@pytest.fixture
def other(make_programme):
    return make_programme(name="Veiligheidsmarkt Soesterberg", slug="veiligheidsmarkt")


@pytest.fixture
def other_activity(make_activity, other):
    return make_activity(programme=other, title="Markt van B", slug="markt")


@pytest.fixture
def own_activity(make_activity):
    return make_activity(title="Open dag van A", slug="open-dag")


@pytest.fixture
def staff(client, make_user, programme):
    user = with_every_permission(make_user("organisator-a", Role.ORGANISER, programme))
    client.force_login(user)
    return client


@pytest.fixture
def staff_viewer(client, make_user, programme):
    user = with_every_permission(make_user("meekijker-a", Role.VIEWER, programme))
    client.force_login(user)
    return client


def activity_form(activity: Activity, **changes) -> dict:
    values = {
        "programme": activity.programme_id,
        "title": activity.title,
        "slug": activity.slug,
        "summary": activity.summary,
        "description": activity.description,
        "status": activity.status,
        "starts_at_0": activity.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": activity.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": activity.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": activity.ends_at.strftime("%H:%M:%S"),
        "location_name": activity.location_name,
        "location_address": activity.location_address,
        "audience": activity.audience,
        "registration_required": "on",
        "capacity": activity.capacity,
        "max_party_size": activity.max_party_size,
        "price": activity.price,
        "waitlist_enabled": "on",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    values.update(changes)
    return values


def test_the_activity_list_shows_only_own_programmes(staff, own_activity, other_activity):
    response = staff.get(url("events_activity_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Open dag van A" in page
    assert "Markt van B" not in page
    assert "Veiligheidsmarkt Soesterberg" not in page  # nor in the programme filter


def test_another_programmes_activity_cannot_be_read_changed_or_deleted(
    staff, own_activity, other_activity
):
    change = url("events_activity_change", other_activity.pk)

    assert staff.get(change).status_code == 404
    posted = staff.post(change, activity_form(other_activity, title="Gekaapt"))
    assert posted.status_code == 404
    assert (
        staff.post(url("events_activity_delete", other_activity.pk), {"post": "yes"}).status_code
        == 404
    )
    assert staff.get(url("events_activity_history", other_activity.pk)).status_code == 404

    other_activity.refresh_from_db()
    assert other_activity.title == "Markt van B"


def test_own_activity_can_be_changed(staff, own_activity):
    response = staff.post(
        url("events_activity_change", own_activity.pk),
        activity_form(own_activity, title="Open dag van A, nieuw"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    own_activity.refresh_from_db()
    assert own_activity.title == "Open dag van A, nieuw"


def test_a_new_activity_can_be_filed_only_under_own_programmes(
    staff, programme, own_activity, other
):
    page = staff.get(url("events_activity_add"))
    choices = page.context["adminform"].form.fields["programme"].queryset
    assert list(choices) == [programme]

    response = staff.post(
        url("events_activity_add"), activity_form(own_activity, programme=other.pk, slug="nieuw")
    )

    assert response.status_code == 200
    assert "programme" in response.context["adminform"].form.errors
    assert not Activity.objects.filter(programme=other).exists()


def test_moving_own_activity_to_another_programme_is_refused(staff, own_activity, other):
    response = staff.post(
        url("events_activity_change", own_activity.pk),
        activity_form(own_activity, programme=other.pk),
    )

    assert response.status_code == 200
    assert "programme" in response.context["adminform"].form.errors
    own_activity.refresh_from_db()
    assert own_activity.programme != other


def test_another_programme_is_not_listed_or_changeable(staff, programme, other):
    listing = staff.get(url("events_programme_changelist")).content.decode()

    assert programme.name.replace("&", "&amp;") in listing
    assert other.name not in listing
    assert staff.get(url("events_programme_change", other.pk)).status_code == 404


def test_staff_cannot_add_programmes(staff):
    assert staff.get(url("events_programme_add")).status_code == 403


def test_roles_are_granted_by_superusers_only(staff, django_user_model, programme, other):
    me = django_user_model.objects.get(username="organisator-a")
    own_role = ProgrammeRole.objects.get(user=me)

    assert staff.get(url("events_programmerole_add")).status_code == 403
    refused = staff.post(
        url("events_programmerole_add"), {"user": me.pk, "programme": other.pk, "role": "organiser"}
    )
    assert refused.status_code == 403
    assert (
        staff.post(
            url("events_programmerole_change", own_role.pk),
            {"user": me.pk, "programme": other.pk, "role": "organiser"},
        ).status_code
        == 403
    )
    assert (
        staff.post(url("events_programmerole_delete", own_role.pk), {"post": "yes"}).status_code
        == 403
    )
    assert list(ProgrammeRole.objects.filter(user=me).values_list("programme", "role")) == [
        (programme.pk, "organiser")
    ]


def test_other_programmes_roles_are_not_listed(staff, make_user, other):
    make_user("organisator-b", Role.ORGANISER, other)

    listing = staff.get(url("events_programmerole_changelist")).content.decode()

    assert "organisator-a" in listing
    assert "organisator-b" not in listing


def test_another_programmes_people_and_payments_are_out_of_reach(
    staff, make_registration, own_activity, other_activity, other
):
    theirs = make_registration(activity=other_activity, contact_name="Bea van B")
    mine = make_registration(activity=own_activity, contact_name="Anna van A")
    payment = Payment.objects.create(
        registration=theirs, amount=Decimal("10.00"), idempotency_key="betaling-bea"
    )
    entry = RosterEntry.objects.create(
        programme=other, name="Lid van B", email="b@example.org", brigade="soest"
    )
    invitation = Invitation.objects.create(
        activity=other_activity, name="Gast van B", email="g@example.org"
    )

    listing = staff.get(url("registrations_registration_changelist")).content.decode()
    assert "Anna van A" in listing and "Bea van B" not in listing
    assert "Markt van B" not in listing  # nor in the activity filter
    for path in [
        url("registrations_registration_change", theirs.pk),
        url("registrations_payment_change", payment.pk),
        url("registrations_rosterentry_change", entry.pk),
        url("registrations_invitation_change", invitation.pk),
    ]:
        assert staff.get(path).status_code == 404, path
    # The registration's history is kept by django-simple-history, outside the queryset.
    assert staff.get(url("registrations_registration_history", theirs.pk)).status_code in (403, 404)
    assert staff.get(url("registrations_registration_history", mine.pk)).status_code == 200
    assert "Bea van B" not in staff.get(url("registrations_payment_changelist")).content.decode()


def test_an_invitation_or_roster_entry_cannot_be_filed_under_another_programme(
    staff, own_activity, other_activity, other
):
    invitation = staff.post(
        url("registrations_invitation_add"),
        {"activity": other_activity.pk, "name": "Gast", "email": "gast@example.org"},
    )
    entry = staff.post(
        url("registrations_rosterentry_add"),
        {"programme": other.pk, "name": "Lid", "email": "lid@example.org", "brigade": "soest"},
    )

    assert (
        invitation.status_code == 200 and "activity" in invitation.context["adminform"].form.errors
    )
    assert entry.status_code == 200 and "programme" in entry.context["adminform"].form.errors
    assert not Invitation.objects.exists()
    assert not RosterEntry.objects.exists()


def test_a_budget_allocation_cannot_point_at_another_programmes_activity(
    staff, programme, other_activity
):
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))

    response = staff.post(
        url("budget_budget_change", budget.pk),
        {
            "programme": programme.pk,
            "total": "8000.00",
            "includes_vat": "on",
            "approval_threshold": "500.00",
            "alert_thresholds": "80,100",
            "categories-TOTAL_FORMS": "0",
            "categories-INITIAL_FORMS": "0",
            "allocations-TOTAL_FORMS": "1",
            "allocations-INITIAL_FORMS": "0",
            "allocations-0-activity": other_activity.pk,
            "allocations-0-amount": "100.00",
        },
    )

    assert response.status_code == 200
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "allocations"
    )
    assert "activity" in formset.formset.forms[0].errors
    assert not ActivityAllocation.objects.exists()


def test_what_belongs_to_no_programme_is_for_superusers_only(staff, django_user_model):
    event = StripeEvent.objects.create(event_id="evt_1", type="checkout.session.completed")
    me = django_user_model.objects.get(username="organisator-a")

    for path in [
        url("registrations_stripeevent_changelist"),
        url("registrations_stripeevent_change", event.pk),
        url("auth_user_changelist"),
        url("auth_user_change", me.pk),
        url("auth_group_add"),
        url("jubileum_apitoken_changelist"),
    ]:
        assert staff.get(path).status_code == 403, path
    refused = staff.post(
        url("auth_user_change", me.pk),
        {"username": me.username, "is_superuser": "on", "is_staff": "on"},
    )
    assert refused.status_code == 403
    me.refresh_from_db()
    assert not me.is_superuser


def test_a_viewer_reads_but_cannot_change(staff_viewer, own_activity):
    change = url("events_activity_change", own_activity.pk)

    assert staff_viewer.get(change).status_code == 200
    refused = staff_viewer.post(change, activity_form(own_activity, title="Anders"))
    assert refused.status_code == 403
    assert (
        staff_viewer.post(
            url("events_activity_delete", own_activity.pk), {"post": "yes"}
        ).status_code
        == 403
    )
    own_activity.refresh_from_db()
    assert own_activity.title == "Open dag van A"


def test_a_viewer_cannot_delete_through_the_bulk_action(staff_viewer, own_activity):
    response = staff_viewer.post(
        url("events_activity_changelist"),
        {"action": "delete_selected", "_selected_action": [own_activity.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert Activity.objects.filter(pk=own_activity.pk).exists()


def test_superusers_see_every_programme(admin_client, own_activity, other_activity):
    listing = admin_client.get(url("events_activity_changelist")).content.decode()

    assert "Open dag van A" in listing and "Markt van B" in listing
    assert admin_client.get(url("events_activity_change", other_activity.pk)).status_code == 200
    assert admin_client.get(url("events_programmerole_add")).status_code == 200
    assert admin_client.get(url("registrations_stripeevent_changelist")).status_code == 200
    assert admin_client.get(url("auth_user_changelist")).status_code == 200
