"""Extra questions per activity: asked on the sign-up form and through the API, checked and
stored by the service, shown on the personal page and in the e-mail, read for exports, purged
with the registration, and managed by organisers."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.forms import modelform_factory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from events.admin import QuestionAdminForm
from events.models import Activity, Question
from registrations import emails, services
from registrations.answers import answers_for, shown_answers
from registrations.forms import SignUpForm
from registrations.models import Answer, Registration
from tests.helpers import signup_form

Status = Registration.Status
Kind = Question.Kind
API = "/api/v1"


@pytest.fixture
def dinner(make_activity) -> Activity:
    return make_activity(title="Jubileumdiner", slug="jubileumdiner")


@pytest.fixture
def diet(dinner) -> Question:
    return Question.objects.create(
        activity=dinner,
        position=1,
        label="Wat eet je?",
        label_en="What do you eat?",
        help_text="We passen het menu aan.",
        help_text_en="We adapt the menu.",
        kind=Kind.CHOICE,
        choices="Alles | Everything\nVegetarisch | Vegetarian\nVeganistisch | Vegan",
        required=True,
    )


@pytest.fixture
def allergies(dinner) -> Question:
    return Question.objects.create(
        activity=dinner,
        position=2,
        label="Allergieën",
        label_en="Allergies",
        kind=Kind.TEXT,
    )


@pytest.fixture
def wheelchair(dinner) -> Question:
    return Question.objects.create(
        activity=dinner, position=3, label="Kom je met een rolstoel?", kind=Kind.YES_NO
    )


@pytest.fixture
def questions(diet, allergies, wheelchair) -> list[Question]:
    return [diet, allergies, wheelchair]


def field(question: Question) -> str:
    return f"question_{question.pk}"


def sign_up(**fields) -> services.SignUp:
    values = {"contact_name": "Anna de Vries", "email": "anna@example.org", "party_size": 2}
    values.update(fields)
    return services.SignUp(**values)


def stored(registration: Registration) -> dict[str, str]:
    return {
        answer.question.label: answer.value
        for answer in Answer.objects.filter(registration=registration).select_related("question")
    }


# --- The sign-up form ------------------------------------------------------------------------


def signup_url(activity: Activity) -> str:
    return reverse(
        "registrations:signup",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )


form_data = signup_form


def test_form_asks_the_questions_in_order_with_hints(client, dinner, questions):
    diet, allergies, wheelchair = questions

    page = client.get(dinner.get_absolute_url()).content.decode()

    assert page.index("Wat eet je?") < page.index("Allergieën") < page.index("met een rolstoel")
    # A choice is a group of radio buttons under a legend, the hint linked to the group.
    assert re.search(
        rf'<fieldset class="field field--choices" aria-describedby="id_{field(diet)}_helptext">'
        r"\s*<legend>Wat eet je\?</legend>",
        page,
    )
    assert f'<p class="hint" id="id_{field(diet)}_helptext">We passen het menu aan.</p>' in page
    for index, option in enumerate(["Alles", "Vegetarisch", "Veganistisch"]):
        assert f'value="{option}"' in page
        assert f'<label for="id_{field(diet)}_{index}">{option}</label>' in page
    # Optional questions say so; yes/no is two radio buttons.
    assert f'<label for="id_{field(allergies)}">Allergieën (niet verplicht)</label>' in page
    assert re.search(rf'<input type="text" name="{field(allergies)}"[^>]*maxlength="1000"', page)
    assert "<legend>Kom je met een rolstoel? (niet verplicht)</legend>" in page
    assert f'<label for="id_{field(wheelchair)}_0">Ja</label>' in page
    assert f'<label for="id_{field(wheelchair)}_1">Nee</label>' in page


def test_form_in_english_shows_english_labels_hints_and_choices(dinner, questions):
    diet, allergies, wheelchair = questions
    with translation.override("en"):
        form = SignUpForm(activity=dinner)
        html = str(form[field(diet)]) + str(form[field(wheelchair)])

        assert form.fields[field(diet)].label == "What do you eat?"
        assert form.fields[field(diet)].help_text == "We adapt the menu."
        assert form.fields[field(allergies)].label.startswith("Allergies")
        # No English label given: the Dutch one, rather than nothing.
        assert form.fields[field(wheelchair)].label.startswith("Kom je met een rolstoel?")
    # The value sent is the Dutch choice, whatever language the page is in.
    assert 'value="Vegetarisch"' in html
    assert "Vegetarian" in html
    assert "Yes" in html and "No" in html


def test_english_page_shows_english_questions(client, dinner, questions):
    with translation.override("en"):
        url = dinner.get_absolute_url()

    page = client.get(url).content.decode()

    assert url.startswith("/en/")
    assert "<legend>What do you eat?</legend>" in page
    assert "We adapt the menu." in page
    assert ">Vegetarian</label>" in page


def test_required_question_left_open_is_named_in_summary_and_at_the_field(
    client, dinner, questions
):
    diet = questions[0]

    response = client.post(signup_url(dinner), form_data())

    page = response.content.decode()
    message = escape("Beantwoord de vraag “Wat eet je?”.")
    # In the error summary, linked to the first radio button of the group ...
    assert f'<li><a href="#id_{field(diet)}_0">{message}</a></li>' in page
    # ... and next to the question itself.
    assert f'<p class="field-error" id="id_{field(diet)}_error">{message}</p>' in page
    assert f'aria-describedby="id_{field(diet)}_helptext id_{field(diet)}_error"' in page
    assert not Registration.objects.exists()
    assert not Answer.objects.exists()


def test_choice_not_in_the_list_is_refused(client, dinner, questions):
    diet = questions[0]

    response = client.post(signup_url(dinner), form_data(**{field(diet): "Vlees"}))

    page = response.content.decode()
    assert escape("Kies een van de antwoorden bij “Wat eet je?”.") in page
    assert not Registration.objects.exists()


def test_too_long_text_answer_is_refused(client, dinner, questions):
    diet, allergies, _wheelchair = questions
    data = form_data(**{field(diet): "Alles", field(allergies): "x" * 1001})

    page = client.post(signup_url(dinner), data).content.decode()

    assert escape("Je antwoord op “Allergieën” mag hoogstens 1000 tekens lang zijn.") in page
    assert not Registration.objects.exists()


def test_answers_are_saved_with_the_registration(client, dinner, questions):
    diet, allergies, wheelchair = questions
    data = form_data(
        **{field(diet): "Vegetarisch", field(allergies): "  Noten  ", field(wheelchair): "ja"}
    )

    response = client.post(signup_url(dinner), data)

    assert response.status_code == 303
    registration = Registration.objects.get()
    assert stored(registration) == {
        "Wat eet je?": "Vegetarisch",
        "Allergieën": "Noten",
        "Kom je met een rolstoel?": "ja",
    }


def test_optional_questions_left_open_store_no_answer(client, dinner, questions):
    diet = questions[0]

    response = client.post(signup_url(dinner), form_data(**{field(diet): "Alles"}))

    assert response.status_code == 303
    assert stored(Registration.objects.get()) == {"Wat eet je?": "Alles"}


def test_english_sign_up_stores_the_dutch_value(client, dinner, questions):
    diet = questions[0]
    with translation.override("en"):
        url = signup_url(dinner)

    client.post(url, form_data(**{field(diet): "Veganistisch"}))

    assert stored(Registration.objects.get()) == {"Wat eet je?": "Veganistisch"}


def test_question_added_after_the_page_loaded_is_asked_again(client, dinner, diet):
    """The form is built from the questions as they are now; the new one is shown unanswered."""
    Question.objects.create(
        activity=dinner, position=5, label="Tafelgenoot", kind=Kind.TEXT, required=True
    )

    page = client.post(signup_url(dinner), form_data(**{field(diet): "Alles"})).content.decode()

    assert escape("Beantwoord de vraag “Tafelgenoot”.") in page
    assert not Registration.objects.exists()


def test_service_objection_is_shown_at_the_question(client, dinner, questions, monkeypatch):
    """The form passed, but the question changed before the service checked (a race): the
    service's message appears next to the question all the same."""
    diet = questions[0]

    def refuse(*args, **kwargs):
        raise services.InvalidAnswer("Kies opnieuw.", details={"question": diet.pk})

    monkeypatch.setattr(services, "register", refuse)
    page = client.post(signup_url(dinner), form_data(**{field(diet): "Alles"})).content.decode()

    assert f'<p class="field-error" id="id_{field(diet)}_error">Kies opnieuw.</p>' in page


def test_activity_without_questions_shows_none(client, activity):
    page = client.get(activity.get_absolute_url()).content.decode()
    assert "question_" not in page


# --- The service -----------------------------------------------------------------------------


def test_register_stores_answers_in_the_same_transaction(dinner, questions, tasks):
    diet, allergies, wheelchair = questions

    result = services.register(
        dinner.pk, sign_up(), answers={diet.pk: "Alles", allergies.pk: "", wheelchair.pk: "nee"}
    )

    assert result.created
    assert stored(result.registration) == {
        "Wat eet je?": "Alles",
        "Kom je met een rolstoel?": "nee",
    }


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (lambda q: {q[1].pk: "Noten"}, "Beantwoord de vraag “Wat eet je?”."),
        (lambda q: {q[0].pk: "   "}, "Beantwoord de vraag “Wat eet je?”."),
        (lambda q: {q[0].pk: "Vlees"}, "Kies een van de antwoorden bij “Wat eet je?”."),
        (
            lambda q: {q[0].pk: "Alles", q[2].pk: "misschien"},
            "Kies een van de antwoorden bij “Kom je met een rolstoel?”.",
        ),
        (
            lambda q: {q[0].pk: "Alles", q[1].pk: "x" * 1001},
            "Je antwoord op “Allergieën” mag hoogstens 1000 tekens lang zijn.",
        ),
    ],
    ids=["required-missing", "required-blank", "not-a-choice", "not-yes-or-no", "too-long"],
)
def test_register_refuses_bad_answers_and_saves_nothing(dinner, questions, tasks, answers, message):
    with pytest.raises(services.InvalidAnswer) as caught:
        services.register(dinner.pk, sign_up(), answers=answers(questions))

    assert caught.value.code == "invalid_answer"
    assert caught.value.status == 422
    assert str(caught.value) == message
    assert caught.value.details["question"] in {q.pk for q in questions}
    assert not Registration.objects.exists()
    assert not Answer.objects.exists()
    assert not tasks.results


def test_register_refuses_a_question_of_another_activity(dinner, diet, make_activity, tasks):
    other = Question.objects.create(activity=make_activity(), label="Elders", kind=Kind.TEXT)

    with pytest.raises(services.InvalidAnswer) as caught:
        services.register(dinner.pk, sign_up(), answers={diet.pk: "Alles", other.pk: "hoi"})

    assert caught.value.details == {"question": other.pk}
    assert str(caught.value) == "Deze vraag hoort niet bij deze activiteit."
    assert not Registration.objects.exists()
    assert not Answer.objects.exists()


def test_error_names_the_question_in_the_readers_language(dinner, diet, tasks):
    with translation.override("en"), pytest.raises(services.InvalidAnswer) as caught:
        services.register(dinner.pk, sign_up(), answers={})

    assert "What do you eat?" in str(caught.value)


def test_signing_up_again_keeps_the_first_answers(dinner, questions, tasks):
    diet, allergies, _wheelchair = questions
    first = services.register(
        dinner.pk, sign_up(), answers={diet.pk: "Alles", allergies.pk: "Noten"}
    )

    again = services.register(
        dinner.pk, sign_up(email="ANNA@example.org"), answers={diet.pk: "Veganistisch"}
    )

    assert not again.created
    assert again.registration.pk == first.registration.pk
    assert stored(first.registration) == {"Wat eet je?": "Alles", "Allergieën": "Noten"}


# --- The API ---------------------------------------------------------------------------------


def api_post(client, url: str, body: dict, **headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def api_body(**fields) -> dict:
    body = {
        "contact_name": "Anna de Vries",
        "email": "anna@example.org",
        "party_size": 2,
        "consent": True,
    }
    body.update(fields)
    return body


def test_activity_detail_lists_the_questions_in_the_requests_language(client, dinner, questions):
    diet, allergies, wheelchair = questions

    dutch = client.get(f"{API}/activities/{dinner.pk}").json()
    english = client.get(f"{API}/activities/{dinner.pk}", headers={"accept-language": "en"}).json()

    assert dutch["questions"] == [
        {
            "id": diet.pk,
            "label": "Wat eet je?",
            "help_text": "We passen het menu aan.",
            "kind": "choice",
            "required": True,
            "options": [
                {"value": "Alles", "label": "Alles"},
                {"value": "Vegetarisch", "label": "Vegetarisch"},
                {"value": "Veganistisch", "label": "Veganistisch"},
            ],
        },
        {
            "id": allergies.pk,
            "label": "Allergieën",
            "help_text": "",
            "kind": "text",
            "required": False,
            "options": [],
        },
        {
            "id": wheelchair.pk,
            "label": "Kom je met een rolstoel?",
            "help_text": "",
            "kind": "yes_no",
            "required": False,
            "options": [{"value": "ja", "label": "Ja"}, {"value": "nee", "label": "Nee"}],
        },
    ]
    assert english["questions"][0]["label"] == "What do you eat?"
    assert english["questions"][0]["help_text"] == "We adapt the menu."
    assert english["questions"][0]["options"][1] == {"value": "Vegetarisch", "label": "Vegetarian"}
    assert english["questions"][2]["options"] == [
        {"value": "ja", "label": "Yes"},
        {"value": "nee", "label": "No"},
    ]


def test_activity_detail_query_count_does_not_grow_with_questions(
    client, dinner, django_assert_max_num_queries
):
    for n in range(20):
        Question.objects.create(activity=dinner, position=n, label=f"Vraag {n}", kind=Kind.YES_NO)
    with django_assert_max_num_queries(2):
        response = client.get(f"{API}/activities/{dinner.pk}")
    assert len(response.json()["questions"]) == 20


def test_api_sign_up_stores_answers_and_reads_them_back(client, dinner, questions, tasks):
    diet, allergies, wheelchair = questions
    answers = [
        {"question": diet.pk, "value": "Vegetarisch"},
        {"question": allergies.pk, "value": "Noten"},
        {"question": wheelchair.pk, "value": "ja"},
    ]

    response = api_post(
        client, f"{API}/activities/{dinner.pk}/registrations", api_body(answers=answers)
    )

    assert response.status_code == 202, response.content
    registration = Registration.objects.get()
    token = registration.manage_token  # from the e-mail
    assert stored(registration) == {
        "Wat eet je?": "Vegetarisch",
        "Allergieën": "Noten",
        "Kom je met een rolstoel?": "ja",
    }
    read = client.get(f"{API}/registrations/{token}", headers={"accept-language": "en"}).json()
    assert read["answers"] == [
        {
            "question": diet.pk,
            "label": "What do you eat?",
            "value": "Vegetarisch",
            "display": "Vegetarian",
        },
        {"question": allergies.pk, "label": "Allergies", "value": "Noten", "display": "Noten"},
        {
            "question": wheelchair.pk,
            "label": "Kom je met een rolstoel?",
            "value": "ja",
            "display": "Yes",
        },
    ]


def test_api_missing_required_answer_is_422_and_saves_nothing(client, dinner, questions, tasks):
    allergies = questions[1]
    body = api_body(answers=[{"question": allergies.pk, "value": "Noten"}])

    response = api_post(client, f"{API}/activities/{dinner.pk}/registrations", body)

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_answer",
        "message": "Beantwoord de vraag “Wat eet je?”.",
        "details": {"question": questions[0].pk},
    }
    assert not Registration.objects.exists()


def test_api_answer_not_among_the_options_is_422(client, dinner, questions, tasks):
    body = api_body(answers=[{"question": questions[0].pk, "value": "Vegetarian"}])

    response = api_post(client, f"{API}/activities/{dinner.pk}/registrations", body)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_answer"
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    "answers",
    [
        lambda q: [{"question": q.pk, "value": "Alles"}, {"question": q.pk, "value": "Alles"}],
        lambda q: [{"question": q.pk, "value": "Alles", "extra": 1}],
        lambda q: [{"question": q.pk, "value": "x" * 1001}],
        lambda q: [{"question": 0, "value": "Alles"}],
        lambda q: [{"question": q.pk}],
    ],
    ids=["twice", "extra-field", "too-long", "bad-id", "no-value"],
)
def test_api_malformed_answers_are_validation_errors(client, dinner, diet, tasks, answers):
    body = api_body(answers=answers(diet))

    response = api_post(client, f"{API}/activities/{dinner.pk}/registrations", body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert not Registration.objects.exists()


def test_api_unknown_question_is_422(client, dinner, diet, tasks):
    body = api_body(
        answers=[{"question": diet.pk, "value": "Alles"}, {"question": 999_999, "value": "x"}]
    )

    response = api_post(client, f"{API}/activities/{dinner.pk}/registrations", body)

    assert response.status_code == 422
    assert response.json()["details"] == {"question": 999_999}
    assert not Registration.objects.exists()


# --- The personal page and the e-mail ---------------------------------------------------------


@pytest.fixture
def answered(make_registration, dinner, questions) -> Registration:
    diet, allergies, wheelchair = questions
    registration = make_registration(activity=dinner, contact_name="Anna de Vries")
    Answer.objects.bulk_create(
        [
            Answer(registration=registration, question=diet, value="Vegetarisch"),
            Answer(registration=registration, question=allergies, value="Noten & pinda's"),
            Answer(registration=registration, question=wheelchair, value="ja"),
        ]
    )
    return registration


def manage_url(registration: Registration, language: str = "nl") -> str:
    with translation.override(language):
        return reverse("registrations:manage", kwargs={"token": registration.manage_token})


def shows(page: str, label: str, answer: str) -> bool:
    return (
        re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>{re.escape(answer)}</dd>", page) is not None
    )


def test_personal_page_shows_the_answers(client, answered):
    page = client.get(manage_url(answered)).content.decode()

    assert '<h2 id="answers-heading">Je antwoorden</h2>' in page
    assert shows(page, "Wat eet je?", "Vegetarisch")
    assert shows(page, "Allergieën", escape("Noten & pinda's"))
    assert shows(page, "Kom je met een rolstoel?", "Ja")


def test_personal_page_shows_the_answers_in_english(client, answered):
    page = client.get(manage_url(answered, "en")).content.decode()

    assert shows(page, "What do you eat?", "Vegetarian")
    assert shows(page, "Allergies", escape("Noten & pinda's"))
    assert shows(page, "Kom je met een rolstoel?", "Yes")


def test_personal_page_without_answers_has_no_answers_section(client, make_registration):
    page = client.get(manage_url(make_registration())).content.decode()
    assert "answers-heading" not in page


def bodies(message) -> tuple[str, str]:
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message.body, html


def test_confirmation_mail_lists_the_answers(answered):
    text, html = bodies(emails.confirmation(answered))

    assert "Wat eet je?: Vegetarisch" in text
    assert "Allergieën: Noten & pinda's" in text
    assert "Kom je met een rolstoel?: Ja" in text
    assert ">Wat eet je?</td><td" in html
    assert escape("Noten & pinda's") in html


def test_confirmation_mail_lists_the_answers_in_the_persons_language(answered):
    answered.language = "en"
    answered.save()

    text, html = bodies(emails.confirmation(answered))

    assert "What do you eat?: Vegetarian" in text
    assert "Kom je met een rolstoel?: Yes" in text
    assert ">Vegetarian</td>" in html


def test_waitlist_mail_lists_the_answers_too(answered):
    answered.status = Status.WAITLISTED
    answered.save()

    text, _html = bodies(emails.waitlisted(answered))

    assert "Wat eet je?: Vegetarisch" in text


def test_shown_answers_follow_the_question_order(answered, questions):
    diet = questions[0]
    diet.position = 9
    diet.save()

    labels = [answer.label for answer in shown_answers(answered, "nl")]

    assert labels == ["Allergieën", "Kom je met een rolstoel?", "Wat eet je?"]


# --- Removing personal data -------------------------------------------------------------------


def test_deleting_my_data_deletes_the_answers(client, answered, make_registration):
    answered.status = Status.CANCELLED
    answered.cancelled_at = timezone.now()
    answered.save()
    other = make_registration(activity=answered.activity)
    Answer.objects.create(registration=other, question=answered.answers.first().question, value="x")

    with translation.override("nl"):
        url = reverse("registrations:delete_data", kwargs={"token": answered.manage_token})
    response = client.post(url, {"confirm": "on"})

    assert response.status_code == 200
    assert not Answer.objects.filter(registration=answered).exists()
    assert Answer.objects.filter(registration=other).count() == 1


def test_purge_deletes_the_answers(programme, answered, time_machine):
    time_machine.move_to(dt.datetime(2028, 1, 1, 12, 0, tzinfo=dt.UTC), tick=False)

    call_command("purge_personal_data", stdout=io.StringIO())

    answered.refresh_from_db()
    assert answered.anonymised_at is not None
    assert not Answer.objects.exists()


# --- Reading answers for exports --------------------------------------------------------------


def test_answers_for_gives_dutch_displays_in_one_query(
    answered, make_registration, questions, django_assert_num_queries
):
    unanswered = make_registration(activity=answered.activity)

    with translation.override("en"), django_assert_num_queries(1):
        result = answers_for(Registration.objects.filter(activity=answered.activity))

    diet, allergies, wheelchair = questions
    assert result == {
        answered.pk: {diet.pk: "Vegetarisch", allergies.pk: "Noten & pinda's", wheelchair.pk: "Ja"}
    }
    assert unanswered.pk not in result
    with django_assert_num_queries(1):
        assert answers_for([answered, unanswered.pk]) == result


@pytest.mark.parametrize("count", [10, 50])
def test_answers_for_is_one_query_however_many_registrations(
    dinner, diet, count, django_assert_num_queries
):
    registrations = Registration.objects.bulk_create(
        Registration(
            activity=dinner,
            contact_name=f"Gast {n}",
            email=f"gast{n}@example.org",
            party_size=1,
            status=Status.CONFIRMED,
            consent_at=timezone.now(),
        )
        for n in range(count)
    )
    Answer.objects.bulk_create(
        Answer(registration=registration, question=diet, value="Alles")
        for registration in registrations
    )

    with django_assert_num_queries(1):
        result = answers_for(Registration.objects.filter(activity=dinner))

    assert len(result) == count
    assert set(result[registrations[-1].pk].values()) == {"Alles"}


# --- Organisers managing the questions --------------------------------------------------------


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def stranger_client(client, stranger):
    client.force_login(stranger)
    return client


def questions_url(activity: Activity) -> str:
    return reverse(
        "organiser:questions",
        kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug},
    )


def question_url(name: str, question: Question) -> str:
    activity = question.activity
    return reverse(
        f"organiser:{name}",
        kwargs={
            "programme_slug": activity.programme.slug,
            "activity_slug": activity.slug,
            "question_id": question.pk,
        },
    )


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def question_form(**overrides) -> dict[str, str]:
    data = {
        "label": "Hoe oud zijn de kinderen?",
        "label_en": "How old are the children?",
        "help_text": "",
        "help_text_en": "",
        "kind": "text",
        "choices": "",
        "position": "4",
    }
    data.update(overrides)
    return data


def test_organiser_sees_questions_with_answer_counts_and_the_add_form(
    organiser_client, answered, questions
):
    page = organiser_client.get(questions_url(answered.activity)).content.decode()

    assert "<h1>Vragen bij Jubileumdiner</h1>" in page
    assert '<th scope="col" class="num">Antwoorden</th>' in page
    assert re.search(r'<th scope="row">\s*Wat eet je\?', page)
    assert "Alles, Vegetarisch, Veganistisch" in page
    assert '<td class="num">1</td>' in page
    assert question_url("question_edit", questions[0]) in page
    assert question_url("question_delete", questions[0]) in page
    assert '<h2 id="add-heading">Vraag toevoegen</h2>' in page
    # The next question goes last.
    assert re.search(r'name="position" value="4"', page)


def test_page_query_count_does_not_grow_with_questions_or_answers(
    organiser_client, dinner, django_assert_max_num_queries
):
    for n in range(15):
        Question.objects.create(activity=dinner, position=n, label=f"Vraag {n}", kind=Kind.TEXT)
    with django_assert_max_num_queries(10):
        response = organiser_client.get(questions_url(dinner))
    assert response.status_code == 200


def test_organiser_adds_a_question(organiser_client, dinner):
    response = organiser_client.post(questions_url(dinner), question_form())

    assert response.status_code == 303
    assert response.url == questions_url(dinner)
    question = Question.objects.get()
    assert (question.activity, question.label, question.label_en, question.kind) == (
        dinner,
        "Hoe oud zijn de kinderen?",
        "How old are the children?",
        "text",
    )
    assert not question.required
    assert question.position == 4
    assert flashed(response) == ["De vraag “Hoe oud zijn de kinderen?” is toegevoegd."]


def test_organiser_adds_a_required_choice_question(organiser_client, dinner):
    data = question_form(
        label="Welk menu?", kind="choice", choices="Vis | Fish\nVlees | Meat", required="on"
    )

    organiser_client.post(questions_url(dinner), data)

    question = Question.objects.get()
    assert question.required
    assert question.options("en") == [("Vis", "Fish"), ("Vlees", "Meat")]


def test_choice_question_needs_two_choices(organiser_client, dinner):
    response = organiser_client.post(
        questions_url(dinner), question_form(kind="choice", choices="Alleen deze")
    )

    assert response.status_code == 422
    assert "Geef minstens twee keuzes, elk op een eigen regel." in response.content.decode()
    assert not Question.objects.exists()


def test_question_without_label_is_refused(organiser_client, dinner):
    response = organiser_client.post(questions_url(dinner), question_form(label="   "))

    assert response.status_code == 422
    page = response.content.decode()
    assert '<li><a href="#id_label">Vul de vraag in.</a></li>' in page
    assert not Question.objects.exists()


def test_organiser_edits_a_question(organiser_client, answered, questions):
    diet = questions[0]
    data = question_form(
        label="Wat wil je eten?",
        kind="choice",
        choices=diet.choices + "\nHalal | Halal",
        required="on",
        position="1",
    )

    response = organiser_client.post(question_url("question_edit", diet), data)

    assert response.status_code == 303
    diet.refresh_from_db()
    assert diet.label == "Wat wil je eten?"
    assert ("Halal", "Halal") in diet.options()
    assert Answer.objects.filter(question=diet).count() == 1


def test_changing_the_kind_of_an_answered_question_is_refused(
    organiser_client, answered, questions
):
    diet = questions[0]

    response = organiser_client.post(question_url("question_edit", diet), question_form())

    assert response.status_code == 422
    page = response.content.decode()
    assert "Op deze vraag is al geantwoord, dus de soort antwoord kan niet meer veranderen." in page
    assert "Op deze vraag is 1 keer geantwoord." in page
    diet.refresh_from_db()
    assert diet.kind == Kind.CHOICE
    assert diet.label == "Wat eet je?"


def test_changing_the_kind_of_an_unanswered_question_is_allowed(organiser_client, wheelchair):
    response = organiser_client.post(question_url("question_edit", wheelchair), question_form())

    assert response.status_code == 303
    wheelchair.refresh_from_db()
    assert wheelchair.kind == Kind.TEXT


def test_delete_asks_first_and_says_how_many_answers_go(organiser_client, answered, questions):
    diet = questions[0]

    page = organiser_client.get(question_url("question_delete", diet)).content.decode()

    assert escape("Wil je de vraag “Wat eet je?” verwijderen?") in page
    assert "Dan verdwijnt ook 1 antwoord erop." in page
    assert Question.objects.filter(pk=diet.pk).exists()


def test_delete_removes_the_question_and_its_answers(organiser_client, answered, questions):
    diet = questions[0]

    response = organiser_client.post(question_url("question_delete", diet))

    assert response.status_code == 303
    assert not Question.objects.filter(pk=diet.pk).exists()
    assert not Answer.objects.filter(question_id=diet.pk).exists()
    assert Answer.objects.filter(registration=answered).count() == 2
    assert flashed(response) == ["De vraag “Wat eet je?” is verwijderd, met 1 antwoord."]


def test_viewer_reads_the_questions_without_changing_them(viewer_client, dinner, diet):
    response = viewer_client.get(questions_url(dinner))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Wat eet je?" in page
    assert "Vraag toevoegen" not in page
    assert question_url("question_edit", diet) not in page


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("post", lambda q: questions_url(q.activity)),
        ("get", lambda q: question_url("question_edit", q)),
        ("post", lambda q: question_url("question_edit", q)),
        ("get", lambda q: question_url("question_delete", q)),
        ("post", lambda q: question_url("question_delete", q)),
    ],
)
def test_viewer_may_not_change_questions(viewer_client, diet, method, target):
    response = getattr(viewer_client, method)(target(diet), question_form())

    assert response.status_code == 403
    diet.refresh_from_db()
    assert diet.label == "Wat eet je?"
    assert Question.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("get", lambda q: questions_url(q.activity)),
        ("post", lambda q: questions_url(q.activity)),
        ("get", lambda q: question_url("question_edit", q)),
        ("post", lambda q: question_url("question_delete", q)),
    ],
)
def test_other_programmes_organiser_gets_404(stranger_client, diet, method, target):
    response = getattr(stranger_client, method)(target(diet), question_form())

    assert response.status_code == 404
    assert Question.objects.count() == 1


def test_question_of_another_activity_is_404(organiser_client, dinner, make_activity):
    elsewhere = Question.objects.create(activity=make_activity(), label="Elders", kind="text")
    url = reverse(
        "organiser:question_edit",
        kwargs={
            "programme_slug": dinner.programme.slug,
            "activity_slug": dinner.slug,
            "question_id": elsewhere.pk,
        },
    )

    assert organiser_client.get(url).status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, dinner):
    response = client.get(questions_url(dinner))

    assert response.status_code == 302
    assert response.url.startswith("/inloggen/?next=")


# --- The admin --------------------------------------------------------------------------------


def test_activity_admin_edits_questions_inline(admin_client, dinner, diet):
    url = reverse("admin:events_activity_change", args=[dinner.pk])

    page = admin_client.get(url).content.decode()

    assert 'name="questions-0-label"' in page
    assert 'value="Wat eet je?"' in page


def test_admin_refuses_changing_the_kind_of_an_answered_question(answered, questions, dinner):
    form_class = modelform_factory(
        Question, form=QuestionAdminForm, fields=["kind", "label", "choices"]
    )
    diet = questions[0]
    unanswered = Question.objects.create(activity=dinner, label="Nog open", kind=Kind.YES_NO)

    refused = form_class({"kind": "text", "label": diet.label, "choices": ""}, instance=diet)
    allowed = form_class({"kind": "text", "label": "Nog open", "choices": ""}, instance=unanswered)

    assert not refused.is_valid()
    assert refused.errors["kind"] == [
        "Op deze vraag is al geantwoord, dus de soort antwoord kan niet meer veranderen. "
        "Maak een nieuwe vraag als je iets anders wilt vragen."
    ]
    assert allowed.is_valid()
