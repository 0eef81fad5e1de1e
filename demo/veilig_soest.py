"""The demo's second programme, "Veilig Soest": the municipality's wider safety work, on the same
site as the centenary without code changes. Loaded by `demo.centenary.load_demo`.

Two activities: an information evening for residents on preventing burglary (a high-impact
crime), and a training for professionals on recognising signs of radicalisation, by invitation
only (like the centenary's reception: people not invited wait for an organiser's approval), which
asks for organisation and role. Illustrative content, like the rest of the demo. Idempotent:
rows are keyed by slug (questions by label, categories by name) and saved only when the script
changed (`demo.loading.sync_row`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from budget.models import Budget, Category
from demo.loading import sync_row
from events.models import Activity, Programme, Question

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SLUG = "veilig-soest"

PRIVACY_STATEMENT = """\
De gemeente Soest organiseert de activiteiten van Veilig Soest. Als je je aanmeldt, bewaren we \
alleen wat nodig is om de activiteit te organiseren: naam, e-mailadres, eventueel \
telefoonnummer en het aantal personen. Voor de training voor professionals vragen we ook je \
organisatie en functie, zodat we de training op de groep kunnen afstemmen.

We gebruiken deze gegevens alleen voor deze activiteit en delen ze met niemand buiten de \
organisatie. Uiterlijk 90 dagen na het einde van het programma verwijderen we ze; alleen \
aantallen zonder namen blijven bewaard. Je kunt je gegevens eerder laten verwijderen via de \
persoonlijke link in je bevestigingsmail."""

ACCESSIBILITY_STATEMENT = """\
De gemeente Soest wil dat iedereen deze website kan gebruiken. We bouwen de site volgens de \
richtlijnen van WCAG 2.1 op niveau AA. Loop je tegen een probleem aan? Mail ons via het adres \
onderaan de pagina; we antwoorden binnen vijf werkdagen."""

# (name, planned amount); the budget keeps only these categories.
CATEGORIES = [
    ("Huur", Decimal("600.00")),
    ("Sprekers en trainers", Decimal("950.00")),
    ("Promotie en drukwerk", Decimal("400.00")),
    ("Catering", Decimal("300.00")),
]


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM)


def load_veilig_soest(anchor: dt.date) -> Programme:
    """The programme, in the weeks after `anchor` (the centenary demo's anchor Saturday)."""
    evening_day = anchor + dt.timedelta(days=10)  # a Tuesday
    training_day = anchor + dt.timedelta(days=17)  # the Tuesday after
    programme = sync_row(
        Programme,
        {"slug": SLUG},
        {
            "name": "Veilig Soest",
            "starts_on": evening_day,
            "ends_on": training_day,
            "description": (
                "Samen maken we Soest en Soesterberg veiliger. De gemeente organiseert "
                "bijeenkomsten voor inwoners over wat je zelf kunt doen, en trainingen voor "
                "professionals die in hun werk met veiligheid te maken hebben. "
                "(Demonstratie-inhoud: data en plaatsen zijn verzonnen.)"
            ),
            "organiser_name": "Gemeente Soest — team Openbare Orde en Veiligheid",
            "organiser_email": "veiligsoest@example.org",
            "organiser_phone": "14 035",
            "theme_colour": "#1F4E79",
            "retention_days": 90,
            "is_public": True,
            "privacy_statement": PRIVACY_STATEMENT,
            "accessibility_statement": ACCESSIBILITY_STATEMENT,
            # English for the programme and its evening for residents; the training for
            # professionals stays Dutch only, as an organiser may leave it.
            "name_en": "Safe Soest",
            "description_en": (
                "Together we make Soest and Soesterberg safer. The municipality organises "
                "meetings for residents about what you can do yourself, and training for "
                "professionals who deal with safety in their work. (Demonstration content: "
                "dates and places are made up.)"
            ),
        },
    )
    programme.full_clean()

    evening_starts = _local(evening_day, 19, 30)
    evening = sync_row(
        Activity,
        {"programme": programme, "slug": "informatieavond-woninginbraak-voorkomen"},
        {
            "title": "Informatieavond: woninginbraak voorkomen",
            "summary": "Politie en gemeente vertellen hoe je je huis beter beveiligt.",
            "description": (
                "Woninginbraak raakt mensen diep: het is een inbreuk op je veilige plek. De "
                "wijkagent vertelt hoe inbrekers te werk gaan, een preventieadviseur laat zien "
                "welk hang- en sluitwerk helpt, en je hoort hoe buurtpreventie en de "
                "WhatsApp-buurtgroepen in Soest werken. Na afloop kun je een gratis "
                "woningscan aanvragen."
            ),
            "title_en": "Information evening: preventing burglary",
            "summary_en": "Police and municipality explain how to make your home more secure.",
            "description_en": (
                "A burglary hits people hard: it breaks into the place where you feel safe. The "
                "community police officer explains how burglars work, a prevention adviser "
                "shows which locks and fittings help, and you hear how neighbourhood watch and "
                "the WhatsApp neighbourhood groups in Soest work. Afterwards you can ask for a "
                "free home security check. The evening is in Dutch."
            ),
            "location_name_en": "Soest town hall, council chamber",
            "starts_at": evening_starts,
            "ends_at": evening_starts + dt.timedelta(minutes=90),
            "location_name": "Raadhuis Soest, raadzaal",
            "location_address": "Raadhuisplein 1, 3762 AE Soest",
            "audience": Activity.Audience.PUBLIC,
            "registration_required": True,
            "capacity": 80,
            "max_party_size": 2,
            "price": Decimal("0.00"),
            "registration_opens_at": None,
            "registration_closes_at": None,
            "waitlist_enabled": True,
        },
        on_create={"status": Activity.Status.PUBLISHED},
    )
    evening.full_clean()

    training_starts = _local(training_day, 13, 30)
    training = sync_row(
        Activity,
        {"programme": programme, "slug": "training-signalen-radicalisering-herkennen"},
        {
            "title": "Training: signalen van radicalisering herkennen",
            "summary": "Voor professionals in onderwijs, zorg, welzijn en wijkteams.",
            "description": (
                "Wat zie je als iemand radicaliseert, en wat doe je ermee? In deze training "
                "oefen je met voorbeelden uit de praktijk en leer je wanneer en bij wie je een "
                "zorg meldt. Alleen op uitnodiging: heb je geen uitnodiging, meld je dan toch "
                "aan; de organisatie beoordeelt je aanmelding."
            ),
            "starts_at": training_starts,
            "ends_at": training_starts + dt.timedelta(hours=3),
            "location_name": "Gemeentehuis Soest, zaal De Eem",
            "location_address": "Raadhuisplein 1, 3762 AE Soest",
            "audience": Activity.Audience.INVITATION,
            "registration_required": True,
            "capacity": 25,
            "max_party_size": 1,
            "price": Decimal("0.00"),
            "registration_opens_at": None,
            "registration_closes_at": None,
            "waitlist_enabled": True,
        },
        on_create={"status": Activity.Status.PUBLISHED},
    )
    training.full_clean()
    for position, (label, label_en) in enumerate(
        [("Organisatie", "Organisation"), ("Functie", "Role")], start=1
    ):
        question = sync_row(
            Question,
            {"activity": training, "label": label},
            {
                "position": position,
                "label_en": label_en,
                "kind": Question.Kind.TEXT,
                "choices": "",
                "required": True,
            },
        )
        question.full_clean()

    _load_budget(programme)
    return programme


def _load_budget(programme: Programme) -> None:
    budget = sync_row(
        Budget,
        {"programme": programme},
        {
            "total": Decimal("2500.00"),
            "includes_vat": True,
            "approval_threshold": Decimal("250.00"),
            "warning_percentage": 80,
        },
    )
    names = [name for name, _amount in CATEGORIES]
    # A new budget gets the default categories (budget.apps); this small one keeps only its own.
    budget.categories.exclude(name__in=names).filter(expenses__isnull=True).delete()
    for position, (name, amount) in enumerate(CATEGORIES, start=1):
        sync_row(
            Category,
            {"budget": budget, "name": name},
            {"planned_amount": amount, "position": position},
        )
