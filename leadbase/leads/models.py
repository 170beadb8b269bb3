"""Leads, their timeline (touches), consents, suppressions, possible duplicates and imports.

A lead always has a plausible name and at least one valid contact channel: ``email_key`` (the
lowercased address) or ``phone_e164``. The raw values as entered are kept next to the
normalized ones; a bad value for the *other* channel is kept in ``email``/``phone`` with its
problem in ``problems`` so a person can correct it. Every change to a lead is a Touch.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadbase.accounts.models import Workspace


class Stage(models.TextChoices):
    NEW = "new", "New"
    NURTURING = "nurturing", "Nurturing"
    SALES_READY = "sales_ready", "Sales-ready"
    ACCEPTED = "accepted", "Accepted"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    DISQUALIFIED = "disqualified", "Disqualified"


class Source(models.TextChoices):
    IMPORT = "import", "Import"
    FORM = "form", "Form"
    API = "api", "API"
    EVENT = "event", "Event"
    MANUAL = "manual", "Manual"


class Lead(models.Model):
    """A reachable person in one workspace."""

    # db_index=False on foreign keys that lead a composite index already (see Meta.indexes).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="leads", db_index=False)
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, help_text="Casefolded, accent-free name for search and sort.")
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    family_key = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=320, blank=True, help_text="As entered (cleaned when valid).")
    email_key = models.CharField(max_length=320, null=True, blank=True, help_text="Lowercased valid address.")
    phone = models.CharField(max_length=64, blank=True, help_text="As entered.")
    phone_e164 = models.CharField(max_length=20, null=True, blank=True)
    phone_ext = models.CharField(max_length=20, blank=True)
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    custom = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(
        default=dict, blank=True, help_text="Field -> message for a value kept for correction."
    )
    alternates = models.JSONField(
        default=dict, blank=True, help_text="Field -> other values seen for this person (merges, imports)."
    )
    # First touch: where the lead came from. Last touch lives in last_touch (same keys + at).
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    source_ref = models.CharField(max_length=200, blank=True, help_text="Form slug, file name, event…")
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    disqualified_reason = models.CharField(max_length=200, blank=True)
    score = models.IntegerField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,
    )
    created_at = models.DateTimeField(db_index=False)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            # Keyset pagination: newest first, per workspace, optionally filtered.
            models.Index(fields=["workspace", "-id"], name="lead_ws_id"),
            models.Index(fields=["workspace", "stage", "-id"], name="lead_ws_stage_id"),
            models.Index(fields=["workspace", "source", "-id"], name="lead_ws_source_id"),
            models.Index(fields=["workspace", "owner", "-id"], name="lead_ws_owner_id"),
            models.Index(fields=["workspace", "name_key", "id"], name="lead_ws_name"),
            models.Index(fields=["workspace", "family_key", "id"], name="lead_ws_family"),
            models.Index(fields=["workspace", "-score", "-id"], name="lead_ws_score"),
            # "New this week" and period reports; appended in order, so cheap to maintain.
            models.Index(fields=["workspace", "created_at"], name="lead_ws_created"),
            # Identity lookups (not unique: a shared role mailbox may hold two people).
            models.Index(fields=["workspace", "email_key"], name="lead_ws_email"),
            models.Index(fields=["workspace", "phone_e164"], name="lead_ws_phone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(email_key__isnull=False) | Q(phone_e164__isnull=False), name="lead_has_contact"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def email_domain(self) -> str:
        return self.email_key.rpartition("@")[2] if self.email_key else ""


class LeadAlias(models.Model):
    """Another email key or E.164 phone of a lead, for identity matching.

    A merge keeps the lead's own contact and sets a conflicting one aside (``alternates``); the
    person still answers to it, so it is recorded here and a later form post, API call or import
    with it finds the same lead instead of making a second record of the person.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="aliases")
    kind = models.CharField(max_length=8)  # email | phone (SuppressionKind values)
    key = models.CharField(max_length=320)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "key", "lead"], name="lead_alias_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} alias of lead {self.lead_id}"


class TouchKind(models.TextChoices):
    CREATED = "created", "Created"
    IMPORTED = "imported", "Imported"
    UPDATED = "updated", "Updated"
    MERGED = "merged", "Merged"
    CONFLICT = "conflict", "Conflicting value kept aside"
    FORM_SUBMITTED = "form_submitted", "Form submitted"
    CONSENT = "consent", "Consent changed"
    STAGE_CHANGED = "stage_changed", "Stage changed"
    OWNER_CHANGED = "owner_changed", "Owner changed"
    NOTE = "note", "Note"
    DUPLICATE_DISMISSED = "duplicate_dismissed", "Possible duplicate dismissed"


class Touch(models.Model):
    """One thing that happened to or with a lead, with who did it. The timeline is their list."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches", db_index=False)
    kind = models.CharField(max_length=32, choices=TouchKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, help_text="“import #3”, “form contact”, “API”…")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["lead", "-at"], name="touch_lead_at")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Purpose(models.TextChoices):
    EMAIL_MARKETING = "email_marketing", "Email marketing"
    CALLS = "calls", "Sales calls"
    EVENTS = "events", "Event invitations"


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", "Granted"
    PENDING = "pending", "Pending confirmation"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Consent(models.Model):
    """A lead's answer for one purpose, with its proof: when, how, the text shown, the IP."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    at = models.DateTimeField()
    method = models.CharField(max_length=32, help_text="form, import, api, manual, unsubscribe…")
    text = models.TextField(blank=True, help_text="The exact wording the person agreed to.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    source_ref = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "purpose"], name="consent_unique_lead_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.status}"


class SuppressionKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    DO_NOT_CALL = "do_not_call", "Do not call"
    ERASED = "erased", "Erased on request"


class Suppression(models.Model):
    """A contact that must never be contacted, stored as a SHA-256 of its normalized form.

    Hashing means an erased person's address is not kept, yet a later import of it is refused.
    ``erased`` blocks creating a lead at all; the other reasons block contact on that channel.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="suppressions")
    kind = models.CharField(max_length=8, choices=SuppressionKind.choices)
    value_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "value_hash"], name="suppression_unique_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value_hash[:8]}… ({self.reason})"


class PendingScan(models.Model):
    """The ids of new leads waiting for the possible-duplicate scan of one workspace.

    Coalesces the scans of many single creates (a burst of form posts): the first new lead
    queues one task and records its id range here; the next ones only widen the range, until the
    task takes it (``leads.tasks.scan_possible_duplicates``).
    """

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    queued_at = models.DateTimeField(help_text="When its task was queued.")

    def __str__(self) -> str:
        return f"leads {self.first_id}–{self.last_id} to scan"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "To review"
    DISMISSED = "dismissed", "Not the same person"


class PossibleDuplicate(models.Model):
    """Two leads that may be one person; a person merges or dismisses them. Never auto-merged.

    Stored once per pair with ``lead_a_id < lead_b_id``; deleted when either lead is merged away.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    lead_a = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    lead_b = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=32, help_text="similar_name_company, similar_name_domain, shared_mailbox")
    score = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead_a", "lead_b"], name="duplicate_unique_pair"),
            models.CheckConstraint(condition=Q(lead_a__lt=models.F("lead_b")), name="duplicate_ordered_pair"),
        ]
        indexes = [models.Index(fields=["workspace", "status"], name="duplicate_ws_status")]


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One CSV import: the stored file, the column mapping, progress and the outcome counts.

    The per-row report is written to ``report_path`` (CSV: row,outcome,lead_id,code,message).
    The uploaded file is deleted when the import ends; the report ``IMPORT_FILES_DAYS`` later.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=1000)
    size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=list)
    region = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    estimated_rows = models.IntegerField(default=0, help_text="From the file size and the preview rows.")
    rows = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    warnings = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    report_path = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    files_deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When its report (or its upload, never imported) was deleted as too old."
    )

    def __str__(self) -> str:
        return f"import #{self.pk} {self.filename}"

    @property
    def progress(self) -> int:
        """Percent of the file processed, from the rows done and the estimate made at upload."""
        if self.status == ImportStatus.DONE:
            return 100
        if not self.estimated_rows:
            return 0
        return min(99, self.rows * 100 // self.estimated_rows)
