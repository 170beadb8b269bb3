"""The form builder (owners and marketers): list forms, create and edit one, its landing page,
its submissions journal and the snippet to embed it, remove (archive or delete) and restore it.
Thin views: parse with Django forms, call one action of ``leadbase.capture.actions``, render.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from leadbase.accounts.models import Membership, User
from leadbase.capture import public
from leadbase.capture.actions import (
    FIELD_TYPES,
    UTM_KEYS,
    do_create_form,
    do_remove_form,
    do_replay_submission,
    do_restore_form,
    do_save_landing_page,
    do_update_form,
    form_has_history,
    form_problems,
)
from leadbase.capture.errors import FormConfigError
from leadbase.capture.markdown import render_markdown
from leadbase.capture.models import (
    Form,
    RefusedPosts,
    Removal,
    Submission,
    SubmissionStatus,
    TrackedLink,
)
from leadbase.leads.models import Purpose
from leadbase.web.access import member_required
from leadbase.web.views.util import wants_partial

PAGE_SIZE = 50
DEFAULT_FIELDS = [
    {"key": "name", "label": "Name", "type": "text", "required": True},
    {"key": "email", "label": "Email", "type": "email", "required": True},
    {"key": "phone", "label": "Phone", "type": "phone", "required": False},
]
DEFAULT_CONSENTS = [
    {
        "purpose": "email_marketing",
        "required": False,
        "text": "Yes, send me news and offers by email. I can unsubscribe at any time.",
    }
]


class FormSettings(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=60,
        required=False,
        help_text="Its address: /f/&lt;slug&gt;. Empty: made from the name.",
    )
    thank_you_message = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    redirect_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Or redirect to",
        help_text="After submitting, send visitors to this page instead of the message.",
    )
    allowed_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=(
            "Sites that may embed and post this form, one per line, as scheme, host and port "
            "without a path, e.g. https://www.example.com. Add <code>null</code> only if a page "
            "with <code>Referrer-Policy: no-referrer</code> posts the plain HTML form (its "
            "browser then sends <code>Origin: null</code>); any site can send that, so prefer "
            "changing that page's policy."
        ),
    )
    hidden_fields = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Values stored with every submission, one <code>key=value</code> per line.",
    )
    tags = forms.CharField(
        required=False, help_text="Comma-separated; stored on the leads it creates."
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Owner on submit",
        help_text="New leads without an owner are given to this member.",
    )
    double_opt_in = forms.BooleanField(
        required=False, label="Double opt-in (consent pending until the emailed link is clicked)"
    )
    is_published = forms.BooleanField(required=False, label="Published")
    proof_of_work = forms.BooleanField(
        required=False, label="Proof of work (the browser solves a small puzzle; needs JavaScript)"
    )

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            memberships__workspace_id=workspace_id
        ).order_by("email")

    def clean_hidden_fields(self) -> dict[str, str]:
        pairs = {}
        for line in self.cleaned_data["hidden_fields"].splitlines():
            if line.strip():
                key, sep, value = line.partition("=")
                if not sep:
                    raise forms.ValidationError(f"“{line.strip()}” is not key=value.")
                if key.strip() in pairs:  # one of the two values would be dropped unseen
                    raise forms.ValidationError(f"“{key.strip()}” is given twice; keep one line for it.")
                pairs[key.strip()] = value.strip()
        return pairs

    def definition(self) -> dict[str, Any]:
        """The settings as ``do_create_form`` takes them; of a refused form, those accepted."""
        data = dict(self.cleaned_data)
        for name, split in (("allowed_origins", str.split), ("tags", lambda text: text.split(","))):
            if name in data:
                data[name] = split(data[name])
        return data


class FieldRow(forms.Form):
    key = forms.CharField(max_length=40)
    label = forms.CharField(max_length=200, required=False)
    type = forms.ChoiceField(choices=[(t, t) for t in FIELD_TYPES])
    required = forms.BooleanField(required=False)
    options = forms.CharField(required=False, help_text="For a list: options separated by commas.")

    def has_changed(self) -> bool:
        """An empty extra row is one with nothing typed in it. A browser posts the type list's
        first option (and its tick boxes) for a row left alone, which Django would take as
        changed and then refuse for its missing key, so no form could be saved."""
        return any(self[name].data for name in ("key", "label", "options"))


class ConsentRow(forms.Form):
    purpose = forms.ChoiceField(choices=[("", "Choose…"), *Purpose.choices])
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    required = forms.BooleanField(required=False)


class _PositionedRows(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["ORDER"].label = "Position"


#: ``can_order``: a position per row (1, 2, 3… as saved), so a marketer can move a field by
#: renumbering; rows with equal positions, or without one (after the numbered ones), keep the
#: table's order.
FieldRows = forms.formset_factory(
    FieldRow, formset=_PositionedRows, extra=2, can_delete=True, can_order=True
)
ConsentRows = forms.formset_factory(ConsentRow, extra=1, can_delete=True)


class PageForm(forms.Form):
    headline = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=60, required=False, help_text="Its address: /p/&lt;slug&gt;. Empty: the form's."
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}), required=False, help_text="Markdown."
    )
    image_url = forms.URLField(
        required=False, assume_scheme="https", max_length=500, label="Image address",
        help_text="An https:// address of the image shown above the headline, and in link previews.",
    )
    image_alt = forms.CharField(
        max_length=300,
        required=False,
        label="Image description",
        help_text="What the image shows, read out by screen readers. Empty: the image is decoration.",
    )
    is_published = forms.BooleanField(required=False, label="Published")


def _rows(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    rows = []
    # ordered_forms: the rows kept (not removed, not left empty), by their position.
    kept = formset.ordered_forms if formset.can_order else formset.forms
    for row in (form.cleaned_data for form in kept):
        if row and not row.get("DELETE"):
            row = {k: v for k, v in row.items() if k not in ("DELETE", "ORDER")}
            if "options" in row:
                row["options"] = [o.strip() for o in row["options"].split(",") if o.strip()]
            rows.append(row)
    return rows


def get_form_for_member(membership: Membership, pk: int) -> Form:
    return get_object_or_404(
        Form.objects.select_related("workspace"), pk=pk, workspace_id=membership.workspace_id
    )


def forms_with_counts(membership: Membership, *, archived: bool = False) -> QuerySet[Form]:
    """The workspace's forms (or its archived ones) with their submission, lead and spam counts
    and their posts refused over a rate limit (one query)."""
    return (
        Form.objects.filter(workspace_id=membership.workspace_id, archived_at__isnull=not archived)
        .annotate(
            # As the Sources report counts them: submissions taken (processed), new leads
            # among them (outcome created), and the others, people already known (merged).
            received=Count("submissions", filter=Q(submissions__status=SubmissionStatus.PROCESSED)),
            leads=Count("submissions", filter=Q(submissions__status=SubmissionStatus.PROCESSED,
                                                submissions__outcome="created")),
            merged=Count("submissions", filter=Q(submissions__status=SubmissionStatus.PROCESSED,
                                                 submissions__outcome="merged")),
            spam=Count("submissions", filter=Q(submissions__status=SubmissionStatus.SPAM)),
            refused_count=Coalesce(F("refused__count"), Value(0)),
        )
        .order_by("name")
    )


@member_required(manage=True)
def form_list(request: HttpRequest) -> HttpResponse:
    """The forms in use; ``?archived=1`` lists the archived ones, to restore them."""
    archived = request.GET.get("archived") == "1"
    workspace_forms = Form.objects.filter(workspace_id=request.membership.workspace_id)
    context = {
        "forms": forms_with_counts(request.membership, archived=archived),
        "archived": archived,
        "archived_count": workspace_forms.filter(archived_at__isnull=False).count(),
        "nav": "forms",
    }
    return render(request, "capture/forms/list.html", context)


def _builder(request: HttpRequest, form: Form | None) -> HttpResponse:
    workspace_id = request.membership.workspace_id
    if form is None:
        initial: dict[str, Any] = {"double_opt_in": True, "is_published": True}
        fields, consents = DEFAULT_FIELDS, DEFAULT_CONSENTS
    else:
        initial = {
            f: getattr(form, f)
            for f in (
                "name",
                "slug",
                "thank_you_message",
                "redirect_url",
                "owner",
                "double_opt_in",
                "is_published",
                "proof_of_work",
            )
        }
        initial |= {
            "allowed_origins": "\n".join(form.allowed_origins),
            "tags": ", ".join(form.tags),
            "hidden_fields": "\n".join(f"{k}={v}" for k, v in form.hidden_fields.items()),
        }
        fields, consents = form.fields, form.consents
    data = request.POST if request.method == "POST" else None
    settings_form = FormSettings(data, initial=initial, workspace_id=workspace_id)
    field_rows = FieldRows(
        data,
        prefix="fields",
        initial=[{**f, "options": ", ".join(f.get("options", []))} for f in fields],
    )
    consent_rows = ConsentRows(data, prefix="consents", initial=consents)
    said_why = False  # a refusal shown at the top of the page already
    if data is not None and all(
        [settings_form.is_valid(), field_rows.is_valid(), consent_rows.is_valid()]
    ):
        definition = settings_form.definition() | {
            "fields": _rows(field_rows),
            "consents": _rows(consent_rows),
        }
        was_online = form is not None and form.is_published
        try:
            if form is None:
                form = do_create_form(request.membership.workspace, definition, actor=request.user)
            else:
                do_update_form(form, definition, actor=request.user)
        except FormConfigError as exc:
            said_why = _mark_all(exc.every(), request, settings_form, field_rows, consent_rows)
        else:
            messages.success(request, f"Form “{form.name}” saved.")
            for warning in _save_warnings(form, was_online):
                messages.warning(request, warning)
            return redirect("forms:edit", pk=form.pk)
    elif data is not None:
        # Some part is refused by the page's own checks (a slug, a web address, a row without
        # its key): the others are checked too, so every problem is marked in this round
        # rather than one stage per save.
        refused = set(settings_form.errors)
        partial = settings_form.definition()
        for name, rows in (("fields", field_rows), ("consents", consent_rows)):
            if rows.is_valid():
                partial[name] = _rows(rows)
            else:
                refused.add(name)
        probe = form or Form(workspace_id=workspace_id)
        problems = form_problems(probe, partial, refused)
        said_why = _mark_all(problems, request, settings_form, field_rows, consent_rows)
    if data is not None and not said_why:
        # The errors may be far below, in a row of the fields table: say so at the top.
        messages.error(request, "The form was not saved: correct what is marked below.")
    context = {
        "form_obj": form,
        "settings_form": settings_form,
        "field_rows": field_rows,
        "consent_rows": consent_rows,
        "nav": "forms",
        **(_snippets(request, form) if form and form.pk else {}),
    }
    return render(
        request, "capture/forms/edit.html", context, status=400 if data is not None else 200
    )


def _save_warnings(form: Form, was_online: bool) -> list[str]:
    """What a saved form's settings do that its marketer may not expect: tracked links that an
    unpublished form leaves leading nowhere, and a redirect that hides double opt-in's email."""
    warnings = []
    if was_online and not form.is_published:
        codes = list(
            TrackedLink.objects.filter(page__form=form, archived_at__isnull=True)
            .order_by("code").values_list("code", flat=True)
        )
        if codes:
            warnings.append(
                "The form is unpublished, so these tracked links now answer “not found” and count "
                f"no clicks: {', '.join(f'/r/{code}' for code in codes)}. Publish it again to "
                "bring them back."
            )
    if form.double_opt_in and form.redirect_url:
        warnings.append(
            f"Visitors go straight to {form.redirect_url} after sending, so Leadbase cannot tell "
            "them to confirm by email: say it on that page (it is opened with ?lb_confirm=email "
            "when an email was sent)."
        )
    return warnings


#: The row input a definition error is about: (the row's input, the input the error's value is in).
_ROW_INPUT = {
    "invalid_key": ("key", "key"),
    "reserved_key": ("key", "key"),
    "duplicate_key": ("key", "key"),
    "invalid_type": ("type", "type"),
    "no_options": ("options", "key"),
    "invalid_purpose": ("purpose", "purpose"),
    "duplicate_purpose": ("purpose", "purpose"),
}


def _mark_all(
    problems: list[FormConfigError], request: HttpRequest, settings_form: forms.Form,
    field_rows: forms.BaseFormSet, consent_rows: forms.BaseFormSet,
) -> bool:
    """Put each problem on its input: a row's on the row, the others on the settings; one that
    no input shows goes at the top of the page. True when one went there."""
    at_top = False
    for exc in problems:
        if exc.field in ("fields", "consents"):
            if not _mark_row(field_rows if exc.field == "fields" else consent_rows, exc):
                messages.error(request, exc.message)
                at_top = True
        else:
            settings_form.add_error(exc.field if exc.field in settings_form.fields else None, exc.message)
    return at_top


def _mark_row(rows: forms.BaseFormSet, exc: FormConfigError) -> bool:
    """Put ``exc`` on the input of the row it is about (the last such row: of two rows with one
    key, the second is the one to change); False when no row is."""
    where = _ROW_INPUT.get(exc.code)
    if where is None or exc.key is None:
        return False
    marked, matched = where
    wanted = str(exc.key).strip().lower()
    for row in reversed(rows.forms):
        data = getattr(row, "cleaned_data", None) or {}
        if not data.get("DELETE") and str(data.get(matched) or "").strip().lower() == wanted:
            row.add_error(marked, exc.message)
            return True
    return False


def _snippets(request: HttpRequest, form: Form) -> dict[str, Any]:
    """The script tag to embed, and a plain HTML form for sites that cannot run the script.

    The plain form carries no fill-time token and no proof of work (see leadbase.capture.spam),
    so a proof-of-work form gets none: every post of one would be spam (``pow_missing``), and
    the page warns instead. It has hidden inputs for the page and its UTM tags, which a small
    inline script fills as it posts: a browser's Referer to another site is only the origin.
    """
    base = settings.BASE_URL
    plain = ""
    if not form.proof_of_work:
        plain = render_to_string(
            "capture/forms/_plain_form.html",
            {
                "action": base + reverse("capture:submit", args=[form.slug]),
                "form": form,
                "context_keys": ("lb_page", "lb_referrer", *UTM_KEYS),
            },
        ).strip()
    script = base + reverse("capture:embed", args=[form.slug])
    return {
        "embed_snippet": f'<script src="{script}"></script>',
        "html_snippet": plain,
        "page": form.pages.order_by("pk").first(),
    }


@member_required(manage=True)
def form_new(request: HttpRequest) -> HttpResponse:
    return _builder(request, None)


@member_required(manage=True)
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _builder(request, get_form_for_member(request.membership, pk))


@member_required(manage=True)
def form_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing the form will do; POST: archive it (it has submissions) or delete it."""
    form = get_form_for_member(request.membership, pk)
    if form.archived_at is not None:
        messages.info(request, f"Form “{form.name}” is already archived.")
        return redirect(f"{reverse('forms:list')}?archived=1")
    if request.method == "POST":
        try:
            done = do_remove_form(form, actor=request.user)
        except FormConfigError as exc:  # archived by someone else meanwhile
            messages.error(request, exc.message)
            return redirect("forms:list")
        if done == Removal.ARCHIVED:
            messages.success(
                request,
                f"Form “{form.name}” archived: it is unpublished and its submissions are kept. "
                "Restore it from the archived forms.",
            )
        else:
            messages.success(request, f"Form “{form.name}” deleted.")
        return redirect("forms:list")
    return render(request, "web/confirm_remove.html", _removal_context(form))


def _removal_context(form: Form) -> dict[str, Any]:
    archive = form_has_history(form)
    pages = list(form.pages.values_list("slug", flat=True))
    links = list(
        TrackedLink.objects.filter(page__form=form).values_list("code", flat=True).order_by("code")
    )
    if archive:
        lead = (
            "This form has submissions, so it will be archived, not deleted: its journal and "
            "the leads it made are kept."
        )
        details = [
            f"/f/{form.slug} and its landing page stop taking submissions, as when unpublished.",
            "It leaves the forms list; “Archived forms” lists it, and you can restore it.",
            f"The address /f/{form.slug} stays reserved for it.",
        ]
        if links:
            codes = ", ".join(f"/r/{code}" for code in links)
            details.append(
                f"These tracked links will answer “not found” and count no clicks until the form "
                f"is restored and published again: {codes}."
            )
    else:
        lead = "This form has no submissions, so it will be deleted for good."
        details = [f"Its landing page /p/{slug} is deleted with it." for slug in pages]
        if links:
            codes = ", ".join(f"/r/{code}" for code in links)
            details.append(f"These tracked links will lead nowhere: {codes}.")
    return {
        "title": f"Remove the form “{form.name}”?",
        "crumb_url": reverse("forms:edit", args=[form.pk]),
        "crumb_label": form.name,
        "lead": lead,
        "details": details,
        "archive": archive,
        "button": "Archive the form" if archive else "Delete the form",
        "action_url": reverse("forms:remove", args=[form.pk]),
        "cancel_url": reverse("forms:edit", args=[form.pk]),
        "nav": "forms",
    }


@require_POST
@member_required(manage=True)
def form_restore(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_form_for_member(request.membership, pk)
    try:
        do_restore_form(form, actor=request.user)
    except FormConfigError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Form “{form.name}” restored. It is unpublished: publish it when it is ready."
        )
    return redirect("forms:edit", pk=form.pk)


@member_required(manage=True)
def page_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The form's landing page /p/<slug>: headline, Markdown body (previewed), image."""
    form = get_form_for_member(request.membership, pk)
    page = form.pages.order_by("pk").first()
    initial = (
        {
            "headline": page.headline,
            "slug": page.slug,
            "body": page.body,
            "image_url": page.image_url,
            "image_alt": page.image_alt,
            "is_published": page.is_published,
        }
        if page
        else {"headline": form.name, "is_published": True}
    )
    page_form = PageForm(request.POST or None, initial=initial)
    if request.method == "POST" and page_form.is_valid():
        try:
            page = do_save_landing_page(form, page_form.cleaned_data, actor=request.user)
        except FormConfigError as exc:
            page_form.add_error(exc.field if exc.field in page_form.fields else None, exc.message)
        else:
            messages.success(request, f"Landing page /p/{page.slug} saved.")
            return redirect("forms:page", pk=form.pk)
    body = page_form["body"].value() or ""
    context = {
        "form_obj": form,
        "page": page,
        "page_form": page_form,
        "preview": render_markdown(body),
        "nav": "forms",
    }
    return render(
        request, "capture/forms/page.html", context, status=400 if request.method == "POST" else 200
    )


@member_required(manage=True)
def page_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The saved landing page as visitors will see it, published or not: a marketer checks it
    before it goes live. Its form cannot be sent from here."""
    form = get_form_for_member(request.membership, pk)
    page = form.pages.select_related("form__workspace").order_by("pk").first()
    if page is None:
        raise Http404("This form has no landing page yet.")
    return public.page_preview(request, page.form, page)


@member_required(manage=True)
def submissions(request: HttpRequest, pk: int) -> HttpResponse:
    """The journal of one form, newest first: status, spam reason, error and the lead made.

    Filter by status; keyset pagination (``?before=<id>``) keeps every page one indexed query.
    POST ``replay=<id>``: process that failed row again (as ``leadbase replay --id``), so the
    marketer who sees it fail needs no shell on the server.
    """
    form = get_form_for_member(request.membership, pk)
    if request.method == "POST":
        return _replay(request, form)
    status = request.GET.get("status", "")
    rows = Submission.objects.filter(form=form).select_related("lead").order_by("-id")
    if status in SubmissionStatus.values:
        rows = rows.filter(status=status)
    before = request.GET.get("before", "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if before.isdecimal():
        rows = rows.filter(id__lt=int(before))
    page = list(rows[: PAGE_SIZE + 1])
    counts = dict(
        Submission.objects.filter(form=form)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    context = {
        "form_obj": form,
        "rows": page[:PAGE_SIZE],
        "next_before": page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
        "before": before.isdecimal(),  # an older page: it links back to the newest
        "status": status,
        "statuses": [(v, label, counts.get(v, 0)) for v, label in SubmissionStatus.choices],
        "total": sum(counts.values()),
        "spam_count": counts.get(SubmissionStatus.SPAM, 0),
        "refused": RefusedPosts.objects.filter(form=form).first(),
        "nav": "forms",
    }
    if wants_partial(request):
        return render(request, "capture/forms/_submissions.html", context)
    return render(request, "capture/forms/submissions.html", context)


REPLAYED = {
    SubmissionStatus.PROCESSED: "Submission #{pk} replayed: lead {outcome}.",
    SubmissionStatus.REJECTED: "Submission #{pk} replayed and rejected: {message}",
    SubmissionStatus.FAILED: "Submission #{pk} failed again; its new error is in the journal.",
}


def _replay(request: HttpRequest, form: Form) -> HttpResponse:
    """Replay one failed row of the form, say how it went, and go back to the journal."""
    row_id = request.POST.get("replay", "")
    row = get_object_or_404(Submission, pk=int(row_id) if row_id.isdecimal() else 0, form=form)
    result = do_replay_submission(row)
    done = REPLAYED.get(result.status)
    if done is None:  # another replay took it first, or it was not failed
        messages.info(request, f"Submission #{row.pk} is no longer failed; nothing to replay.")
    else:
        level = messages.success if result.status == SubmissionStatus.PROCESSED else messages.error
        level(request, done.format(pk=row.pk, outcome=result.outcome, message=result.message))
    status = request.POST.get("status", "")  # the filter the journal was showing
    query = f"?status={status}" if status in SubmissionStatus.values else ""
    return redirect(reverse("forms:submissions", args=[form.pk]) + query)
