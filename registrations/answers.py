"""A registration's answers to its activity's extra questions, read back: `shown_answers` for
the personal page, e-mails and the API (in the reader's language) and `answers_for` for exports
(Dutch, many registrations in one query). Organisers edit the questions in
`registrations.backoffice.questions`; `services.register` checks and stores the answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import translation

from registrations.models import Answer, Registration


@dataclass(frozen=True)
class ShownAnswer:
    question_id: int
    label: str  # the question, in the reader's language
    value: str  # as stored: the text, or the Dutch value of a choice
    display: str  # as the reader should see it (a yes/no or a choice in their language)


def shown_answers(registration: Registration, language: str) -> list[ShownAnswer]:
    """A registration's answers in the order of the questions, worded for `language`."""
    answers = Answer.objects.filter(registration=registration).select_related("question")
    with translation.override(language):
        return [
            ShownAnswer(
                question_id=answer.question_id,
                label=answer.question.label_in(language),
                value=answer.value,
                display=answer.question.display(answer.value, language),
            )
            for answer in answers
        ]


def answers_for(
    registrations: QuerySet[Registration] | Iterable[Registration | int],
) -> dict[int, dict[int, str]]:
    """Registration id → question id → the answer as shown in Dutch, for exports. One query
    however many registrations: pass a queryset (it becomes a subquery) or the rows or ids."""
    if isinstance(registrations, QuerySet):
        answers = Answer.objects.filter(registration__in=registrations.values("pk"))
    else:
        ids = [item if isinstance(item, int) else item.pk for item in registrations]
        answers = Answer.objects.filter(registration_id__in=ids)
    result: dict[int, dict[int, str]] = {}
    # Yes and no are translated strings: show them as a Dutch export should, whoever asks.
    with translation.override("nl"):
        for answer in answers.select_related("question"):
            shown = answer.question.display(answer.value, "nl")
            result.setdefault(answer.registration_id, {})[answer.question_id] = shown
    return result
