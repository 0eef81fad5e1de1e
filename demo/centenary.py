"""The demo centenary programme that `make run` loads: to come, or as held in 2023.

The content is illustrative: the activities, times and places are made up to show the product,
not the real centenary schedule. What people do in it (sign up, pay, come to the door, book
expenses and income) goes through the product's services (`demo.loading`). Loading is
idempotent: content is keyed by its slug, what people did by e-mail address and activity (a
budget line by supplier and description), and what is there already is left alone, so loading
again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from budget.inputs import ExpenseInput, IncomeInput
from budget.models import Budget, Expense, Income
from budget.services import (
    advance_expense,
    approve_expense,
    ensure_default_categories,
    record_expense,
    record_income,
)
from demo.loading import (
    happened_at,
    require_demo_payments,
    sign_up,
    sync_row,
    unqueue_digests,
    unqueue_registration_mail,
)
from demo.veilig_soest import load_veilig_soest
from events.models import Activity, Programme, ProgrammeRole, Question
from registrations.checkin import services as checkin
from registrations.models import (
    Brigade,
    CheckIn,
    Payment,
    Registration,
    ScanLog,
    ScannerDevice,
)
from registrations.services import SignUp

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PROGRAMME_SLUG = "brandweer-100-jaar"
# The Saturday on which the held programme's open days took place.
AS_HELD_ANCHOR = dt.date(2023, 9, 2)


@dataclass(frozen=True)
class DemoActivity:
    slug: str
    title: str
    summary: str
    description: str
    day: int  # days after the anchor Saturday
    start: dt.time
    minutes: int
    location_name: str
    location_address: str
    audience: str = Activity.Audience.PUBLIC
    capacity: int | None = None
    max_party_size: int = 6
    price: Decimal = Decimal("0.00")
    registration_required: bool = True
    waitlist_enabled: bool = True
    demo_registrations: tuple[tuple[str, int], ...] = field(default=())
    # The English; blank where the organiser wrote none (the English site then shows the Dutch).
    title_en: str = ""
    summary_en: str = ""
    description_en: str = ""
    location_name_en: str = ""


KAZERNE_SOEST = ("Brandweerkazerne Soest", "Koningsweg 1, 3762 EA Soest")
KAZERNE_SOESTERBERG = ("Brandweerkazerne Soesterberg", "Dorpsstraat 2, 3769 AB Soesterberg")
KAZERNE_SOEST_EN = "Soest fire station"
KAZERNE_SOESTERBERG_EN = "Soesterberg fire station"

RIDE_SLOTS = [dt.time(10, 0), dt.time(10, 45), dt.time(11, 30), dt.time(13, 30)]

ACTIVITIES: list[DemoActivity] = [
    DemoActivity(
        slug="jubileumreceptie",
        title="Jubileumreceptie",
        summary="Officiële opening van het jubileumjaar met burgemeester en korpsen.",
        description=(
            "De gemeente en beide korpsen openen het jubileumjaar met een receptie voor "
            "genodigden: huidige en oud-leden, partners, buurkorpsen en vertegenwoordigers van de "
            "veiligheidsregio. Je ontvangt een persoonlijke uitnodiging met een code."
        ),
        day=-1,
        start=dt.time(16, 0),
        minutes=150,
        location_name="Raadhuis Soest",
        location_address="Raadhuisplein 1, 3762 AE Soest",
        audience=Activity.Audience.INVITATION,
        capacity=150,
        max_party_size=2,
    ),
    DemoActivity(
        slug="open-dag-kazerne-soest",
        title="Open dag kazerne Soest",
        summary="Kijk rond in de kazerne, zie een blusdemonstratie en probeer zelf de straal.",
        description=(
            "Loop vrij binnen: rondleidingen door de kazerne, een demonstratie met een "
            "brandende frituurpan en een springkussen in de vorm van een ladderwagen. "
            "Aanmelden is niet nodig."
        ),
        day=0,
        start=dt.time(10, 0),
        minutes=360,
        location_name=KAZERNE_SOEST[0],
        location_address=KAZERNE_SOEST[1],
        registration_required=False,
        waitlist_enabled=False,
        title_en="Open day at the Soest fire station",
        summary_en="Look around the station, watch a fire demonstration and try the hose yourself.",
        description_en=(
            "Just walk in: tours of the station, a demonstration with a burning chip pan and a "
            "bouncy castle shaped like a ladder truck. No need to sign up."
        ),
        location_name_en=KAZERNE_SOEST_EN,
    ),
    DemoActivity(
        slug="open-dag-kazerne-soesterberg",
        title="Open dag kazerne Soesterberg",
        summary="De kazerne van Soesterberg zet de deuren open, met oude en nieuwe voertuigen.",
        description=(
            "Van de eerste handspuit tot de nieuwste tankautospuit: zie hoe het materieel in "
            "honderd jaar veranderde. Aanmelden is niet nodig."
        ),
        day=7,
        start=dt.time(10, 0),
        minutes=360,
        location_name=KAZERNE_SOESTERBERG[0],
        location_address=KAZERNE_SOESTERBERG[1],
        registration_required=False,
        waitlist_enabled=False,
        title_en="Open day at the Soesterberg fire station",
        summary_en="The Soesterberg fire station opens its doors, with old and new vehicles.",
        description_en=(
            "From the first hand pump to the newest fire engine: see how the equipment changed "
            "in a hundred years. No need to sign up."
        ),
        location_name_en=KAZERNE_SOESTERBERG_EN,
    ),
    DemoActivity(
        slug="kinderbrandweermiddag",
        title="Kinderbrandweermiddag",
        summary="Kinderen van 6 tot 12 jaar leren spelenderwijs wat te doen bij brand.",
        description=(
            "Een middag met een rookhuisje, een blusoefening met water en een echt "
            "brandweerdiploma. Ouders zijn welkom; geef bij het aanmelden het aantal personen "
            "op, kinderen en begeleiders samen."
        ),
        day=14,
        start=dt.time(13, 30),
        minutes=150,
        location_name=KAZERNE_SOEST[0],
        location_address=KAZERNE_SOEST[1],
        capacity=40,
        max_party_size=5,
        demo_registrations=(("Familie de Vries", 4), ("Familie Bakker", 3)),
        title_en="Children's fire brigade afternoon",
        summary_en="Children aged 6 to 12 learn through play what to do in a fire.",
        description_en=(
            "An afternoon with a smoke house, a firefighting exercise with water and a real fire "
            "brigade diploma. Parents are welcome; when you sign up, give the number of people, "
            "children and adults together."
        ),
        location_name_en=KAZERNE_SOEST_EN,
    ),
    *[
        DemoActivity(
            slug=f"rit-historische-brandweerwagen-{slot:%H%M}",
            title=f"Rit in de historische brandweerwagen ({slot:%H:%M})",
            summary="Een half uur mee in de gerestaureerde Magirus uit 1956.",
            description=(
                "De vrijwilligers van de oldtimerstichting rijden een rondje door Soest in de "
                "rode Magirus uit 1956. Per rit is er plaats voor vier personen."
            ),
            day=21,
            start=slot,
            minutes=30,
            location_name=KAZERNE_SOEST[0],
            location_address=KAZERNE_SOEST[1],
            capacity=4,
            max_party_size=4,
            demo_registrations=(("Familie Jansen", 4),) if index == 0 else (),
            title_en=f"Ride in the historic fire engine ({slot:%H:%M})",
            summary_en="Half an hour aboard the restored 1956 Magirus.",
            description_en=(
                "The volunteers of the vintage vehicle foundation drive a round through Soest in "
                "the red 1956 Magirus. Each ride has room for four people."
            ),
            location_name_en=KAZERNE_SOEST_EN,
        )
        for index, slot in enumerate(RIDE_SLOTS)
    ],
    DemoActivity(
        slug="lezing-100-jaar-brandweer",
        title="Lezing: 100 jaar brandweer in Soest en Soesterberg",
        summary="Historicus en oud-commandant vertellen over branden, mensen en materieel.",
        description=(
            "Van de grote boerderijbrand van 1931 tot de vliegbasis: een avond vol verhalen en "
            "beelden uit het archief van beide korpsen."
        ),
        day=26,
        start=dt.time(19, 30),
        minutes=120,
        location_name="Bibliotheek Soest",
        location_address="Steenhoffstraat 9, 3764 BH Soest",
        capacity=80,
        max_party_size=4,
        title_en="Talk: 100 years of fire brigade in Soest and Soesterberg",
        summary_en="A historian and a former commander tell of fires, people and equipment.",
        description_en=(
            "From the great farm fire of 1931 to the air base: an evening full of stories and "
            "pictures from the archives of both brigades. The talk is in Dutch."
        ),
        location_name_en="Soest Library",
    ),
    DemoActivity(
        slug="reuniediner",
        title="Reüniediner voor leden en oud-leden",
        summary="Een diner voor alle huidige en oud-leden van beide korpsen, met partner.",
        description=(
            "Weerzien met oude collega's aan tafel. Het diner kost € 27,50 per persoon; geef bij "
            "het aanmelden je korps en het aantal dienstjaren op."
        ),
        day=35,
        start=dt.time(18, 0),
        minutes=240,
        location_name="Hotel De Soester Duinen",
        location_address="Beukenlaan 30, 3762 AN Soest",
        audience=Activity.Audience.MEMBERS,
        capacity=120,
        max_party_size=2,
        price=Decimal("27.50"),
        title_en="Reunion dinner for members and former members",
        summary_en="A dinner for all current and former members of both brigades, with partner.",
        description_en=(
            "Meet old colleagues again at the table. The dinner costs € 27.50 per person; when "
            "you sign up, give your brigade and your years of service."
        ),
        location_name_en="Hotel De Soester Duinen",
    ),
    DemoActivity(
        slug="presentatie-jubileumboek",
        title="Presentatie jubileumboek “Van brandemmer tot waterkanon”",
        summary="Het eerste exemplaar van het fotoboek wordt aangeboden aan de burgemeester.",
        description=(
            "Honderd jaar brandweer in foto's, verzameld door leden en inwoners. Na de "
            "presentatie kun je het boek inzien en je eigen foto's laten zien."
        ),
        day=42,
        start=dt.time(15, 0),
        minutes=90,
        location_name="Museum Soest",
        location_address="Steenhoffstraat 46, 3764 BK Soest",
        capacity=100,
        max_party_size=4,
    ),
]

PRIVACY_STATEMENT = """\
De gemeente Soest organiseert dit jubileumprogramma samen met de brandweerkorpsen van Soest en \
Soesterberg. Als je je aanmeldt, bewaren we alleen wat nodig is om de activiteit te organiseren: \
naam, e-mailadres, eventueel telefoonnummer, het aantal personen en, voor leden, korps en \
dienstjaren.

We gebruiken deze gegevens alleen voor deze activiteit en delen ze met niemand buiten de \
organisatie. Betalingen lopen via Stripe; wij zien geen bank- of kaartgegevens.

Uiterlijk 180 dagen na het einde van het programma verwijderen we je gegevens. Alleen \
aantallen zonder namen blijven bewaard voor de verantwoording aan de gemeenteraad. Je kunt je \
gegevens eerder laten verwijderen via de persoonlijke link in je bevestigingsmail."""

ACCESSIBILITY_STATEMENT = """\
De gemeente Soest wil dat iedereen deze website kan gebruiken. We bouwen de site volgens de \
richtlijnen van WCAG 2.1 op niveau AA: de pagina's werken met alleen een toetsenbord, met een \
schermlezer en bij 200 % vergroting, en laden niets van andere websites.

Loop je toch tegen een probleem aan? Mail ons via het adres onderaan de pagina; we antwoorden \
binnen vijf werkdagen."""

PRIVACY_STATEMENT_EN = """\
The municipality of Soest organises this anniversary programme together with the fire brigades \
of Soest and Soesterberg. When you sign up, we keep only what we need to organise the activity: \
name, e-mail address, phone number if given, the number of people and, for members, brigade and \
years of service.

We use these details only for this activity and share them with no one outside the \
organisation. Payments go through Stripe; we see no bank or card details.

At the latest 180 days after the end of the programme we delete your details. Only numbers \
without names are kept, to account to the municipal council. You can have your details deleted \
earlier through the personal link in your confirmation e-mail."""

ACCESSIBILITY_STATEMENT_EN = """\
The municipality of Soest wants everyone to be able to use this website. We build the site to \
the WCAG 2.1 guidelines at level AA: the pages work with a keyboard alone, with a screen reader \
and at 200 % zoom, and load nothing from other websites.

Do you still run into a problem? E-mail us at the address at the bottom of the page; we answer \
within five working days."""


def anchor_saturday(today: dt.date) -> dt.date:
    """The first Saturday at least two weeks after today, so every journey can be tried."""
    start = today + dt.timedelta(days=14)
    return start + dt.timedelta(days=(5 - start.weekday()) % 7)


def _local(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=AMSTERDAM)


def load_demo(*, as_held: bool = False, today: dt.date | None = None) -> Programme:
    """Load the centenary (and Veilig Soest): to come, two weeks from `today`, or as held in
    2023 with who came and what it cost. Loading the same again changes nothing; loading the
    other one takes away what only this one has."""
    today = today or timezone.localdate()
    if as_held:
        require_demo_payments()  # the dinner was paid for
    started = timezone.now()
    with transaction.atomic():
        programme = _load_programme(AS_HELD_ANCHOR if as_held else anchor_saturday(today))
        load_demo_questions(programme)
        if not as_held:
            _remove_held_attendance(programme)
        load_demo_registrations(programme, as_held=as_held)
        if as_held:
            load_held_attendance(programme)
        load_demo_ledger(programme.budget, as_held=as_held, today=today)
        # The second programme stays ahead of today even when the centenary is shown as held:
        # the home page then lists it as coming, with the centenary under "Eerder".
        load_veilig_soest(anchor_saturday(today))
        if as_held:
            # Runs after the callbacks the services registered before it, which queue the
            # e-mails; see `unqueue_registration_mail`.
            registrations = Registration.objects.filter(activity__programme=programme)
            transaction.on_commit(
                partial(
                    unqueue_registration_mail,
                    list(registrations.values_list("pk", flat=True)),
                    since=started,
                )
            )
            transaction.on_commit(partial(unqueue_digests, since=started))
    return programme


def _load_programme(anchor: dt.date) -> Programme:
    first_day = anchor + dt.timedelta(days=min(a.day for a in ACTIVITIES))
    last_day = anchor + dt.timedelta(days=max(a.day for a in ACTIVITIES))
    programme = sync_row(
        Programme,
        {"slug": PROGRAMME_SLUG},
        {
            "name": "Brandweer Soest & Soesterberg 100 jaar",
            "starts_on": first_day,
            "ends_on": last_day,
            "description": (
                "In 1923 begonnen de vrijwillige brandweren van Soest en Soesterberg. Honderd jaar "
                "later vieren we dat met inwoners en met alle huidige en oud-leden: open dagen, "
                "een kindermiddag, ritten in de historische brandweerwagen, een lezing, een "
                "reüniediner en een jubileumboek. (Demonstratie-inhoud: data en plaatsen zijn "
                "verzonnen.)"
            ),
            "organiser_name": "Gemeente Soest — team Veiligheid",
            "organiser_email": "jubileum@example.org",
            "organiser_phone": "14 035",
            "theme_colour": "#B41E1E",
            "retention_days": 180,
            "is_public": True,
            "privacy_statement": PRIVACY_STATEMENT,
            "accessibility_statement": ACCESSIBILITY_STATEMENT,
            "name_en": "Fire Brigade Soest & Soesterberg 100 years",
            "description_en": (
                "In 1923 the volunteer fire brigades of Soest and Soesterberg began. A hundred "
                "years later we celebrate with residents and with all current and former "
                "members: open days, a children's afternoon, rides in the historic fire engine, "
                "a talk, a reunion dinner and an anniversary book. (Demonstration content: dates "
                "and places are made up.)"
            ),
            "privacy_statement_en": PRIVACY_STATEMENT_EN,
            "accessibility_statement_en": ACCESSIBILITY_STATEMENT_EN,
        },
    )
    sync_row(Budget, {"programme": programme}, {"total": Decimal("8000.00"), "includes_vat": True})
    for spec in ACTIVITIES:
        starts_at = _local(anchor + dt.timedelta(days=spec.day), spec.start)
        activity = sync_row(
            Activity,
            {"programme": programme, "slug": spec.slug},
            {
                "title": spec.title,
                "summary": spec.summary,
                "description": spec.description,
                "title_en": spec.title_en,
                "summary_en": spec.summary_en,
                "description_en": spec.description_en,
                "location_name_en": spec.location_name_en,
                "starts_at": starts_at,
                "ends_at": starts_at + dt.timedelta(minutes=spec.minutes),
                "location_name": spec.location_name,
                "location_address": spec.location_address,
                "audience": spec.audience,
                "registration_required": spec.registration_required,
                "capacity": spec.capacity,
                "max_party_size": spec.max_party_size,
                "price": spec.price,
                "registration_opens_at": None,
                "registration_closes_at": None,
                "waitlist_enabled": spec.waitlist_enabled,
            },
            on_create={"status": Activity.Status.PUBLISHED},
        )
        activity.full_clean()
    return programme


def _made_for_held(moment: dt.datetime | dt.date) -> bool:
    """Whether a row of the demo was made for the programme as held (dated in its year)."""
    return moment.year == AS_HELD_ANCHOR.year


def load_demo_registrations(programme: Programme, *, as_held: bool) -> None:
    """The parties of `DemoActivity.demo_registrations`, signed up through the site's service:
    now for the programme to come, ten days before the activity for the programme as held. One
    made for the other programme goes, and the party signs up again."""
    activities = {activity.slug: activity for activity in programme.activities.all()}
    for spec in ACTIVITIES:
        activity = activities[spec.slug]
        for name, party_size in spec.demo_registrations:
            email = f"{name.lower().replace(' ', '.')}.{spec.slug}@example.org"
            existing = activity.registrations.filter(email=email).first()
            if existing is not None:
                if _made_for_held(timezone.localtime(existing.consent_at)) == as_held:
                    continue
                existing.delete()
            sign_up(
                activity,
                SignUp(contact_name=name, email=email, party_size=party_size),
                at=activity.starts_at - dt.timedelta(days=10) if as_held else None,
            )


@dataclass(frozen=True)
class DemoQuestion:
    activity: str  # slug
    label: str
    label_en: str
    help_text: str
    help_text_en: str
    kind: str
    choices: str = ""
    required: bool = False
    position: int = 1


# Extra questions of the centenary's activities, keyed by activity and label.
DEMO_QUESTIONS = [
    DemoQuestion(
        activity="reuniediner",
        label="Dieetwensen",
        label_en="Dietary wishes",
        help_text="Voor iedereen die je aanmeldt. Kies “Anders” en mail ons als het er niet "
        "tussen staat.",
        help_text_en="For everyone you sign up. Choose “Other” and e-mail us if it is not listed.",
        kind=Question.Kind.CHOICE,
        choices="Geen | None\nVegetarisch | Vegetarian\nVeganistisch | Vegan\nHalal | Halal\n"
        "Anders | Other",
    ),
    DemoQuestion(
        activity="kinderbrandweermiddag",
        label="Leeftijden van de kinderen",
        label_en="Ages of the children",
        help_text="Bijvoorbeeld: 6 en 9. Zo maken we groepjes van ongeveer dezelfde leeftijd.",
        help_text_en="For example: 6 and 9. We make groups of about the same age.",
        kind=Question.Kind.TEXT,
    ),
]


def load_demo_questions(programme: Programme) -> None:
    activities = {a.slug: a for a in programme.activities.all()}
    for spec in DEMO_QUESTIONS:
        question = sync_row(
            Question,
            {"activity": activities[spec.activity], "label": spec.label},
            {
                "position": spec.position,
                "label_en": spec.label_en,
                "help_text": spec.help_text,
                "help_text_en": spec.help_text_en,
                "kind": spec.kind,
                "choices": spec.choices,
                "required": spec.required,
            },
        )
        question.full_clean()


# --- The budget ledger -------------------------------------------------------------------------

Status = Expense.Status

# Who keeps the books in the demo: a municipal officer records, the brigade committee's treasurer
# approves what is above the approval threshold (a second organiser, never the one who recorded).
DEMO_ORGANISERS = [
    ("demo-secretaris", "Jolanda", "de Wit", "j.dewit@example.org"),
    ("demo-penningmeester", "Henk", "Verbeek", "h.verbeek@example.org"),
]


@dataclass(frozen=True)
class DemoExpense:
    category: str
    supplier: str
    description: str
    amount_excl_vat: Decimal
    vat_rate: int
    held_status: str  # the 2023 ledger, as held
    held_date: dt.date
    upcoming_status: str | None = None  # the default demo; None: not in it
    activity: str = ""  # slug
    invoice_number: str = ""


LEDGER: list[DemoExpense] = [
    DemoExpense(
        "Catering",
        "Partycentrum Het Wapen van Soest",
        "Hapjes en drankjes jubileumreceptie (150 personen)",
        Decimal("950.00"),
        9,
        Status.PAID,
        dt.date(2023, 8, 14),
        Status.COMMITTED,
        "jubileumreceptie",
        "WVS-2023-0412",
    ),
    DemoExpense(
        "Promotie en drukwerk",
        "Drukkerij Eemland",
        "Drukwerk fotoboek “Van brandemmer tot waterkanon” (250 exemplaren)",
        Decimal("1650.00"),
        9,
        Status.PAID,
        dt.date(2023, 7, 3),
        Status.COMMITTED,
        "presentatie-jubileumboek",
        "DE-23-1187",
    ),
    DemoExpense(
        "Huur",
        "Verhuurbedrijf De Eembocht",
        "Huur tent 10 x 20 m voor de open dag Soest, met opbouw",
        Decimal("650.00"),
        21,
        Status.PAID,
        dt.date(2023, 8, 21),
        Status.PLANNED,
        "open-dag-kazerne-soest",
        "EEM-5531",
    ),
    DemoExpense(
        "Vergunningen",
        "Gemeente Soest",
        "Leges evenementenvergunning open dagen",
        Decimal("186.00"),
        0,
        Status.PAID,
        dt.date(2023, 6, 12),
        Status.PLANNED,
        "",
        "LEG-2023-0877",
    ),
    DemoExpense(
        "Geschenken",
        "Graveerbedrijf Van Dijk",
        "Herinneringsspeld 100 jaar voor leden en oud-leden (180 stuks)",
        Decimal("450.00"),
        21,
        Status.PAID,
        dt.date(2023, 9, 4),
        Status.PLANNED,
        "reuniediner",
        "VD-230904",
    ),
    DemoExpense(
        "Vervoer",
        "Transportbedrijf Gebr. Hol",
        "Transport historische Magirus (dieplader) naar Soesterberg en terug",
        Decimal("395.00"),
        21,
        Status.PAID,
        dt.date(2023, 9, 8),
        Status.PLANNED,
        "open-dag-kazerne-soesterberg",
        "HOL-23-318",
    ),
    DemoExpense(
        "Promotie en drukwerk",
        "Drukkerij Eemland",
        "Affiches en flyers open dagen",
        Decimal("310.00"),
        21,
        Status.PAID,
        dt.date(2023, 8, 1),
        None,
        "",
        "DE-23-1240",
    ),
    DemoExpense(
        "Materialen",
        "Brandweerwinkel.nl",
        "Brandweerdiploma's, helmpjes en materialen kinderbrandweermiddag",
        Decimal("160.00"),
        21,
        Status.INVOICED,
        dt.date(2023, 9, 14),
        None,
        "kinderbrandweermiddag",
        "BW-889120",
    ),
    DemoExpense(
        "Catering",
        "Bakkerij Van der Pol",
        "Koffie en gebak open dag Soesterberg",
        Decimal("180.00"),
        9,
        Status.INVOICED,
        dt.date(2023, 9, 9),
        None,
        "open-dag-kazerne-soesterberg",
        "2023-207",
    ),
    DemoExpense(
        "Catering",
        "Hotel De Soester Duinen",
        "Reüniediner: drie gangen en zaalhuur (96 personen)",
        Decimal("2200.00"),
        9,
        Status.PAID,
        dt.date(2023, 10, 7),
        None,
        "reuniediner",
        "SD-10233",
    ),
]

# Income of the held programme besides the tickets (which its payments brought in), keyed by
# description.
HELD_INCOME = [
    (
        Income.Kind.SPONSORSHIP,
        "Bijdrage Rabobank Utrechtse Heuvelrug",
        Decimal("750.00"),
        dt.date(2023, 6, 30),
        "",
    ),
    (
        Income.Kind.OTHER,
        "Gift Veiligheidsregio Utrecht voor het jubileumboek",
        Decimal("250.00"),
        dt.date(2023, 7, 14),
        "presentatie-jubileumboek",
    ),
]

STEP_OFFSETS = {Status.COMMITTED: 0, Status.INVOICED: 14, Status.PAID: 30}


def _demo_organisers(programme: Programme) -> list:
    users = []
    for username, first, last, email in DEMO_ORGANISERS:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": email}
        )
        if created:
            # Demo people only sign the ledger; nobody logs in as them.
            user.set_unusable_password()
            user.save()
        sync_row(
            ProgrammeRole,
            {"user": user, "programme": programme},
            {"role": ProgrammeRole.Role.ORGANISER},
        )
        users.append(user)
    return users


def _at_work(day: dt.date, hour: int) -> dt.datetime:
    return _local(day, dt.time(hour))


def load_demo_ledger(budget: Budget, *, as_held: bool, today: dt.date) -> None:
    """The budget's demo lines: the 2023 ledger as held (paid and invoiced, under € 8,000), or
    for the programme to come a few planned and committed lines, entered in the weeks before
    today. Each line is recorded, approved and moved on through `budget.services` by the demo's
    organisers, dated on the days it happened. Keyed by supplier and description; a line made
    for the other programme goes.

    The held income comes first: with it the forecast stays below the warning level all along,
    as it did in 2023, and no budget alert is raised or mailed."""
    recorder, approver = _demo_organisers(budget.programme)
    ensure_default_categories(budget)
    categories = {category.name: category for category in budget.categories.all()}
    activities = {a.slug: a for a in budget.programme.activities.all()}
    demo_keys = {(spec.supplier, spec.description) for spec in LEDGER}
    for expense in budget.expenses.all():
        if (expense.supplier, expense.description) in demo_keys and (
            _made_for_held(expense.date) != as_held
        ):
            expense.delete()
    held_income = budget.income.filter(
        description__in=[description for _kind, description, *_rest in HELD_INCOME]
    )
    if as_held:
        recorded = set(held_income.values_list("description", flat=True))
        for kind, description, amount, date, slug in HELD_INCOME:
            if description in recorded:
                continue
            with happened_at(_at_work(date, 11)):
                activity = activities.get(slug)
                record_income(
                    budget,
                    IncomeInput(
                        kind=kind,
                        description=description,
                        amount=amount,
                        date=date,
                        activity_id=activity.pk if activity else None,
                    ),
                    by=recorder,
                )
    else:
        held_income.delete()
    recorded = set(budget.expenses.values_list("supplier", "description"))
    order = list(Expense.STATUS_ORDER)
    for index, spec in enumerate(LEDGER):
        status = spec.held_status if as_held else spec.upcoming_status
        if status is None or (spec.supplier, spec.description) in recorded:
            continue
        date = spec.held_date if as_held else today - dt.timedelta(days=40 - 3 * index)
        with happened_at(_at_work(date, 9)):
            activity = activities.get(spec.activity)
            expense = record_expense(
                budget,
                ExpenseInput(
                    category_id=categories[spec.category].pk,
                    activity_id=activity.pk if activity else None,
                    supplier=spec.supplier,
                    description=spec.description,
                    invoice_number=spec.invoice_number if as_held else "",
                    date=date,
                    amount_excl_vat=spec.amount_excl_vat,
                    vat_rate=spec.vat_rate,
                ),
                by=recorder,
            )
        if status == Status.PLANNED:
            continue
        if expense.needs_approval:
            with happened_at(_at_work(date, 14)):
                approve_expense(expense.pk, by=approver)
        for step in order[order.index(Status.PLANNED) + 1 : order.index(status) + 1]:
            day = date + dt.timedelta(days=STEP_OFFSETS[step])
            with happened_at(_at_work(day, 16)):
                advance_expense(expense.pk, step, by=recorder, on_date=day)


# --- Who came: the held programme's registrations and check-ins ------------------------------

# The door scanner of the held programme: never paired (no token), long expired.
HELD_SCANNER = "Deur jubileum 2023"

HELD_FIRST_NAMES = [
    "Anna", "Bas", "Carla", "Dirk", "Els", "Frank", "Gerda", "Hans", "Ingrid", "Jan",
    "Karin", "Leo", "Marieke", "Niels", "Olga", "Piet", "Renate", "Sander", "Truus", "Wim",
    "Yvonne", "Gert", "Mieke", "Ruud", "Sanne", "Theo", "Linda", "Koen", "Ans", "Joost",
]  # fmt: skip
HELD_LAST_NAMES = [
    "de Vries", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos",
    "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra",
    "Smits", "de Graaf", "van der Meer", "Kok", "Jacobs", "van den Berg", "Vermeulen", "Kuipers",
    "van Dam", "Schouten", "Willems", "Hoekstra", "Koster", "Prins", "Blom", "Huisman", "Post",
    "Kramer", "van Beek", "Timmermans", "Groen", "Veenstra", "Maas", "Verhoeven",
]  # fmt: skip
# Guests of the reception from outside the brigades: partners' organisations and neighbours.
HELD_GUESTS = [
    "Karin Mulder (Veiligheidsregio Utrecht)",
    "Erik Jansen (Brandweer Baarn)",
    "Ilse Hoogland (Brandweer Amersfoort)",
    "Ton Verweij (Brandweer Zeist)",
    "Monique Claassen (Politie Soest)",
    "Ruben Lagerweij (Oldtimerstichting)",
    "Astrid van Rooij (Historische Kring Soest)",
    "Marcel Gerritsen (Rabobank Utrechtse Heuvelrug)",
]


@dataclass(frozen=True)
class HeldPerson:
    name: str
    email: str
    kind: str = Registration.Kind.RESIDENT
    brigade: str = ""
    years_of_service: int | None = None


@dataclass(frozen=True)
class HeldAttendance:
    """Who registered for a held activity and who came: `persons` confirmed in parties of
    `party_sizes` (in turn, the last one trimmed to fit), of whom about `show_rate` of the
    parties came; every `partial_every`-th party that came left one person at home; `walk_ins`
    are parties registered at the door; the first `guests` parties are the reception's guests
    from outside the brigades."""

    slug: str
    people: str  # "members" or "residents"
    persons: int
    party_sizes: tuple[int, ...]
    show_rate: float
    partial_every: int = 0
    walk_ins: tuple[int, ...] = ()
    guests: int = 0
    arrival_minutes: int = 30  # doors open this long before the start


HELD_ATTENDANCE = [
    HeldAttendance("jubileumreceptie", "members", 128, (2, 2, 1), 0.9, guests=8),
    HeldAttendance(
        "kinderbrandweermiddag", "residents", 36, (3, 4, 2, 3), 0.86, partial_every=5, walk_ins=(3,)
    ),
    # Every ride was full; one family did not turn up for the last one.
    *[
        HeldAttendance(
            f"rit-historische-brandweerwagen-{slot:%H%M}",
            "residents",
            4,
            sizes,
            show_rate,
            arrival_minutes=10,
        )
        for slot, sizes, show_rate in zip(
            RIDE_SLOTS, [(4,), (2, 2), (3, 1), (2, 2)], [1.0, 1.0, 1.0, 0.35], strict=True
        )
    ],
    HeldAttendance(
        "lezing-100-jaar-brandweer",
        "residents",
        58,
        (2, 1, 2, 1, 3),
        0.78,
        partial_every=6,
        walk_ins=(2, 1),
    ),
    HeldAttendance("reuniediner", "members", 96, (2, 2, 1, 2), 0.96),
    HeldAttendance(
        "presentatie-jubileumboek",
        "residents",
        74,
        (2, 1, 3, 2),
        0.84,
        partial_every=7,
        walk_ins=(2,),
    ),
]


def _held_email(name: str, taken: set[str]) -> str:
    local = name.lower().replace(" ", ".").replace("..", ".")
    email, n = f"{local}@example.org", 2
    while email in taken:
        email, n = f"{local}{n}@example.org", n + 1
    taken.add(email)
    return email


def _held_name(index: int) -> str:
    # 30 and 41 have no common factor: every index below 1230 is another pair of names.
    first = HELD_FIRST_NAMES[index % len(HELD_FIRST_NAMES)]
    return f"{first} {HELD_LAST_NAMES[index % len(HELD_LAST_NAMES)]}"


def _held_people() -> dict[str, list[HeldPerson]]:
    """The members (current and former, of both brigades) and the residents of the held
    programme: the same every time, so loading again finds the same registrations."""
    taken: set[str] = set()
    members = []
    for index in range(110):
        person_name = _held_name(index)
        former = index % 3 == 2
        members.append(
            HeldPerson(
                name=person_name,
                email=_held_email(person_name, taken),
                kind=Registration.Kind.FORMER_MEMBER if former else Registration.Kind.MEMBER,
                brigade=Brigade.SOEST if index % 5 < 3 else Brigade.SOESTERBERG,
                years_of_service=(index * 7) % (38 if former else 30) + (8 if former else 1),
            )
        )
    residents = [
        HeldPerson(name=_held_name(index), email=_held_email(_held_name(index), taken))
        for index in range(300, 460)
    ]
    guests = [
        HeldPerson(
            name=guest, email=_held_email(guest.split(" (")[0], taken), kind=Registration.Kind.GUEST
        )
        for guest in HELD_GUESTS
    ]
    return {"members": members, "residents": residents, "guests": guests}


def _held_scanner(programme: Programme, activities: list[Activity]) -> ScannerDevice:
    last_end = max(activity.ends_at for activity in activities)
    device = sync_row(
        ScannerDevice,
        {"programme": programme, "name": HELD_SCANNER},
        {"expires_at": last_end + dt.timedelta(days=1), "token_hash": None},
    )
    device.activities.set(activities)
    return device


def _remove_held_attendance(programme: Programme) -> None:
    """Back to the programme to come: the held registrations, their payments and the ticket
    income these brought, and the check-ins go again (deleted: this unloads demo rows; it is
    not something people did)."""
    device = ScannerDevice.objects.filter(programme=programme, name=HELD_SCANNER).first()
    if device is not None:
        walk_ins = list(
            CheckIn.objects.filter(device=device, registration__email="").values_list(
                "registration_id", flat=True
            )
        )
        CheckIn.objects.filter(device=device).delete()
        ScanLog.objects.filter(device=device).delete()
        Registration.objects.filter(pk__in=walk_ins).delete()
        device.delete()
    emails = [person.email for group in _held_people().values() for person in group]
    held = Registration.objects.filter(activity__programme=programme, email__in=emails)
    paid = Payment.objects.filter(registration__in=held)
    Income.objects.filter(
        source__in=[f"payment:{pk}" for pk in paid.values_list("pk", flat=True)]
    ).delete()
    paid.delete()
    held.delete()


def _held_parties(
    spec: HeldAttendance, people: dict[str, list[HeldPerson]], already: int
) -> list[tuple[HeldPerson, int]]:
    """The parties of one held activity, after the `already` persons of the demo's own."""
    pool = people[spec.people]
    # Each activity draws its own people from the pool: many came to more than one.
    order = random.Random(f"held-{spec.slug}").sample(range(len(pool)), len(pool))
    parties = [(person, 1 if index % 2 else 2) for index, person in enumerate(people["guests"])]
    parties = parties[: spec.guests]
    left = spec.persons - already - sum(size for _person, size in parties)
    for turn, index in enumerate(order):
        if left <= 0:
            break
        size = min(spec.party_sizes[turn % len(spec.party_sizes)], left)
        parties.append((pool[index], size))
        left -= size
    return parties


def load_held_attendance(programme: Programme) -> None:
    """Registrations and check-ins of the held programme (2023), so that the programme report
    has attendance and no-shows to show: parties signed up in the weeks before each activity
    (members and guests approved by an organiser, the dinner paid for), most of them scanned
    in at the door (some only in part), a few registered at the door, the rest no-shows. All
    of it through the services, at the moment it happened (`demo.loading`). A party already
    there is left as it is: loading again changes nothing."""
    people = _held_people()
    held_emails = [person.email for group in people.values() for person in group]
    activities = {activity.slug: activity for activity in programme.activities.all()}
    held = [activities[spec.slug] for spec in HELD_ATTENDANCE]
    device = _held_scanner(programme, held)
    scanned = set(
        CheckIn.objects.filter(registration__activity__programme=programme).values_list(
            "registration_id", flat=True
        )
    )
    walked_in = set(CheckIn.objects.filter(device=device).values_list("nonce", flat=True))
    walkers = 0
    for spec, activity in zip(HELD_ATTENDANCE, held, strict=True):
        # The demo's own parties (`DemoActivity.demo_registrations`) came too.
        confirmed = list(
            activity.registrations.filter(status=Registration.Status.CONFIRMED)
            .exclude(email="")
            .exclude(email__in=held_emails)
            # They signed up at the same moment: the same order every time, so the same came.
            .order_by("created_at", "pk")
        )
        registrations = confirmed + _held_registrations(
            activity, _held_parties(spec, people, sum(r.party_size for r in confirmed))
        )
        rng = random.Random(f"held-door-{spec.slug}")
        opens = activity.starts_at - dt.timedelta(minutes=spec.arrival_minutes)
        came = 0
        for index, registration in enumerate(registrations):
            if rng.random() >= spec.show_rate or registration.pk in scanned:
                continue
            came += 1
            persons = registration.party_size
            if spec.partial_every and persons > 1 and came % spec.partial_every == 0:
                persons -= 1
            moment = opens + dt.timedelta(minutes=spec.arrival_minutes * index / len(registrations))
            checkin.redeem(
                device,
                checkin.Scan(
                    activity_id=activity.pk,
                    nonce=f"held-{registration.pk}",
                    registration_id=registration.pk,
                    count=persons,
                ),
                now=moment,
            )
        for index, size in enumerate(spec.walk_ins):
            nonce, walkers = f"held-walk-in-{spec.slug}-{index}", walkers + 1
            if nonce in walked_in:
                continue
            moment = activity.starts_at + dt.timedelta(minutes=5 + index)
            with happened_at(moment):
                checkin.walk_in(
                    device,
                    checkin.WalkIn(
                        activity_id=activity.pk,
                        # Names nobody on the lists has: a party that heard of it on the day.
                        name=_held_name(900 + walkers),
                        party_size=size,
                        nonce=nonce,
                    ),
                    now=moment,
                )


def _held_registrations(
    activity: Activity, parties: list[tuple[HeldPerson, int]]
) -> list[Registration]:
    """The registrations of these parties, in turn: the one already there, or a new one signed
    up in the weeks before the activity (`demo.loading.sign_up`)."""
    existing = {
        registration.email: registration
        for registration in activity.registrations.filter(
            email__in=[person.email for person, _size in parties]
        )
    }
    registrations = []
    for index, (person, size) in enumerate(parties):
        registration = existing.get(person.email)
        if registration is None:
            signed_up = activity.starts_at - dt.timedelta(
                days=30 - (index * 23) % 28, hours=index % 9
            )
            registration = sign_up(
                activity,
                SignUp(
                    contact_name=person.name,
                    email=person.email,
                    party_size=size,
                    kind=person.kind,
                    brigade=person.brigade,
                    years_of_service=person.years_of_service,
                ),
                at=signed_up,
            )
        registrations.append(registration)
    return registrations
