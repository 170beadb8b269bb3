"""Capture on the business's own platform: forms, landing pages, the submissions journal,
social channels with follower history, tracked links and their clicks.

Public routes have no workspace in the URL, so form, page and link slugs/codes are globally
unique. The journal row of a submission is written in the same transaction as its lead; a
failure keeps the row with its error so `leadbase replay` can reprocess it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leadbase.accounts.models import Workspace


class Removal(models.TextChoices):
    """What removing a form, link or channel did: it was deleted (nothing referred to it), or
    archived (hidden and kept, because its history must not be lost)."""

    DELETED = "deleted", "Deleted"
    ARCHIVED = "archived", "Archived"


class Form(models.Model):
    """A lead form: its fields, consent checkboxes, anti-spam and what happens on submit.

    ``fields``: list of {"key", "label", "type": text|email|phone|textarea|select|checkbox,
    "required": bool, "options": [..] for select}. ``name``/``email``/``phone`` (or
    ``first_name`` + ``last_name``) are the lead's contact fields; other keys become custom fields.
    ``consents``: list of {"purpose", "text", "required"} — the exact text shown is the proof.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="forms")
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    fields = models.JSONField(default=list)
    consents = models.JSONField(default=list)
    double_opt_in = models.BooleanField(default=True)
    thank_you_message = models.TextField(default="Thank you! We will be in touch.")
    redirect_url = models.URLField(blank=True)
    allowed_origins = models.JSONField(default=list, blank=True, help_text="Origins allowed to embed and post.")
    hidden_fields = models.JSONField(default=dict, blank=True, help_text="Values stored with every submission.")
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_published = models.BooleanField(default=True)
    proof_of_work = models.BooleanField(default=False)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Removed with submissions: unpublished, journal kept."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class LandingPage(models.Model):
    """A hosted page `/p/<slug>` with a headline, a Markdown body, an image and a form."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="landing_pages")
    slug = models.SlugField(max_length=60, unique=True)
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="pages")
    headline = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown; rendered and sanitized.")
    image_url = models.CharField(max_length=500, blank=True)
    image_alt = models.CharField(
        max_length=300, blank=True,
        help_text="What the image shows, for screen readers; empty: decorative, not read out.",
    )
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.headline


class SubmissionStatus(models.TextChoices):
    RECEIVED = "received", "Processing"  # written, its lead not made yet (a moment, or a crash)
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    SPAM = "spam", "Spam"
    REJECTED = "rejected", "Rejected"


class Submission(models.Model):
    """The journal: every public submission, raw, with its outcome. Never edited by hand.

    ``form`` is RESTRICT: deleting a form can never take its journal rows with it (a form with
    submissions is archived instead); deleting the whole workspace still removes them.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    form = models.ForeignKey(Form, on_delete=models.RESTRICT, related_name="submissions", db_index=False)
    received_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    link_code = models.CharField(max_length=32, blank=True, help_text="Tracked link that brought the visitor.")
    status = models.CharField(max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.RECEIVED)
    spam_reason = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, blank=True, help_text="created or merged")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attempts = models.PositiveSmallIntegerField(default=1)
    consent_texts = models.JSONField(
        default=dict, blank=True,
        help_text="Of a post that failed: {purpose: text} of the consent boxes as the form showed them when "
                  "it came in, which its replay records as what the visitor agreed to.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["form", "status", "received_at"], name="submission_form_status"),
            models.Index(fields=["workspace", "received_at"], name="submission_ws_received"),
            models.Index(fields=["status"], name="submission_status", condition=models.Q(status="failed")),
        ]

    def __str__(self) -> str:
        return f"submission #{self.pk} to {self.form_id} ({self.status})"


class RateBucket(models.Model):
    """A fixed-window counter shared by every process (rate limits hold across web workers)."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)


class RefusedPosts(models.Model):
    """How many posts to a form were refused over a rate limit (per address or per form), and
    when the last was. Such a post is not journaled (a flood must not fill the journal), so this
    is the only trace the form keeps of them; its own row, so counting never rewrites the form's."""

    form = models.OneToOneField(Form, on_delete=models.CASCADE, primary_key=True, related_name="refused")
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField()


class Platform(models.TextChoices):
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    X = "x", "X"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"
    TIKTOK = "tiktok", "TikTok"
    OTHER = "other", "Other"


class Channel(models.Model):
    """A social account the business promotes on: rented audience, never leads.

    ``archived_at``: removed while it had follower counts or links; hidden from lists and the
    Owned vs rented report, its history kept (past Sources figures still add up).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    handle = models.CharField(max_length=100)
    url = models.URLField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "platform", "handle"], name="channel_unique_handle")
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} @{self.handle}"


class FollowerSnapshot(models.Model):
    """Follower count of a channel on a day (typed in or imported from CSV)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    followers = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "date"], name="snapshot_unique_day")]
        ordering = ["date"]


class TrackedLink(models.Model):
    """A short link `/r/<code>` posted on a channel; redirects to a landing page with UTM tags.

    ``archived_at``: removed after it had clicks or brought submissions; hidden from the lists,
    but ``/r/<code>`` keeps redirecting and counting (the post that carries it is still online).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tracked_links")
    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=200, blank=True)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="links")
    page = models.ForeignKey(LandingPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="links")
    target_url = models.URLField(blank=True, help_text="Used when no landing page is set.")
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"/r/{self.code}"


class LinkClick(models.Model):
    """One human click on a tracked link (bots and link-preview fetchers are not recorded)."""

    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="clicks", db_index=False)
    at = models.DateTimeField()
    referrer = models.CharField(max_length=2000, blank=True)

    class Meta:
        indexes = [models.Index(fields=["link", "at"], name="click_link_at")]
