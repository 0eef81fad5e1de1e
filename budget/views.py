"""The budget pages of the organiser area (/beheer/<programme>/budget/): the dashboard, expenses
with their status steps, approvals and attachments, income, and the ledger exports.

Every view fetches its programme through `events.access.get_programme_for_organiser`: not yours
is a 404, a change by a viewer a 403. Views parse input, call one service of `budget.services`
and render; a refused change (`BudgetError`) shows the service's message and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from budget import charts, exports, services
from budget.errors import BudgetError, BudgetExists, InvalidField
from budget.forms import (
    AdvanceForm,
    AttachmentForm,
    BudgetSettingsForm,
    CategoryForm,
    ExpenseEditForm,
    ExpenseFilterForm,
    ExpenseForm,
    IncomeEditForm,
    IncomeForm,
    NewBudgetForm,
)
from budget.models import Attachment, Budget, Category, Expense, Income, changers_of
from budget.summary import summarise
from budget.tables import category_table
from events.access import get_programme_for_organiser, may_change
from events.models import Activity, Programme
from jubileum.lib.history import change_history, user_name
from jubileum.lib.http import see_other
from jubileum.lib.money import format_euro
from jubileum.lib.spreadsheets import csv_download, xlsx_download

User = get_user_model()

EXPENSES_PER_PAGE = 50


def _get_budget_for_organiser(
    request: HttpRequest, programme_slug: str, *, write: bool = False
) -> tuple[Programme, Budget]:
    programme = get_programme_for_organiser(request.user, programme_slug, write=write)
    budget = Budget.objects.filter(programme=programme).first()
    if budget is None:
        raise Http404("This programme has no budget.")
    budget.programme = programme  # keeps `access_role`, saves a query
    return programme, budget


def _get_expense_for_organiser(budget: Budget, expense_id: int) -> Expense:
    expenses = Expense.objects.select_related(
        "category", "activity", "recorded_by", "approved_by", "budget"
    )
    return get_object_or_404(expenses, pk=expense_id, budget=budget)


def _context(request: HttpRequest, programme: Programme, budget: Budget, **extra: Any) -> dict:
    return {"programme": programme, "budget": budget, "may_change": may_change(programme), **extra}


# --- Dashboard -------------------------------------------------------------------------------


@login_required
@require_safe
def dashboard(request: HttpRequest, programme_slug: str) -> HttpResponse:
    programme = get_programme_for_organiser(request.user, programme_slug)
    budget = Budget.objects.filter(programme=programme).first()
    if budget is None:
        return _render_no_budget(request, programme, NewBudgetForm())
    budget.programme = programme
    summary = summarise(budget)
    expenses_url = reverse("budget:expenses", args=[programme.slug])
    return render(
        request,
        "budget/dashboard.html",
        _context(
            request,
            programme,
            budget,
            summary=summary,
            charts=charts.budget_charts(summary, budget) if summary.expense_count else [],
            category_table=category_table(
                summary,
                id="categories",
                caption_hidden=True,
                link=lambda line: f"{expenses_url}?category={line.id}",
            ),
        ),
    )


def _render_no_budget(
    request: HttpRequest, programme: Programme, form: NewBudgetForm, *, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "budget/no_budget.html",
        {"programme": programme, "may_change": may_change(programme), "form": form},
        status=status,
    )


@login_required
@require_POST
def create(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """Give a programme without a budget its budget, from the page that says it has none."""
    programme = get_programme_for_organiser(request.user, programme_slug, write=True)
    form = NewBudgetForm(request.POST)
    if form.is_valid():
        try:
            services.create_budget(programme.pk, by=request.user, **form.cleaned_data)
        except BudgetExists as error:
            messages.info(request, str(error))
            return see_other(reverse("budget:dashboard", args=[programme.slug]))
        except BudgetError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "Het budget is ingesteld, met de gebruikelijke categorieën. Hieronder kun "
                    "je ze aanpassen."
                ),
            )
            return see_other(reverse("budget:settings", args=[programme.slug]))
    return _render_no_budget(request, programme, form, status=422)


# --- Settings and categories -----------------------------------------------------------------


def _budget_history(budget: Budget) -> list[dict[str, Any]]:
    records = budget.history.select_related("history_user").order_by("-history_date", "-pk")
    return change_history(records, skip={"programme"})


def _render_settings(
    request: HttpRequest,
    programme: Programme,
    budget: Budget,
    *,
    form: BudgetSettingsForm | None = None,
    category_form: CategoryForm | None = None,
    status: int = 200,
) -> HttpResponse:
    summary = summarise(budget)
    in_use = dict(
        Expense.objects.filter(budget=budget)
        .values_list("category_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    categories = [
        {"line": line, "expense_count": in_use.get(line.id, 0)} for line in summary.per_category
    ]
    return render(
        request,
        "budget/settings.html",
        _context(
            request,
            programme,
            budget,
            summary=summary,
            form=form or BudgetSettingsForm(budget=budget),
            category_form=category_form or CategoryForm(auto_id="category_%s"),
            categories=categories,
            history=_budget_history(budget),
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def budget_settings(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """The budget's total, VAT mode, approval threshold and warning percentage, its categories
    and the history of its settings. Viewers read them; only the fields changed are saved, so a
    save does not undo another organiser's change of another field made in the meantime."""
    write = request.method == "POST"
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=write)
    form = BudgetSettingsForm(request.POST if write else None, budget=budget)
    here = reverse("budget:settings", args=[programme.slug])
    if write and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Je hebt niets gewijzigd."))
            return see_other(here)
        try:
            services.update_budget(budget.pk, by=request.user, **form.changes())
        except BudgetError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("De instellingen van het budget zijn opgeslagen."))
            return see_other(here)
    return _render_settings(request, programme, budget, form=form, status=422 if write else 200)


@login_required
@require_POST
def add_category(request: HttpRequest, programme_slug: str) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    form = CategoryForm(request.POST, auto_id="category_%s")
    if form.is_valid():
        try:
            added = services.save_category(budget, by=request.user, **form.cleaned_data)
        except BudgetError as error:
            form.add_error("name" if isinstance(error, InvalidField) else None, str(error))
        else:
            messages.success(
                request, _("De categorie “%(name)s” is toegevoegd.") % {"name": added.name}
            )
            return see_other(reverse("budget:settings", args=[programme.slug]) + "#categories")
    return _render_settings(request, programme, budget, category_form=form, status=422)


def _get_category_for_organiser(budget: Budget, category_id: int) -> Category:
    return get_object_or_404(Category, pk=category_id, budget=budget)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_category(request: HttpRequest, programme_slug: str, category_id: int) -> HttpResponse:
    """Rename a category or change its planned amount; remove it from here if no expense uses
    it."""
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_category_for_organiser(budget, category_id)
    write = request.method == "POST"
    form = CategoryForm(request.POST if write else None, category=current)
    settings_page = reverse("budget:settings", args=[programme.slug]) + "#categories"
    if write and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Je hebt niets gewijzigd."))
            return see_other(settings_page)
        try:
            saved = services.save_category(
                budget, by=request.user, category_id=current.pk, **form.cleaned_data
            )
        except BudgetError as error:
            form.add_error("name" if isinstance(error, InvalidField) else None, str(error))
        else:
            messages.success(
                request, _("De categorie “%(name)s” is opgeslagen.") % {"name": saved.name}
            )
            return see_other(settings_page)
    return render(
        request,
        "budget/category_edit.html",
        _context(
            request,
            programme,
            budget,
            category=current,
            form=form,
            in_use=current.expenses.exists(),
        ),
        status=422 if write else 200,
    )


@login_required
@require_POST
def remove_category(request: HttpRequest, programme_slug: str, category_id: int) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_category_for_organiser(budget, category_id)
    try:
        services.remove_category(budget, current.pk, by=request.user)
    except BudgetError as error:
        messages.error(request, str(error))
        return see_other(reverse("budget:edit_category", args=[programme.slug, current.pk]))
    messages.success(request, _("De categorie “%(name)s” is verwijderd.") % {"name": current.name})
    return see_other(reverse("budget:settings", args=[programme.slug]) + "#categories")


# --- Expenses --------------------------------------------------------------------------------


def _expense_list(budget: Budget, filters: dict[str, Any]) -> QuerySet[Expense]:
    return (
        Expense.objects.filter(budget=budget, **filters)
        .select_related("budget", "category", "activity")
        .order_by("-date", "-pk")
    )


def _page_of(expenses: QuerySet[Expense], request: HttpRequest):
    return Paginator(expenses, EXPENSES_PER_PAGE).get_page(request.GET.get("pagina"))


def held_for_approval_message(budget: Budget) -> str:
    """Said after saving an expense asked for past planned that waits for its approval."""
    return _(
        "Opgeslagen als gepland: boven %(threshold)s is eerst goedkeuring nodig van een andere "
        "organisator. Daarna kun je de status verder zetten."
    ) % {"threshold": budget.approval_threshold_label}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def expenses(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """The expense list with its filters, and the short form to add one.

    With htmx, adding answers with the form's partial (and, once added, the new figures and
    list swapped in beside it); filtering answers with the list's partial. Without JavaScript
    the same URL takes a normal POST and redirects.
    """
    write = request.method == "POST"
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=write)
    form = ExpenseForm(request.POST if write else None, budget=budget)
    added: Expense | None = None
    held = False
    if write and form.is_valid():
        try:
            added = services.record_expense(
                budget,
                form.expense_input(),
                by=request.user,
                status=form.cleaned_data["status"],
                status_date=form.cleaned_data["date"],
                hold_for_approval=True,
            )
        except BudgetError as error:
            form.add_error(None, str(error))
        else:
            held = added.status != form.cleaned_data["status"]
            if not request.htmx:
                messages.success(
                    request,
                    _("De uitgave “%(description)s” (%(amount)s excl. btw) is toegevoegd.")
                    % {
                        "description": added.description,
                        "amount": format_euro(added.amount_excl_vat),
                    },
                )
                if held:
                    messages.warning(request, held_for_approval_message(budget))
                return see_other(request.get_full_path())
            form = ExpenseForm(budget=budget)
    filter_form = ExpenseFilterForm(request.GET, budget=budget)
    page = _page_of(_expense_list(budget, filter_form.filters()), request)
    query = request.GET.copy()
    query.pop("pagina", None)
    context = _context(
        request,
        programme,
        budget,
        form=form,
        added=added,
        held=held_for_approval_message(budget) if added and held else None,
        filter_form=filter_form,
        page=page,
        query=query.urlencode(),
        form_action=request.get_full_path(),
        fragment=bool(request.htmx),
    )
    if request.htmx and not request.htmx.history_restore_request:
        if write:
            if added is not None:
                context["summary"] = summarise(budget)
            # htmx swaps only 2xx answers, so a refused form comes back as 200 with its errors.
            response = render(request, "budget/expenses.html#add", context)
        else:
            response = render(request, "budget/expenses.html#list", context)
    else:
        context["summary"] = summarise(budget)
        response = render(request, "budget/expenses.html", context, status=422 if write else 200)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _history(expense: Expense) -> list[dict[str, Any]]:
    """Each change of the expense: who, when, and which fields went from what to what."""
    records = list(expense.history.select_related("history_user").order_by("-history_date"))
    user_ids = {
        value
        for record in records
        for value in (record.recorded_by_id, record.approved_by_id)
        if value is not None
    }
    users = {user.pk: user_name(user) for user in User.objects.filter(pk__in=user_ids)}
    names = {
        "category": {c.pk: c.name for c in expense.budget.categories.all()},
        "activity": {
            a.pk: a.title for a in Activity.objects.filter(programme_id=expense.budget.programme_id)
        },
        "recorded_by": users,
        "approved_by": users,
    }
    # What an approval approved shows as the fields themselves and who approved them.
    skip = {"updated_at", "created_at", "vat_amount", "approved_terms"}
    return change_history(records, skip=skip, names=names)


def _steps(expense: Expense) -> list[dict[str, Any]]:
    dates = {
        # Planning is where an expense starts; only the later steps keep a date.
        Expense.Status.PLANNED: None,
        Expense.Status.COMMITTED: expense.committed_on,
        Expense.Status.INVOICED: expense.invoiced_on,
        Expense.Status.PAID: expense.paid_on,
    }
    reached = Expense.STATUS_ORDER.index(Expense.Status(expense.status))
    return [
        {
            "label": status.label,
            "date": dates[status],
            "done": position <= reached,
            "current": position == reached,
        }
        for position, status in enumerate(Expense.STATUS_ORDER)
    ]


def _render_expense(
    request: HttpRequest,
    programme: Programme,
    budget: Budget,
    expense: Expense,
    *,
    advance_form: AdvanceForm | None = None,
    attachment_form: AttachmentForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    waiting = expense.needs_approval
    return render(
        request,
        "budget/expense.html",
        _context(
            request,
            programme,
            budget,
            expense=expense,
            steps=_steps(expense),
            needs_approval=waiting,
            may_approve=may_change(programme) and waiting and expense.may_be_approved_by(user),
            advance_form=advance_form or AdvanceForm(expense=expense),
            attachment_form=attachment_form or AttachmentForm(),
            attachments=list(expense.attachments.select_related("uploaded_by")),
            history=_history(expense),
            error=error,
            summary=summarise(budget),
        ),
        status=status,
    )


@login_required
@require_safe
def expense(request: HttpRequest, programme_slug: str, expense_id: int) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug)
    return _render_expense(
        request, programme, budget, _get_expense_for_organiser(budget, expense_id)
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_expense(request: HttpRequest, programme_slug: str, expense_id: int) -> HttpResponse:
    """Correct an expense's fields (not its status, which has its own form and only moves
    forward). Only the fields that were changed are passed on, so a correction does not undo
    another organiser's change of another field made in the meantime."""
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_expense_for_organiser(budget, expense_id)
    write = request.method == "POST"
    form = ExpenseEditForm(request.POST if write else None, expense=current)
    page = reverse("budget:expense", args=[programme.slug, current.pk])
    if write and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Je hebt niets gewijzigd."))
            return see_other(page)
        was_approved = current.is_approved
        try:
            updated = services.update_expense(current.pk, form.expense_change(), by=request.user)
        except BudgetError as error:
            form.add_error(None, str(error))
        else:
            message = _("De uitgave “%(description)s” is gewijzigd.") % {
                "description": updated.description
            }
            if was_approved and not updated.is_approved:
                # A change of what the approval approved withdraws it (Expense.save).
                message += " " + _(
                    "Bedrag, btw, leverancier of omschrijving is veranderd, dus de goedkeuring "
                    "is ingetrokken: een organisator die de uitgave niet heeft ingevoerd of "
                    "gewijzigd moet haar opnieuw goedkeuren voordat ze een volgende stap kan "
                    "zetten."
                )
            messages.success(request, message)
            return see_other(page)
    return render(
        request,
        "budget/expense_edit.html",
        _context(
            request,
            programme,
            budget,
            expense=current,
            form=form,
            summary=summarise(budget),
        ),
        status=422 if write else 200,
    )


@login_required
@require_POST
def advance(request: HttpRequest, programme_slug: str, expense_id: int) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_expense_for_organiser(budget, expense_id)
    form = AdvanceForm(request.POST, expense=current)
    if form.is_valid():
        try:
            services.advance_expense(
                current.pk,
                form.cleaned_data["to_status"],
                by=request.user,
                on_date=form.cleaned_data["on_date"],
            )
        except BudgetError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("De status is nu: %(status)s.")
                % {"status": Expense.Status(form.cleaned_data["to_status"]).label},
            )
        return see_other(reverse("budget:expense", args=[programme.slug, current.pk]))
    return _render_expense(request, programme, budget, current, advance_form=form, status=422)


@login_required
@require_POST
def approve(request: HttpRequest, programme_slug: str, expense_id: int) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_expense_for_organiser(budget, expense_id)
    try:
        services.approve_expense(current.pk, by=request.user)
    except BudgetError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("De uitgave “%(description)s” is goedgekeurd.")
            % {"description": current.description},
        )
    if request.POST.get("from") == "queue":
        return see_other(reverse("budget:approvals", args=[programme.slug]))
    return see_other(reverse("budget:expense", args=[programme.slug, current.pk]))


@login_required
@require_POST
def upload(request: HttpRequest, programme_slug: str, expense_id: int) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_expense_for_organiser(budget, expense_id)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_attachment(
                current.pk, form.cleaned_data["file"], form.cleaned_data["kind"], by=request.user
            )
        except BudgetError as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request,
                _("De bijlage “%(name)s” is toegevoegd.")
                % {"name": form.cleaned_data["file"].name},
            )
            return see_other(reverse("budget:expense", args=[programme.slug, current.pk]))
    return _render_expense(request, programme, budget, current, attachment_form=form, status=422)


@login_required
@require_safe
def download(request: HttpRequest, programme_slug: str, attachment_id: int) -> FileResponse:
    """An attachment from private storage, only for organisers and viewers of its programme:
    always as a download, under a name of ours with the extension of the type its content was
    recognised as, and that type (never the uploader's name, such as `poly.html`)."""
    _programme, budget = _get_budget_for_organiser(request, programme_slug)
    attachment = get_object_or_404(Attachment, pk=attachment_id, expense__budget=budget)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this attachment is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.download_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- Approvals -------------------------------------------------------------------------------


@login_required
@require_safe
def approvals(request: HttpRequest, programme_slug: str) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug)
    queue = list(services.approval_queue(budget))
    changers = changers_of(item.pk for item in queue)
    for item in queue:
        item.may_approve = may_change(programme) and item.may_be_approved_by(
            request.user, changed_by=changers[item.pk]
        )
    return render(
        request,
        "budget/approvals.html",
        _context(request, programme, budget, queue=queue, summary=summarise(budget)),
    )


# --- Income ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def income(request: HttpRequest, programme_slug: str) -> HttpResponse:
    write = request.method == "POST"
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=write)
    form = IncomeForm(request.POST if write else None, budget=budget)
    if write and form.is_valid():
        try:
            added = services.record_income(budget, form.income_input(), by=request.user)
        except BudgetError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("De inkomst “%(description)s” (%(amount)s) is toegevoegd.")
                % {"description": added.description, "amount": format_euro(added.amount)},
            )
            return see_other(reverse("budget:income", args=[programme.slug]))
    summary = summarise(budget)
    other = (
        Income.objects.filter(budget=budget)
        .exclude(kind=Income.Kind.TICKETS)
        .select_related("activity", "recorded_by")
        .order_by("-date", "-pk")
    )
    return render(
        request,
        "budget/income.html",
        _context(
            request,
            programme,
            budget,
            form=form,
            summary=summary,
            other_income=list(other),
        ),
        status=422 if write else 200,
    )


def _get_income_for_organiser(budget: Budget, income_id: int) -> Income:
    """A line of income recorded by hand. Ticket income is the system's (booked from the
    payments) and read-only, so as far as editing goes it does not exist: 404."""
    lines = Income.objects.select_related("activity", "budget").filter(source="")
    return get_object_or_404(lines.exclude(kind=Income.Kind.TICKETS), pk=income_id, budget=budget)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_income(request: HttpRequest, programme_slug: str, income_id: int) -> HttpResponse:
    programme, budget = _get_budget_for_organiser(request, programme_slug, write=True)
    current = _get_income_for_organiser(budget, income_id)
    write = request.method == "POST"
    form = IncomeEditForm(request.POST if write else None, income=current)
    income_page = reverse("budget:income", args=[programme.slug])
    if write and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Je hebt niets gewijzigd."))
            return see_other(income_page)
        try:
            updated = services.update_income(current.pk, form.income_change(), by=request.user)
        except BudgetError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("De inkomst “%(description)s” (%(amount)s) is gewijzigd.")
                % {"description": updated.description, "amount": format_euro(updated.amount)},
            )
            return see_other(income_page)
    return render(
        request,
        "budget/income_edit.html",
        _context(
            request,
            programme,
            budget,
            income=current,
            form=form,
            summary=summarise(budget),
        ),
        status=422 if write else 200,
    )


# --- Exports ---------------------------------------------------------------------------------


@login_required
@require_safe
def export_csv(request: HttpRequest, programme_slug: str) -> StreamingHttpResponse:
    _programme, budget = _get_budget_for_organiser(request, programme_slug)
    # Named for the programme, the VAT mode and today, e.g. grootboek-<slug>-incl-btw-<date>.csv
    return csv_download(exports.ledger_csv(budget), exports.ledger_filename(budget, "csv"))


@login_required
@require_safe
def export_xlsx(request: HttpRequest, programme_slug: str) -> StreamingHttpResponse:
    _programme, budget = _get_budget_for_organiser(request, programme_slug)
    return xlsx_download(exports.ledger_xlsx(budget), exports.ledger_filename(budget, "xlsx"))
