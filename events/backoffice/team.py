"""The programme's team page, /beheer/<programme>/team/ (issue 18): who has which role; an
organiser of this programme invites people, changes a role or removes someone (events.team).
The accept page of an invitation is public: the link's signature is the key."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from events import team
from events.access import get_programme_for_organiser, may_change
from events.backoffice.programme_forms import AcceptInvitationForm, InviteForm, RoleForm
from events.models import InvitationUnusable, Programme, ProgrammeRole, TeamInvitation
from jubileum.lib.http import see_other


def _team_url(programme: Programme) -> str:
    return reverse("organiser:team", kwargs={"programme_slug": programme.slug})


def _render_team(
    request: HttpRequest, programme: Programme, invite_form: InviteForm, status: int = 200
) -> HttpResponse:
    members = list(
        ProgrammeRole.objects.filter(programme=programme)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )
    invitations = [
        invitation
        for invitation in TeamInvitation.objects.filter(
            programme=programme, accepted_at__isnull=True
        ).select_related("invited_by")
        if invitation.is_usable()
    ]
    return render(
        request,
        "organiser/team.html",
        {
            "programme": programme,
            "may_change": may_change(programme),
            "members": members,
            "invitations": invitations,
            "invite_form": invite_form,
            "roles": ProgrammeRole.Role.choices,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def team_page(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """The list, and (POST) an invitation."""
    if request.method != "POST":
        programme = get_programme_for_organiser(request.user, programme_slug)
        return _render_team(request, programme, InviteForm(prefix="invite"))
    programme = get_programme_for_organiser(request.user, programme_slug, write=True)
    form = InviteForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            user = request.user
            assert isinstance(user, User)  # login_required
            made = team.invite(
                programme, form.cleaned_data["email"], form.cleaned_data["role"], by=user
            )
        except team.TeamError as error:
            form.add_error("email", str(error))
        else:
            if isinstance(made, TeamInvitation):
                text = _("%(email)s is uitgenodigd; de uitnodiging is 7 dagen geldig.")
            else:
                text = _("%(email)s heeft de rol gekregen en een e-mail daarover.")
            messages.success(request, text % {"email": form.cleaned_data["email"]})
            return see_other(_team_url(programme))
    return _render_team(request, programme, form, status=422)


@login_required
@require_POST
def team_role(request: HttpRequest, programme_slug: str, user_id: int) -> HttpResponse:
    programme = get_programme_for_organiser(request.user, programme_slug, write=True)
    get_object_or_404(ProgrammeRole, programme=programme, user_id=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Kies organisator of meekijker."))
        return see_other(_team_url(programme))
    try:
        team.change_role(programme, user_id, form.cleaned_data["role"])
    except team.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("De rol is aangepast."))
    return see_other(_team_url(programme))


@login_required
@require_POST
def team_remove(request: HttpRequest, programme_slug: str, user_id: int) -> HttpResponse:
    programme = get_programme_for_organiser(request.user, programme_slug, write=True)
    get_object_or_404(ProgrammeRole, programme=programme, user_id=user_id)
    try:
        team.remove_member(programme, user_id)
    except team.TeamError as error:
        messages.error(request, str(error))
        return see_other(_team_url(programme))
    messages.success(request, _("Deze persoon heeft geen rol meer in dit programma."))
    if user_id == request.user.pk:
        # They left the team: the team page is no longer theirs to see.
        return see_other(reverse("organiser:index"))
    return see_other(_team_url(programme))


def _unusable(request: HttpRequest, status: int = 400) -> HttpResponse:
    return render(
        request,
        "organiser/accept_invitation.html",
        {"unusable": InvitationUnusable.message},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the invited person chooses a password; then they log in. A forged, expired or
    used link says so and changes nothing."""
    try:
        invitation = TeamInvitation.for_token(token)
    except InvitationUnusable:
        return _unusable(request)
    form = AcceptInvitationForm(
        request.POST if request.method == "POST" else None, email=invitation.email
    )
    if request.method == "POST" and form.is_valid():
        try:
            team.accept_invitation(token, form.cleaned_data["password1"])
        except InvitationUnusable:
            return _unusable(request)
        except team.AccountExists as error:
            messages.error(request, str(error))
            return see_other(reverse("login"))
        messages.success(
            request,
            _("Je account is klaar. Log in met je e-mailadres %(email)s en je nieuwe wachtwoord.")
            % {"email": invitation.email},
        )
        next_page = reverse(
            "organiser:programme", kwargs={"programme_slug": invitation.programme.slug}
        )
        return see_other(f"{reverse('login')}?next={next_page}")
    return render(
        request,
        "organiser/accept_invitation.html",
        {
            "invitation": invitation,
            "form": form,
            "token": token,
            "now": timezone.now(),
        },
        status=422 if form.is_bound else 200,
    )
