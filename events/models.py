from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from jubileum.lib.bilingual import Bilingual
from jubileum.lib.colours import contrast_ratio_with_white, is_readable_on_white_text
from jubileum.lib.errors import DomainError

hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Geef een kleur als #RRGGBB, bijvoorbeeld #B41E1E.")
)


class InvalidTransition(DomainError):
    """A status change `Activity.TRANSITIONS` does not allow from the current status."""

    code = "invalid_state"
    status = 409
    message = _("Dit botst met de huidige stand van zaken.")


class ActivityCancelled(DomainError):
    """A change to an activity that was called off: its registrants were told it is not
    happening, so what it says stays as it was."""

    code = "activity_cancelled"
    status = 409
    message = _("Deze activiteit is geannuleerd; je kunt haar niet meer wijzigen.")


class CancellationReasonInvalid(DomainError):
    """An activity is called off without a reason for the people who signed up, or with a
    reason or alternative longer than an e-mail should carry."""

    code = "cancellation_reason_invalid"
    status = 422
    message = _(
        "Geef een reden op: die sturen we mee in de e-mail aan iedereen die zich aanmeldde."
    )


# Paths below /beheer/ that are not a programme: a programme with such a slug would lose its
# organiser pages to them (budget/urls.py: the organiser's e-mail settings).
RESERVED_PROGRAMME_SLUGS = frozenset({"meldingen"})
RESERVED_SLUG_MESSAGE = _("Dit webadres gebruikt de site zelf al; kies een ander.")


class ProgrammeQuerySet(models.QuerySet):
    def public(self) -> ProgrammeQuerySet:
        return self.filter(is_public=True)

    def current_or_upcoming(self, today: dt.date | None = None) -> ProgrammeQuerySet:
        """Running today or still to come, the earliest start first."""
        today = today or timezone.localdate()
        return self.filter(ends_on__gte=today).order_by("starts_on", "pk")

    def past(self, today: dt.date | None = None) -> ProgrammeQuerySet:
        """Over before today, the latest first."""
        today = today or timezone.localdate()
        return self.filter(ends_on__lt=today).order_by("-ends_on", "-pk")

    def featured(self, today: dt.date | None = None) -> Programme | None:
        """The programme whose theme and footer a page without one of its own shows: the public
        one running now or starting next, else the one that ended last. (Not simply the one
        that ends last: a programme announced a year ahead must not take over the site while
        another is running.)"""
        public = self.public()
        return public.current_or_upcoming(today).first() or public.past(today).first()


class TicketVatRate(models.IntegerChoices):
    """The Dutch VAT rates (as budget.models.VatRate, which this app cannot import)."""

    ZERO = 0, "0%"
    LOW = 9, "9%"
    HIGH = 21, "21%"


class Programme(Bilingual):
    BILINGUAL_FIELDS = ("name", "description", "privacy_statement", "accessibility_statement")

    name = models.CharField(_("naam"), max_length=200)
    name_en = models.CharField(_("naam in het Engels"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    starts_on = models.DateField(_("begindatum"))
    ends_on = models.DateField(_("einddatum"))
    description = models.TextField(_("beschrijving"), blank=True)
    description_en = models.TextField(_("beschrijving in het Engels"), blank=True)
    organiser_name = models.CharField(_("organisator"), max_length=200)
    organiser_email = models.EmailField(_("e-mail organisator"))
    organiser_phone = models.CharField(_("telefoon organisator"), max_length=40, blank=True)
    theme_colour = models.CharField(
        _("themakleur"),
        max_length=7,
        default="#B41E1E",
        validators=[hex_colour],
        help_text=_("Witte tekst op deze kleur moet goed leesbaar zijn (contrast minstens 4,5:1)."),
    )
    logo = models.ImageField(_("logo"), upload_to="programmes/logos/", blank=True)
    logo_alt = models.CharField(
        _("tekstalternatief logo"),
        max_length=200,
        blank=True,
        help_text=_("Wat het logo laat zien, voor wie het niet kan zien."),
    )
    retention_days = models.PositiveIntegerField(
        _("bewaartermijn persoonsgegevens (dagen)"),
        default=180,
        help_text=_(
            "Na het einde van het programma worden persoonsgegevens na zoveel dagen verwijderd."
        ),
    )
    is_public = models.BooleanField(_("openbaar"), default=False)
    offer_valid_hours = models.PositiveSmallIntegerField(
        _("geldigheid aanbod wachtlijst (uren)"),
        default=48,
        validators=[MinValueValidator(1, _("Een aanbod moet minstens 1 uur geldig zijn."))],
        help_text=_(
            "Zo lang kan iemand van de wachtlijst een vrijgekomen plaats claimen, en zo lang "
            "heeft een goedgekeurd lid om een betaalde activiteit te betalen."
        ),
    )
    # Admission to events is taxed at the low rate in the Netherlands (Wet OB, tabel I), so 9%
    # unless the organiser's tax adviser says otherwise; receipts state the VAT it includes.
    ticket_vat_rate = models.PositiveSmallIntegerField(
        _("btw-tarief kaartjes"),
        choices=TicketVatRate.choices,
        default=TicketVatRate.LOW,
        help_text=_(
            "Het btw-tarief dat in de prijs van betaalde activiteiten zit; het staat op het "
            "betaalbewijs."
        ),
    )
    privacy_statement = models.TextField(_("privacyverklaring"), blank=True)
    privacy_statement_en = models.TextField(_("privacyverklaring in het Engels"), blank=True)
    accessibility_statement = models.TextField(_("toegankelijkheidsverklaring"), blank=True)
    accessibility_statement_en = models.TextField(
        _("toegankelijkheidsverklaring in het Engels"), blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgrammeQuerySet.as_manager()
    # Who changed which setting when; the programme's settings page shows it.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("programma")
        verbose_name_plural = _("programma's")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("events:programme", kwargs={"slug": self.slug})

    def clean(self) -> None:
        errors = {}
        if self.slug in RESERVED_PROGRAMME_SLUGS:
            errors["slug"] = RESERVED_SLUG_MESSAGE
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("De einddatum mag niet vóór de begindatum liggen.")
        colour = self.theme_colour
        if colour and hex_colour.regex.match(colour) and not is_readable_on_white_text(colour):
            errors["theme_colour"] = _(
                "Witte tekst op deze kleur heeft een contrast van %(ratio)s:1; "
                "kies een donkerdere kleur (minstens 4,5:1)."
            ) % {"ratio": number_format(contrast_ratio_with_white(colour), 1)}
        if errors:
            raise ValidationError(errors)


class ActivityQuerySet(models.QuerySet):
    def listed(self) -> ActivityQuerySet:
        """What the public sees: not drafts, of public programmes."""
        return self.filter(programme__is_public=True).exclude(status=Activity.Status.DRAFT)

    def with_places_taken(self, now: dt.datetime | None = None) -> ActivityQuerySet:
        """Annotate `places_taken`: persons holding a place right now.

        Capacity counts confirmed parties, and waitlist offers and payment holds until their
        `hold_expires_at`. Expiry is compared with the clock here rather than set by a job, so a
        hold stops counting the moment it expires even if no worker has run. The registrations
        app owns these statuses (see `registrations.models.Registration.holds_places`); the
        lookup goes through the reverse relation so this app need not import it.
        """
        now = now or timezone.now()
        holding = Q(registrations__status="confirmed") | Q(
            registrations__status__in=["offered", "pending_payment"],
            registrations__hold_expires_at__gt=now,
        )
        return self.annotate(
            places_taken=Coalesce(Sum("registrations__party_size", filter=holding), 0)
        )

    def with_places_left(self, now: dt.datetime | None = None) -> ActivityQuerySet:
        """Only activities with room for at least one more person (unlimited ones included)."""
        return (
            self.with_places_taken(now)
            .filter(status=Activity.Status.PUBLISHED)
            .filter(Q(capacity__isnull=True) | Q(capacity__gt=models.F("places_taken")))
        )


CANCELLATION_REASON_MAX_LENGTH = 500
CANCELLATION_ALTERNATIVE_MAX_LENGTH = 300


class Activity(Bilingual):
    BILINGUAL_FIELDS = ("title", "summary", "description", "location_name", "image_alt")

    class Audience(models.TextChoices):
        PUBLIC = "public", _("Iedereen")
        MEMBERS = "members", _("Leden en oud-leden")
        INVITATION = "invitation", _("Op uitnodiging")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Concept")
        PUBLISHED = "published", _("Gepubliceerd")
        CANCELLED = "cancelled", _("Geannuleerd")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="activities", verbose_name=_("programma")
    )
    title = models.CharField(_("titel"), max_length=200)
    title_en = models.CharField(_("titel in het Engels"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=80)
    summary = models.CharField(_("korte omschrijving"), max_length=300)
    summary_en = models.CharField(_("korte omschrijving in het Engels"), max_length=300, blank=True)
    description = models.TextField(_("beschrijving"), blank=True)
    description_en = models.TextField(_("beschrijving in het Engels"), blank=True)
    starts_at = models.DateTimeField(_("begint"))
    ends_at = models.DateTimeField(_("eindigt"))
    location_name = models.CharField(_("locatie"), max_length=200)
    location_name_en = models.CharField(_("locatie in het Engels"), max_length=200, blank=True)
    location_address = models.CharField(_("adres"), max_length=300, blank=True)
    audience = models.CharField(
        _("voor wie"), max_length=20, choices=Audience.choices, default=Audience.PUBLIC
    )
    registration_required = models.BooleanField(
        _("aanmelden nodig"),
        default=True,
        help_text=_("Uitzetten voor activiteiten waar iedereen zo binnen kan lopen."),
    )
    capacity = models.PositiveIntegerField(
        _("aantal plaatsen"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1, _("Het aantal plaatsen moet minstens 1 zijn."))],
        help_text=_("Leeg laten voor onbeperkt."),
    )
    max_party_size = models.PositiveSmallIntegerField(
        _("maximaal aantal personen per aanmelding"),
        default=6,
        validators=[MinValueValidator(1, _("Een aanmelding is voor minstens 1 persoon."))],
    )
    price = models.DecimalField(
        _("prijs per persoon (€)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"), _("De prijs mag niet negatief zijn."))],
    )
    registration_opens_at = models.DateTimeField(_("aanmelden vanaf"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(
        _("aanmelden tot"),
        null=True,
        blank=True,
        help_text=_("Leeg laten: aanmelden kan tot de activiteit begint."),
    )
    cancellation_closes_at = models.DateTimeField(
        _("annuleren kan tot"),
        null=True,
        blank=True,
        help_text=_("Leeg laten: annuleren kan tot de activiteit begint."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    waitlist_enabled = models.BooleanField(_("wachtlijst"), default=True)
    approval_required = models.BooleanField(
        _("goedkeuring nodig"),
        default=False,
        help_text=_(
            "Elke aanmelding wacht op goedkeuring door een organisator, behalve wie met een "
            "uitnodiging komt. (Voor leden en oud-leden wacht alleen wie niet op de ledenlijst "
            "staat, ook zonder dit vinkje.)"
        ),
    )
    # Written by the organiser who calls the activity off; the e-mail to every registration and
    # the activity's pages show them.
    cancellation_reason = models.CharField(
        _("reden van annuleren"), max_length=CANCELLATION_REASON_MAX_LENGTH, blank=True
    )
    cancellation_alternative = models.CharField(
        _("alternatief"), max_length=CANCELLATION_ALTERNATIVE_MAX_LENGTH, blank=True
    )
    image = models.ImageField(_("afbeelding"), upload_to="activities/images/", blank=True)
    image_alt = models.CharField(
        _("tekstalternatief afbeelding"),
        max_length=200,
        blank=True,
        help_text=_("Wat de afbeelding laat zien, voor wie het niet kan zien."),
    )
    image_alt_en = models.CharField(
        _("tekstalternatief afbeelding in het Engels"), max_length=200, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The status changes: publishing (the public sees it and may sign up), taking it back to a
    # draft, and calling it off (what follows for its registrations is
    # registrations.services.cancel_activity).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.DRAFT: frozenset({Status.PUBLISHED, Status.CANCELLED}),
        Status.PUBLISHED: frozenset({Status.DRAFT, Status.CANCELLED}),
        Status.CANCELLED: frozenset(),
    }

    objects = ActivityQuerySet.as_manager()
    # Who changed what when; the organiser's activity page shows it.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["starts_at", "title"]
        verbose_name = _("activiteit")
        verbose_name_plural = _("activiteiten")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "slug"], name="activity_slug_per_programme"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="activity_price_not_negative"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="activity_capacity_at_least_one",
            ),
        ]
        indexes = [models.Index(fields=["programme", "status", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "events:activity",
            kwargs={"programme_slug": self.programme.slug, "slug": self.slug},
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("De activiteit moet eindigen na het begin.")
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            errors["registration_closes_at"] = _("Aanmelden moet sluiten nadat het is opengegaan.")
        if self.ends_at and closes and closes > self.ends_at:
            errors["registration_closes_at"] = _(
                "Aanmelden moet sluiten vóór de activiteit is afgelopen."
            )
        if self.ends_at and opens and opens >= self.ends_at:
            errors["registration_opens_at"] = _(
                "Aanmelden moet opengaan vóór de activiteit is afgelopen."
            )
        cancel_until = self.cancellation_closes_at
        if self.ends_at and cancel_until and cancel_until > self.ends_at:
            errors["cancellation_closes_at"] = _(
                "Annuleren moet sluiten vóór de activiteit is afgelopen."
            )
        if self.capacity and self.max_party_size and self.max_party_size > self.capacity:
            errors["max_party_size"] = _(
                "Een aanmelding kan niet meer personen hebben dan er plaatsen zijn (%(capacity)s)."
            ) % {"capacity": self.capacity}
        if not self.registration_required and self.price:
            errors["price"] = _(
                "Een activiteit zonder aanmelding kan geen prijs hebben: er is niets om te betalen."
            )
        if errors:
            raise ValidationError(errors)

    def _check_transition(self, to: str) -> None:
        if to not in self.TRANSITIONS.get(self.status, ()):
            raise InvalidTransition(details={"model": "activity", "from": self.status, "to": to})

    def check_changeable(self) -> None:
        """Refuse an edit of what a cancelled activity says (ActivityCancelled)."""
        if self.status == self.Status.CANCELLED:
            raise ActivityCancelled(details={"status": self.status})

    def publish(self) -> list[str]:
        """Show the draft to the public (sign-up opens as its dates say). Like every transition
        method it checks `TRANSITIONS`, sets the fields on the instance and returns their
        names; the caller saves."""
        self._check_transition(self.Status.PUBLISHED)
        self.status = self.Status.PUBLISHED
        return ["status"]

    def unpublish(self) -> list[str]:
        """Take the activity back to a draft: hidden from the public, sign-up closed; whoever
        signed up keeps their place and personal page."""
        self._check_transition(self.Status.DRAFT)
        self.status = self.Status.DRAFT
        return ["status"]

    def cancel(self, reason: str, alternative: str = "") -> list[str]:
        """Call the activity off, saying why and optionally what people can do instead."""
        self._check_transition(self.Status.CANCELLED)
        reason, alternative = reason.strip(), alternative.strip()
        if not reason:
            raise CancellationReasonInvalid()
        if (
            len(reason) > CANCELLATION_REASON_MAX_LENGTH
            or len(alternative) > CANCELLATION_ALTERNATIVE_MAX_LENGTH
        ):
            raise CancellationReasonInvalid(
                _("De reden mag hoogstens %(reason)s tekens zijn, het alternatief %(alternative)s.")
                % {
                    "reason": CANCELLATION_REASON_MAX_LENGTH,
                    "alternative": CANCELLATION_ALTERNATIVE_MAX_LENGTH,
                }
            )
        self.status = self.Status.CANCELLED
        self.cancellation_reason = reason
        self.cancellation_alternative = alternative
        return ["status", "cancellation_reason", "cancellation_alternative"]

    # Figures derived from stored times; `places_taken` comes from
    # ActivityQuerySet.with_places_taken() and is counted on demand otherwise.

    @property
    def is_free(self) -> bool:
        return self.price == 0

    @property
    def places_left(self) -> int | None:
        """Places still free, or None when the activity has no limit."""
        if self.capacity is None:
            return None
        taken = getattr(self, "places_taken", None)
        if taken is None:
            taken = Activity.objects.with_places_taken().get(pk=self.pk).places_taken
        return max(self.capacity - taken, 0)

    def is_past(self, now: dt.datetime | None = None) -> bool:
        return self.ends_at <= (now or timezone.now())

    def cancellation_is_open(self, now: dt.datetime | None = None) -> bool:
        """Whether an attendee may still cancel (organisers always may)."""
        return (now or timezone.now()) < (self.cancellation_closes_at or self.starts_at)

    def registration_is_open(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        if not self.registration_required or self.status != self.Status.PUBLISHED:
            return False
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        return now < (self.registration_closes_at or self.starts_at)


class ProgrammeRole(models.Model):
    """Access to one programme's organiser area (/beheer/); superusers need none.

    Checked in one place only: `events.access`.
    """

    class Role(models.TextChoices):
        ORGANISER = "organiser", _("Organisator")
        VIEWER = "viewer", _("Meekijker")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="programme_roles",
        verbose_name=_("gebruiker"),
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="roles", verbose_name=_("programma")
    )
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "user"]
        verbose_name = _("rol in een programma")
        verbose_name_plural = _("rollen in programma's")
        constraints = [
            models.UniqueConstraint(fields=["user", "programme"], name="one_role_per_programme")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.programme}: {self.get_role_display()}"


# The organisers' e-mail about what waits for them goes out at most this often per person.
DIGEST_INTERVAL = dt.timedelta(hours=1)


class OrganiserDigest(models.Model):
    """One person's e-mail about what waits for them in the programmes they organise
    (registrations to approve, expenses to approve; see `budget.digest`): whether they want it,
    when it last went out and when the next is planned.

    One switch per person rather than per programme: the e-mail is one message for all their
    programmes, and an organiser who wants fewer e-mails wants fewer of that one. No row is the
    same as a row with the switch on.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="organiser_digest",
        verbose_name=_("gebruiker"),
    )
    enabled = models.BooleanField(_("e-mail over wat op mij wacht"), default=True)
    last_sent_at = models.DateTimeField(_("laatst verstuurd op"), null=True, blank=True)
    # When the task that sends the next one is due; empty when none is planned.
    due_at = models.DateTimeField(_("volgende gepland op"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail over wat wacht")
        verbose_name_plural = _("e-mails over wat wacht")

    def __str__(self) -> str:
        return str(self.user)

    def next_allowed(self, now: dt.datetime) -> dt.datetime:
        """The first moment the next e-mail may go out: now, or an hour after the last."""
        if self.last_sent_at is None:
            return now
        return max(now, self.last_sent_at + DIGEST_INTERVAL)


class Question(models.Model):
    """An extra question an activity asks at sign-up (dietary wishes, children's ages,
    organisation and role). The answers belong to the registration (`registrations.Answer`):
    exported with it, shown on the personal page and purged with it."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Tekst")
        CHOICE = "choice", _("Keuze uit een lijst")
        YES_NO = "yes_no", _("Ja of nee")

    # Canonical values of a yes/no answer; shown in the reader's language.
    YES, NO = "ja", "nee"

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="questions", verbose_name=_("activiteit")
    )
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    label = models.CharField(_("vraag"), max_length=200)
    label_en = models.CharField(_("vraag in het Engels"), max_length=200, blank=True)
    help_text = models.CharField(_("toelichting"), max_length=300, blank=True)
    help_text_en = models.CharField(_("toelichting in het Engels"), max_length=300, blank=True)
    kind = models.CharField(_("soort antwoord"), max_length=10, choices=Kind.choices)
    choices = models.TextField(
        _("keuzes"),
        blank=True,
        help_text=_(
            "Eén keuze per regel. Zet de Engelse vertaling erachter na een |, bijvoorbeeld: "
            "Vegetarisch | Vegetarian"
        ),
    )
    required = models.BooleanField(_("verplicht"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("vraag")
        verbose_name_plural = _("vragen")

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.kind == self.Kind.CHOICE and len(self.options()) < 2:
            raise ValidationError(
                {"choices": _("Geef minstens twee keuzes, elk op een eigen regel.")}
            )
        if self.kind != self.Kind.CHOICE and self.choices.strip():
            raise ValidationError({"choices": _("Alleen een keuzevraag heeft keuzes.")})

    def label_in(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label

    def help_text_in(self, language: str) -> str:
        return self.help_text_en if language == "en" and self.help_text_en else self.help_text

    def options(self, language: str = "nl") -> list[tuple[str, str]]:
        """(stored value, text shown) per choice; the stored value is always the Dutch text,
        so exports and counts do not depend on the language someone signed up in."""
        if self.kind == self.Kind.YES_NO:
            return [(self.YES, str(_("Ja"))), (self.NO, str(_("Nee")))]
        options = []
        for line in self.choices.splitlines():
            dutch, _sep, english = (part.strip() for part in line.partition("|"))
            if dutch:
                options.append((dutch, english if language == "en" and english else dutch))
        return options

    def display(self, value: str, language: str = "nl") -> str:
        """An answer as the reader should see it (a yes/no in their language)."""
        if self.kind == self.Kind.TEXT:
            return value
        return dict(self.options(language)).get(value, value)


class InvitationUnusable(DomainError):
    """A team invitation that was used already or has expired."""

    code = "invitation_unusable"
    status = 410
    message = _(
        "Deze uitnodiging is niet meer geldig: ze is al gebruikt of verlopen. Vraag een "
        "organisator om een nieuwe uitnodiging."
    )


class TeamInvitation(models.Model):
    """An invitation to join a programme's team, mailed to an address that has no account yet.

    The link carries the invitation's id, signed (`events.team`); it works once
    (`accepted_at`) and for `VALID_FOR` after it was made.
    """

    VALID_FOR = dt.timedelta(days=7)

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="team_invitations",
        verbose_name=_("programma"),
    )
    email = models.EmailField(_("e-mailadres"))
    role = models.CharField(_("rol"), max_length=20, choices=ProgrammeRole.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uitgenodigd door"),
    )
    created_at = models.DateTimeField(_("uitgenodigd op"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("geaccepteerd op"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("geaccepteerd door"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("uitnodiging voor het team")
        verbose_name_plural = _("uitnodigingen voor het team")

    def __str__(self) -> str:
        return f"{self.email} — {self.programme}: {self.get_role_display()}"

    TOKEN_SALT = "events.team-invitation"

    def token(self) -> str:
        """The key in the invitation's link: its id, signed."""
        return signing.dumps(self.pk, salt=self.TOKEN_SALT)

    @classmethod
    def for_token(cls, token: str, now: dt.datetime | None = None) -> TeamInvitation:
        """The usable invitation this link names; `InvitationUnusable` for a forged, expired or
        used link alike (the page says the same for each, and nothing changes)."""
        try:
            pk = signing.loads(token, salt=cls.TOKEN_SALT, max_age=cls.VALID_FOR)
        except signing.BadSignature:
            raise InvitationUnusable() from None
        invitation = None
        if isinstance(pk, int):
            invitation = cls.objects.select_related("programme").filter(pk=pk).first()
        if invitation is None or not invitation.is_usable(now):
            raise InvitationUnusable()
        return invitation

    def expires_at(self) -> dt.datetime:
        return self.created_at + self.VALID_FOR

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        return self.accepted_at is None and (now or timezone.now()) < self.expires_at()

    def accept(self, user: models.Model, now: dt.datetime | None = None) -> list[str]:
        """Mark the invitation used by `user` (once, before it expires); the caller saves."""
        now = now or timezone.now()
        if not self.is_usable(now):
            raise InvitationUnusable(details={"invitation": self.pk})
        self.accepted_at = now
        self.accepted_by = user  # type: ignore[assignment]
        return ["accepted_at", "accepted_by"]
