"""Extra questions per activity (dietary wishes, children's ages, organisation and role).

Organisers add, change, reorder and remove an activity's questions here; the sign-up form, the
API and `services.register` ask them and store the answers, which the rest of the product reads
back through `registrations.answers`.

Every view fetches its programme through `events.access.get_programme_for_organiser`: another
programme's activity is a 404, a viewer may read the list but changes nothing (403).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from events.access import get_activity_for_organiser, get_programme_for_organiser, may_change
from events.models import Activity, Programme, Question
from jubileum.lib.errors import DomainError
from jubileum.lib.http import see_other
from registrations.locking import lock_activity
from registrations.models import Answer

# --- Changing questions ----------------------------------------------------------------------


class QuestionError(DomainError):
    code = "question_error"
    status = 409
    message = gettext_lazy("Deze vraag kan niet zo worden opgeslagen.")


class QuestionInUse(QuestionError):
    code = "question_in_use"
    message = gettext_lazy(
        "Op deze vraag is al geantwoord, dus de soort antwoord kan niet meer veranderen. "
        "Maak een nieuwe vraag als je iets anders wilt vragen."
    )


class QuestionGone(QuestionError):
    code = "question_gone"
    status = 404
    message = gettext_lazy("Deze vraag bestaat niet meer; iemand anders heeft haar verwijderd.")


def save_question(question: Question) -> Question:
    """Save a new or changed question (validated already: `Question.clean`). A question that
    has answers keeps its kind: its answers would no longer fit it."""
    with transaction.atomic():
        # Sign-ups check and store their answers holding this lock (services.register), so no
        # answer can arrive between the check below and the save.
        lock_activity(question.activity_id)
        if question.pk is not None:
            stored = Question.objects.filter(pk=question.pk).values_list("kind", flat=True)
            kind = stored.first()
            if kind is None:
                raise QuestionGone()
            if kind != question.kind and Answer.objects.filter(question_id=question.pk).exists():
                raise QuestionInUse(details={"question": question.pk})
        question.save()
    return question


def delete_question(question: Question) -> int:
    """Delete a question and every answer to it; returns how many answers went."""
    with transaction.atomic():
        lock_activity(question.activity_id)
        answers = Answer.objects.filter(question_id=question.pk).count()
        Question.objects.filter(pk=question.pk).delete()
    return answers


class QuestionForm(forms.ModelForm):
    """One question as an organiser writes it; `Question.clean` checks the choices."""

    class Meta:
        model = Question
        fields = [
            "label",
            "label_en",
            "help_text",
            "help_text_en",
            "kind",
            "choices",
            "required",
            "position",
        ]
        labels = {
            "label": gettext_lazy("Vraag"),
            "label_en": gettext_lazy("Vraag in het Engels (niet verplicht)"),
            "help_text": gettext_lazy("Toelichting (niet verplicht)"),
            "help_text_en": gettext_lazy("Toelichting in het Engels (niet verplicht)"),
            "kind": gettext_lazy("Soort antwoord"),
            "choices": gettext_lazy("Keuzes (alleen bij een keuzevraag)"),
            "required": gettext_lazy("Deze vraag moet beantwoord worden"),
            "position": gettext_lazy("Volgorde"),
        }
        help_texts = {
            "label_en": gettext_lazy("Leeg gelaten zien Engelstaligen de Nederlandse vraag."),
            "help_text": gettext_lazy("Een korte uitleg onder de vraag."),
            "position": gettext_lazy("Vragen met een lager nummer staan eerder op het formulier."),
        }
        error_messages = {
            "label": {
                "required": gettext_lazy("Vul de vraag in."),
                "max_length": gettext_lazy("De vraag mag hoogstens %(limit_value)d tekens zijn."),
            },
            "label_en": {
                "max_length": gettext_lazy("De vraag mag hoogstens %(limit_value)d tekens zijn."),
            },
            "help_text": {
                "max_length": gettext_lazy(
                    "De toelichting mag hoogstens %(limit_value)d tekens zijn."
                ),
            },
            "help_text_en": {
                "max_length": gettext_lazy(
                    "De toelichting mag hoogstens %(limit_value)d tekens zijn."
                ),
            },
            "kind": {
                "required": gettext_lazy("Kies de soort antwoord."),
                "invalid_choice": gettext_lazy("Kies de soort antwoord uit de lijst."),
            },
            "position": {
                "required": gettext_lazy("Vul de volgorde in als getal, bijvoorbeeld 1."),
                "invalid": gettext_lazy("Vul de volgorde in als getal, bijvoorbeeld 1."),
                "min_value": gettext_lazy("De volgorde is 0 of hoger."),
                "max_value": gettext_lazy("De volgorde is hoogstens %(limit_value)s."),
            },
        }
        widgets = {
            "kind": forms.RadioSelect,
            "choices": forms.Textarea(attrs={"rows": 5}),
            "position": forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Question.Kind.choices  # no empty "---------" radio


def _get_question(activity: Activity, question_id: int) -> Question:
    return get_object_or_404(Question, pk=question_id, activity=activity)


def _back(programme: Programme, activity: Activity) -> HttpResponse:
    return see_other(
        reverse(
            "organiser:questions",
            kwargs={"programme_slug": programme.slug, "activity_slug": activity.slug},
        )
    )


def _next_position(activity: Activity) -> int:
    highest = activity.questions.aggregate(highest=Max("position"))["highest"]
    return 1 if highest is None else min(highest + 1, 32767)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def questions(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """The activity's questions, with the number of answers to each, and a form to add one."""
    write = request.method == "POST"
    item = get_programme_for_organiser(request.user, programme_slug, write=write)
    current = get_activity_for_organiser(item, activity_slug)
    status = 200
    form: QuestionForm | None = None
    if write:
        form = QuestionForm(request.POST, instance=Question(activity=current))
        if form.is_valid():
            question = save_question(form.instance)
            messages.success(
                request, _("De vraag “%(label)s” is toegevoegd.") % {"label": question.label}
            )
            return _back(item, current)
        status = 422
    elif may_change(item):
        form = QuestionForm(
            instance=Question(activity=current), initial={"position": _next_position(current)}
        )
    listed = current.questions.annotate(answer_count=Count("answers")).order_by("position", "pk")
    return render(
        request,
        "organiser/questions.html",
        {
            "programme": item,
            "activity": current,
            "may_change": may_change(item),
            "questions": listed,
            "form": form,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def question_edit(
    request: HttpRequest, programme_slug: str, activity_slug: str, question_id: int
) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    question = _get_question(current, question_id)
    answer_count = question.answers.count()
    status = 200
    if request.method == "POST":
        form = QuestionForm(request.POST, instance=question)
        if form.is_valid():
            try:
                save_question(form.instance)
            except QuestionInUse as error:
                form.add_error("kind", str(error))
            except QuestionGone as error:
                messages.error(request, str(error))
                return _back(item, current)
            else:
                messages.success(
                    request,
                    _("De vraag “%(label)s” is opgeslagen.") % {"label": form.instance.label},
                )
                return _back(item, current)
        status = 422
    else:
        form = QuestionForm(instance=question)
    return render(
        request,
        "organiser/question_edit.html",
        {
            "programme": item,
            "activity": current,
            "question": question,
            "answer_count": answer_count,
            "form": form,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def question_delete(
    request: HttpRequest, programme_slug: str, activity_slug: str, question_id: int
) -> HttpResponse:
    """Ask first (the answers go too and cannot come back), then delete."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    question = _get_question(current, question_id)
    if request.method != "POST":  # GET or HEAD: only ask
        answer_count = question.answers.count()
        if answer_count:
            text = ngettext(
                "Wil je de vraag “%(label)s” verwijderen? Dan verdwijnt ook %(count)s antwoord "
                "erop. Dit kan niet ongedaan worden.",
                "Wil je de vraag “%(label)s” verwijderen? Dan verdwijnen ook de %(count)s "
                "antwoorden erop. Dit kan niet ongedaan worden.",
                answer_count,
            )
        else:
            text = _("Wil je de vraag “%(label)s” verwijderen? Er is nog niet op geantwoord.")
        return render(
            request,
            "organiser/question_delete.html",
            {
                "programme": item,
                "activity": current,
                "question": question,
                "answer_count": answer_count,
                "confirm_text": text % {"label": question.label, "count": answer_count},
            },
        )
    deleted = delete_question(question)
    if deleted:
        text = ngettext(
            "De vraag “%(label)s” is verwijderd, met %(count)s antwoord.",
            "De vraag “%(label)s” is verwijderd, met %(count)s antwoorden.",
            deleted,
        )
    else:
        text = _("De vraag “%(label)s” is verwijderd.")
    messages.success(request, text % {"label": question.label, "count": deleted})
    return _back(item, current)
