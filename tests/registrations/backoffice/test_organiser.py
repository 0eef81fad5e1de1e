"""The organiser area (/beheer/): counts, approval queue, waitlist, moving and cancelling,
the roster upload and invitations; and that nobody else gets in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from events.models import Activity, ProgrammeRole
from registrations import emails, services
from registrations.models import Invitation, Payment, Registration, RosterEntry
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def members_activity(make_activity):
    return make_activity(
        title="Reünie", slug="reunie", audience=Activity.Audience.MEMBERS, capacity=10
    )


@pytest.fixture
def roster(programme):
    return [
        RosterEntry.objects.create(
            programme=programme, name=name, email=email, brigade="soest", years_of_service=10
        )
        for name, email in [("Jan de Vries", "jan@example.org"), ("Els Bakker", "els@example.org")]
    ]


def _url(name: str, programme, **kwargs) -> str:
    return reverse(f"organiser:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _status(registration) -> str:
    registration.refresh_from_db()
    return registration.status


# --- Pages -------------------------------------------------------------------------------------


def test_index_lists_only_the_users_programmes(organiser_client, programme, make_programme):
    other = make_programme(name="Veiligheidsmarkt")

    response = organiser_client.get(reverse("organiser:index"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<a href="{_url("programme", programme)}">{escape(programme.name)}</a>' in html
    assert _url("programme", other) not in html
    assert 'aria-current="page">Beheer</a>' in html


def test_staff_see_the_organiser_link_in_the_header_and_the_public_does_not(
    client, organiser, activity
):
    assert reverse("organiser:index") not in client.get("/").content.decode()
    client.force_login(organiser)
    assert reverse("organiser:index") in client.get("/").content.decode()


def test_programme_page_counts_each_activity(
    organiser_client, programme, make_activity, make_registration
):
    full = make_activity(title="Open dag", capacity=4)
    make_registration(activity=full, party_size=3)
    make_registration(activity=full, party_size=1)
    make_registration(activity=full, party_size=2, status=Status.WAITLISTED)
    make_registration(activity=full, party_size=5, status=Status.WAITLISTED)
    make_registration(activity=full, party_size=1, status=Status.PENDING_APPROVAL)
    make_registration(activity=full, party_size=6, status=Status.CANCELLED)

    response = organiser_client.get(_url("programme", programme))

    row = next(a for a in response.context["activities"] if a.pk == full.pk)
    assert (row.confirmed_persons, row.capacity) == (4, 4)
    assert (row.waitlisted_parties, row.waitlisted_persons) == (2, 7)
    assert row.pending_approvals == 1
    assert "4 / 4" in response.content.decode()


@pytest.mark.parametrize("count", [5, 50])
def test_programme_page_query_count_does_not_grow(
    organiser_client, programme, many_activities, django_assert_max_num_queries, count
):
    many_activities(count)

    # Session, user, programme, the activities with their figures, the persons checked in per
    # activity, the sparklines, the registrations and the expenses waiting for approval: none
    # per activity or per registration.
    with django_assert_max_num_queries(8):
        response = organiser_client.get(_url("programme", programme))

    assert len(response.context["activities"]) == count


@pytest.mark.parametrize("count", [5, 50])
def test_activity_page_query_count_does_not_grow(
    organiser_client,
    programme,
    activity,
    make_activity,
    make_registration,
    django_assert_max_num_queries,
    count,
):
    for n in range(count):
        make_registration(
            status=[Status.CONFIRMED, Status.WAITLISTED, Status.PENDING_APPROVAL][n % 3],
            waitlisted_at=timezone.now(),
        )
        make_activity()

    # Session, user, programme, activity, the attendee list (its size and one page of it), the
    # questions, whether parties can move anywhere, and each of the three queues (its size and
    # one page of it) (test_attendees compares 10 and 2,000).
    with django_assert_max_num_queries(14):
        response = organiser_client.get(_url("activity", programme, activity_slug=activity.slug))

    assert response.status_code == 200


@pytest.mark.parametrize("count", [5, 50])
def test_roster_page_query_count_does_not_grow(
    organiser_client, programme, django_assert_max_num_queries, count
):
    RosterEntry.objects.bulk_create(
        RosterEntry(
            programme=programme, name=f"Lid {n}", email=f"lid{n}@example.org", brigade="soest"
        )
        for n in range(count)
    )

    with django_assert_max_num_queries(5):
        response = organiser_client.get(_url("roster", programme))

    assert f"{count} leden op de lijst" in response.content.decode()


def test_activity_page_groups_registrations_and_orders_the_waitlist(
    organiser_client, programme, activity, make_registration
):
    now = timezone.now()
    make_registration(contact_name="Wachtende Twee", status=Status.WAITLISTED, waitlisted_at=now)
    make_registration(
        contact_name="Wachtende Een",
        status=Status.WAITLISTED,
        waitlisted_at=now - dt.timedelta(hours=1),
    )
    make_registration(contact_name="Nog Goedkeuren", status=Status.PENDING_APPROVAL)
    make_registration(contact_name="Zeker Erbij")
    make_registration(contact_name="Afgemeld", status=Status.CANCELLED)

    response = organiser_client.get(_url("activity", programme, activity_slug=activity.slug))

    groups = response.context["groups"]
    assert [r.contact_name for r in groups["waitlist"]] == ["Wachtende Een", "Wachtende Twee"]
    assert [r.contact_name for r in groups["pending"]] == ["Nog Goedkeuren"]
    # The attendee list shows who is coming; the cancelled are one filter away.
    assert [r.contact_name for r in response.context["attendees"]] == ["Zeker Erbij"]
    url = _url("activity", programme, activity_slug=activity.slug)
    cancelled = organiser_client.get(url, {"status": Status.CANCELLED})
    assert [r.contact_name for r in cancelled.context["attendees"]] == ["Afgemeld"]
    html = response.content.decode()
    assert html.index("Wachtende Een") < html.index("Wachtende Twee")
    assert "Goedkeuren" in html and "Verplaatsen" not in html  # nowhere to move to yet


# --- Who gets in -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client, programme, activity, make_registration):
    registration = make_registration(status=Status.PENDING_APPROVAL)
    login = reverse("login")
    for url in [
        reverse("organiser:index"),
        _url("programme", programme),
        _url("activity", programme, activity_slug=activity.slug),
        _url("roster", programme),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(login)
    response = client.post(_url("approve", programme, registration_id=registration.pk))
    assert response.status_code == 302 and response.url.startswith(login)
    assert _status(registration) == Status.PENDING_APPROVAL


def test_organiser_of_another_programme_gets_not_found_everywhere(
    client, stranger, programme, members_activity, make_registration, roster
):
    registration = make_registration(activity=members_activity, status=Status.PENDING_APPROVAL)
    client.force_login(stranger)
    pages = [
        _url("programme", programme),
        _url("activity", programme, activity_slug=members_activity.slug),
        _url("roster", programme),
        _url("cancel", programme, registration_id=registration.pk),
    ]
    for url in pages:
        assert client.get(url).status_code == 404
    actions = ["approve", "decline", "cancel", "move"]
    for action in actions:
        url = _url(action, programme, registration_id=registration.pk)
        assert client.post(url).status_code == 404
    invite = _url("invite", programme, activity_slug=members_activity.slug)
    assert client.post(invite).status_code == 404
    assert client.post(_url("roster", programme), {"file": b""}).status_code == 404

    assert _status(registration) == Status.PENDING_APPROVAL
    assert not Invitation.objects.exists()


def test_a_registration_is_only_reached_through_its_own_programme(
    client, stranger, make_registration
):
    """An organiser of one programme cannot act on another's registration via their own slug."""
    registration = make_registration(status=Status.PENDING_APPROVAL)
    own = ProgrammeRole.objects.get(user=stranger).programme
    client.force_login(stranger)

    response = client.post(_url("approve", own, registration_id=registration.pk))

    assert response.status_code == 404
    assert _status(registration) == Status.PENDING_APPROVAL


def test_viewer_reads_without_buttons_and_may_not_act(
    client, viewer, programme, members_activity, make_registration, roster
):
    registration = make_registration(activity=members_activity, status=Status.PENDING_APPROVAL)
    client.force_login(viewer)

    response = client.get(_url("activity", programme, activity_slug=members_activity.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert registration.contact_name in html
    assert "Goedkeuren" not in html
    assert "Stuur uitnodigingen" not in html
    roster_page = client.get(_url("roster", programme)).content.decode()
    assert "Jan de Vries" in roster_page and 'type="file"' not in roster_page

    for action in ["approve", "decline", "cancel", "move"]:
        url = _url(action, programme, registration_id=registration.pk)
        assert client.post(url, {"activity": members_activity.pk}).status_code == 403
    assert client.get(_url("cancel", programme, registration_id=registration.pk)).status_code == 403
    invite = _url("invite", programme, activity_slug=members_activity.slug)
    assert client.post(invite).status_code == 403
    assert client.post(_url("roster", programme)).status_code == 403

    assert _status(registration) == Status.PENDING_APPROVAL
    assert not Invitation.objects.exists()


def test_actions_are_post_only(organiser_client, programme, make_registration):
    registration = make_registration(status=Status.PENDING_APPROVAL)

    response = organiser_client.get(_url("approve", programme, registration_id=registration.pk))

    assert response.status_code == 405
    assert _status(registration) == Status.PENDING_APPROVAL


# --- Approval queue ----------------------------------------------------------------------------


def test_approving_confirms_and_says_so(organiser_client, programme, activity, make_registration):
    registration = make_registration(contact_name="Els Bakker", status=Status.PENDING_APPROVAL)

    response = organiser_client.post(
        _url("approve", programme, registration_id=registration.pk), follow=True
    )

    assert response.redirect_chain[-1][0] == _url(
        "activity", programme, activity_slug=activity.slug
    )
    assert _status(registration) == Status.CONFIRMED
    assert "De aanmelding van Els Bakker is goedgekeurd" in response.content.decode()


def test_declining_asks_first_then_cancels(organiser_client, programme, make_registration):
    registration = make_registration(contact_name="Els Bakker", status=Status.PENDING_APPROVAL)
    url = _url("decline", programme, registration_id=registration.pk)

    page = organiser_client.get(url)
    assert page.status_code == 200
    assert "Wil je de aanmelding van Els Bakker afwijzen?" in page.content.decode()
    assert _status(registration) == Status.PENDING_APPROVAL

    response = organiser_client.post(url)

    assert response.status_code == 303
    assert _status(registration) == Status.CANCELLED
    assert _messages(response) == [
        "De aanmelding van Els Bakker is afgewezen; we hebben een e-mail gestuurd."
    ]


def test_approving_twice_shows_why_not(organiser_client, programme, make_registration):
    registration = make_registration(status=Status.CONFIRMED)

    response = organiser_client.post(_url("approve", programme, registration_id=registration.pk))

    assert response.status_code == 303
    assert _messages(response) == ["Dat kan niet meer met deze aanmelding."]


# --- Cancelling and moving ---------------------------------------------------------------------


def test_cancelling_frees_places_for_the_waitlist(
    organiser_client, programme, make_activity, make_registration
):
    small = make_activity(
        capacity=2,
        cancellation_closes_at=timezone.now() - dt.timedelta(hours=1),
        starts_at=timezone.now() + dt.timedelta(days=1),
    )
    confirmed = make_registration(activity=small, party_size=2)
    waiting = make_registration(
        activity=small, party_size=2, status=Status.WAITLISTED, waitlisted_at=timezone.now()
    )

    response = organiser_client.post(_url("cancel", programme, registration_id=confirmed.pk))

    # Attendees could no longer cancel; an organiser still can.
    assert response.status_code == 303
    assert _status(confirmed) == Status.CANCELLED
    assert _status(waiting) == Status.OFFERED


def test_cancelling_the_activity_tells_everyone_refunds_the_paid_and_closes_the_waitlist(
    organiser_client,
    programme,
    make_activity,
    make_registration,
    tasks,
    django_capture_on_commit_callbacks,
):
    now = timezone.now()
    dinner = make_activity(title="Reüniediner", capacity=4, price=Decimal("27.50"))
    paid = make_registration(activity=dinner, contact_name="Anna Betaald", party_size=2)
    payment = Payment.objects.create(
        registration=paid,
        amount=Decimal("55.00"),
        status=Payment.Status.PAID,
        paid_at=now,
        idempotency_key="betaling-anna",
        payment_intent_id="pi_anna",
    )
    offered = make_registration(
        activity=dinner, status=Status.OFFERED, hold_expires_at=now + dt.timedelta(hours=4)
    )
    waiting = [
        make_registration(
            activity=dinner, status=Status.WAITLISTED, waitlisted_at=now - dt.timedelta(hours=n)
        )
        for n in (1, 2)
    ]
    pending = make_registration(activity=dinner, status=Status.PENDING_APPROVAL)
    earlier = make_registration(activity=dinner, status=Status.CANCELLED)
    told = [paid, offered, *waiting, pending]

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            _url("cancel_activity", programme, activity_slug=dinner.slug),
            {"reason": "De kok is ziek.", "alternative": "Hetzelfde diner op 14 maart."},
        )

    assert _messages(response) == [
        "Reüniediner is geannuleerd; 5 aanmeldingen zijn geannuleerd en gemaild."
    ]
    dinner.refresh_from_db()
    assert dinner.status == Activity.Status.CANCELLED
    assert {_status(registration) for registration in told} == {Status.CANCELLED}
    mails = sorted(
        (result.kwargs["registration_id"], result.kwargs["kind"])
        for result in tasks.results
        if result.task.module_path == MAIL_TASK
    )
    # Everyone still in the running hears it once, the waitlist included; nobody is offered
    # the places that came free, and whoever had cancelled before hears nothing.
    assert mails == sorted((registration.pk, "activity_cancelled") for registration in told)
    refunds = [
        result.kwargs["payment_id"]
        for result in tasks.results
        if result.task.module_path == "registrations.tasks.refund_payment"
    ]
    assert refunds == [payment.pk]
    payment.refresh_from_db()
    assert payment.refund_reason == Payment.RefundReason.ACTIVITY_CANCELLED
    paid.refresh_from_db()
    assert "Je had € 55,00 betaald. Dat betalen we volledig terug" in (
        emails.activity_cancelled(paid).body
    )
    waiting[0].refresh_from_db()
    told_waiting = emails.activity_cancelled(waiting[0]).body
    assert "De organisatie heeft Reüniediner afgelast" in told_waiting
    assert "Je had niets betaald" in told_waiting
    assert _status(earlier) == Status.CANCELLED
    # The waitlist is closed: nobody can join it, or the activity, any more.
    with pytest.raises(services.RegistrationClosed):
        services.register(
            dinner.pk,
            services.SignUp(contact_name="Laat", email="laat@example.org", party_size=1),
        )


def test_cancelling_an_expired_registration_shows_the_reason(
    organiser_client, programme, make_registration
):
    registration = make_registration(status=Status.EXPIRED)

    response = organiser_client.post(_url("cancel", programme, registration_id=registration.pk))

    assert _messages(response) == ["Dat kan niet meer met deze aanmelding."]
    assert _status(registration) == Status.EXPIRED


def test_moving_to_another_activity(
    organiser_client, programme, activity, make_activity, make_registration
):
    later = make_activity(title="Tweede ronde", capacity=10)
    registration = make_registration(contact_name="Jan de Vries", party_size=2)

    page = organiser_client.get(_url("activity", programme, activity_slug=activity.slug))
    move = _url("move", programme, registration_id=registration.pk)
    assert f'href="{move}"' in page.content.decode()
    assert f'<option value="{later.pk}">Tweede ronde' in organiser_client.get(move).content.decode()
    response = organiser_client.post(
        _url("move", programme, registration_id=registration.pk), {"activity": later.pk}
    )

    registration.refresh_from_db()
    assert (registration.activity, registration.status) == (later, Status.CONFIRMED)
    assert _messages(response) == ["Jan de Vries is verplaatst naar Tweede ronde."]
    assert response.url == _url("activity", programme, activity_slug=activity.slug)


def test_moving_to_a_full_activity_puts_the_party_on_its_waitlist(
    organiser_client, programme, make_activity, make_registration
):
    full = make_activity(title="Volle ronde", capacity=2)
    make_registration(activity=full, party_size=2)
    registration = make_registration(contact_name="Jan de Vries", party_size=2)

    response = organiser_client.post(
        _url("move", programme, registration_id=registration.pk), {"activity": full.pk}
    )

    assert _status(registration) == Status.WAITLISTED
    assert _messages(response) == [
        "Jan de Vries is verplaatst naar Volle ronde, op de wachtlijst: het is daar vol."
    ]


@pytest.mark.parametrize("choice", ["", "abc", "999999", "other-programme"])
def test_moving_needs_an_activity_of_the_same_programme(
    organiser_client, programme, activity, make_programme, make_activity, make_registration, choice
):
    registration = make_registration()
    if choice == "other-programme":
        choice = make_activity(programme=make_programme()).pk

    response = organiser_client.post(
        _url("move", programme, registration_id=registration.pk), {"activity": choice}
    )

    registration.refresh_from_db()
    assert registration.activity == activity
    assert _messages(response) == ["Kies de activiteit waar de aanmelding heen moet."]


# --- Invitations -------------------------------------------------------------------------------


@pytest.fixture
def sent_invitations(settings, monkeypatch):
    """Run tasks at once and record which invitations the mail task was asked to send."""
    from registrations import emails

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    sent: list[int] = []
    monkeypatch.setattr(
        emails, "send_invitation", lambda invitation_id, **options: sent.append(invitation_id)
    )
    return sent


def _confirm_invitations(client, url: str, entries) -> object:
    """The confirmation as the preview's form sends it: the ids of the entries it showed."""
    return client.post(url, {"entry": [entry.pk for entry in entries]})


def test_inviting_shows_the_email_and_the_recipients_first_and_sends_nothing(
    organiser_client, programme, members_activity, roster, sent_invitations
):
    RosterEntry.objects.create(
        programme=programme, name="Kees Oud", email="kees@example.org", brigade="soesterberg",
        is_former=True,
    )  # fmt: skip
    activity_page = organiser_client.get(
        _url("activity", programme, activity_slug=members_activity.slug)
    ).content.decode()
    url = _url("invite", programme, activity_slug=members_activity.slug)
    assert f'href="{url}"' in activity_page

    response = organiser_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "De uitnodiging gaat per e-mail naar 3 leden van de ledenlijst" in html
    # The e-mail as the first (by name) would get it, in Dutch, with a stand-in code.
    assert "Persoonlijke uitnodiging" in response.context["subject"]
    assert "Beste Els Bakker," in html
    assert "?code=VOORBEELD" in html
    for text in (
        "jan@example.org",
        "els@example.org",
        "kees@example.org",
        "Oud-lid",
        "Soesterberg",
    ):
        assert text in html
    assert [e.email for e in response.context["entries"]] == [
        "els@example.org", "jan@example.org", "kees@example.org",
    ]  # fmt: skip
    assert not Invitation.objects.exists()
    assert sent_invitations == []


def test_the_preview_leaves_out_whoever_is_invited_already(
    organiser_client, programme, members_activity, roster
):
    Invitation.objects.create(activity=members_activity, name="Jan", email="JAN@example.org")

    response = organiser_client.get(_url("invite", programme, activity_slug=members_activity.slug))

    assert [e.email for e in response.context["entries"]] == ["els@example.org"]
    assert (
        "De uitnodiging gaat per e-mail naar 1 lid van de ledenlijst" in response.content.decode()
    )


@pytest.mark.engine_dependent  # addresses compared by Lower() in SQL
def test_confirming_sends_each_member_shown_one_invitation_once(
    organiser_client,
    programme,
    members_activity,
    roster,
    sent_invitations,
    django_capture_on_commit_callbacks,
):
    url = _url("invite", programme, activity_slug=members_activity.slug)
    shown = organiser_client.get(url).context["entries"]

    with django_capture_on_commit_callbacks(execute=True):
        response = _confirm_invitations(organiser_client, url, shown)

    assert _messages(response) == ["2 uitnodigingen worden verstuurd."]
    invitations = Invitation.objects.filter(activity=members_activity)
    assert sorted(invitations.values_list("email", flat=True)) == [
        "els@example.org",
        "jan@example.org",
    ]
    assert sorted(sent_invitations) == sorted(invitations.values_list("pk", flat=True))

    # The confirmation pressed twice: nobody new, nothing sent.
    with django_capture_on_commit_callbacks(execute=True):
        again = organiser_client.post(url, {"entry": [e.pk for e in shown]}, follow=True)
    assert "Iedereen op de ledenlijst heeft al een uitnodiging" in again.content.decode()
    assert len(sent_invitations) == 2
    assert invitations.count() == 2

    # Someone joins the roster after the preview: the old confirmation does not reach them;
    # a new preview shows only them, and its confirmation sends one.
    kees = RosterEntry.objects.create(
        programme=programme, name="Kees", email="kees@example.org", brigade="soest"
    )
    Invitation.objects.filter(email="jan@example.org").update(email="JAN@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        _confirm_invitations(organiser_client, url, shown)
    assert len(sent_invitations) == 2
    assert list(organiser_client.get(url).context["entries"]) == [kees]
    with django_capture_on_commit_callbacks(execute=True):
        third = _confirm_invitations(organiser_client, url, [kees])
    assert _messages(third) == ["1 uitnodiging wordt verstuurd."]
    assert len(sent_invitations) == 3
    assert invitations.count() == 3


def test_a_viewer_may_not_see_the_invitation_preview(
    client, viewer, programme, members_activity, roster
):
    client.force_login(viewer)

    response = client.get(_url("invite", programme, activity_slug=members_activity.slug))

    assert response.status_code == 403
    assert "jan@example.org" not in response.content.decode()


def test_public_activity_takes_no_invitations(organiser_client, programme, activity, roster):
    page = organiser_client.get(_url("activity", programme, activity_slug=activity.slug))
    assert "Stuur uitnodigingen" not in page.content.decode()
    preview = organiser_client.get(
        _url("invite", programme, activity_slug=activity.slug), follow=True
    )
    assert preview.redirect_chain == [
        (_url("activity", programme, activity_slug=activity.slug), 303)
    ]
    assert "Uitnodigingen zijn er alleen voor activiteiten" in preview.content.decode()

    response = organiser_client.post(_url("invite", programme, activity_slug=activity.slug))

    assert _messages(response) == [
        "Uitnodigingen zijn er alleen voor activiteiten voor leden of op uitnodiging."
    ]
    assert not Invitation.objects.exists()


def test_draft_activity_sends_no_invitations_yet(
    organiser_client, programme, make_activity, roster
):
    draft = make_activity(audience=Activity.Audience.INVITATION, status=Activity.Status.DRAFT)

    response = organiser_client.post(_url("invite", programme, activity_slug=draft.slug))

    assert _messages(response) == ["Publiceer de activiteit eerst: de uitnodiging verwijst ernaar."]
    assert not Invitation.objects.exists()


# --- Roster page -------------------------------------------------------------------------------


def test_uploading_the_roster(organiser_client, programme):
    upload = _csv_upload("naam;email;korps\nJan de Vries;jan@example.org;Soest\n")

    response = organiser_client.post(_url("roster", programme), {"file": upload}, follow=True)

    assert response.redirect_chain == [(_url("roster", programme), 303)]
    html = response.content.decode()
    assert "De ledenlijst is ingelezen: 1 nieuw, 0 bijgewerkt, 0 ongewijzigd." in html
    assert "Jan de Vries" in html


def test_uploading_a_bad_roster_lists_the_errors_and_changes_nothing(organiser_client, programme):
    upload = _csv_upload("naam;email;korps\nJan de Vries;;Soest\n")

    response = organiser_client.post(_url("roster", programme), {"file": upload})

    assert response.status_code == 422
    assert "Regel 2: e-mailadres ontbreekt" in response.content.decode()
    assert not RosterEntry.objects.exists()


@pytest.mark.engine_dependent
def test_uploading_a_roster_with_a_nul_character_names_its_line(organiser_client, programme):
    """A 500 on PostgreSQL before, which refuses NUL in text."""
    upload = _csv_upload(
        "naam;email;korps\nJan de Vries;jan@example.org;Soest\nEls\x00;els@example.org;Soest\n"
    )

    response = organiser_client.post(_url("roster", programme), {"file": upload})

    assert response.status_code == 422
    assert "Regel 3: bevat een NUL-teken" in response.content.decode()
    assert not RosterEntry.objects.exists()


def test_uploading_without_a_file_asks_for_one(organiser_client, programme):
    response = organiser_client.post(_url("roster", programme))

    assert response.status_code == 422
    assert response.context["form"].errors["file"]


def _csv_upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("leden.csv", text.encode("utf-8"), content_type="text/csv")


# --- In a browser, without JavaScript ----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)  # the live server reads from another connection
def test_organiser_logs_in_and_works_the_approval_queue_without_javascript(
    new_page, organiser, programme, members_activity, make_registration, foreign_requests
):
    from playwright.sync_api import expect

    pending = make_registration(
        activity=members_activity, contact_name="Els Bakker", status=Status.PENDING_APPROVAL
    )
    confirmed = make_registration(activity=members_activity, contact_name="Jan de Vries")
    page = new_page(javascript=False)

    page.goto(reverse("organiser:index"))
    page.get_by_label("Gebruikersnaam").fill("organisator")
    page.get_by_label("Wachtwoord").fill("wachtwoord-123")
    page.get_by_role("button", name="Inloggen").click()
    page.locator("main").get_by_role("link", name=programme.name).click()
    page.locator("main").get_by_role("link", name=members_activity.title).click()
    page.locator("li", has_text="Els Bakker").get_by_role("button", name="Goedkeuren").click()

    expect(page.get_by_role("status")).to_contain_text(
        "De aanmelding van Els Bakker is goedgekeurd"
    )
    # Confirmed parties are in the attendee table, their actions folded away per row.
    row = page.get_by_role("row").filter(has_text="Jan de Vries")
    row.locator("summary").click()
    row.get_by_role("link", name="Annuleren").click()
    page.get_by_role("button", name="Annuleren").click()
    expect(page.get_by_role("status")).to_contain_text(
        "De aanmelding van Jan de Vries is geannuleerd"
    )
    assert _status(pending) == Status.CONFIRMED
    assert _status(confirmed) == Status.CANCELLED
    page.screenshot(path="/tmp/h8-organiser-activity.png", full_page=True)
    assert foreign_requests == []


# --- Django admin ------------------------------------------------------------------------------


def test_admin_actions_go_through_the_services(client, django_user_model, make_registration):
    admin = django_user_model.objects.create_superuser("beheerder", password="wachtwoord-123")
    pending = make_registration(status=Status.PENDING_APPROVAL)
    confirmed = make_registration()
    client.force_login(admin)
    changelist = reverse("admin:registrations_registration_changelist")

    client.post(changelist, {"action": "approve", "_selected_action": [pending.pk, confirmed.pk]})

    assert _status(pending) == Status.CONFIRMED
    client.post(changelist, {"action": "cancel", "_selected_action": [confirmed.pk]})
    assert _status(confirmed) == Status.CANCELLED


def test_admin_shows_staff_only_their_programmes_and_viewers_change_nothing(
    client, viewer, stranger, make_registration
):
    from django.contrib.auth.models import Permission

    registration = make_registration(status=Status.PENDING_APPROVAL)
    permissions = Permission.objects.filter(
        codename__in=["view_registration", "change_registration"]
    )
    changelist = reverse("admin:registrations_registration_changelist")
    for user in (viewer, stranger):
        user.user_permissions.add(*permissions)

    client.force_login(stranger)
    assert registration.contact_name not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "approve", "_selected_action": [registration.pk]})
    assert _status(registration) == Status.PENDING_APPROVAL

    client.force_login(viewer)
    assert registration.contact_name in client.get(changelist).content.decode()
    response = client.post(
        changelist, {"action": "approve", "_selected_action": [registration.pk]}, follow=True
    )
    assert "1 aanmelding overgeslagen" in response.content.decode()
    assert _status(registration) == Status.PENDING_APPROVAL
