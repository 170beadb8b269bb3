"""Users, workspaces, memberships with roles, and API tokens.

A user signs in with an email address. Every lead, form and campaign belongs to exactly one
workspace; what a user may see and do there is decided by the role of their membership.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        email = self.normalize_email(email).lower()
        user = self.model(email=email, username=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. ``email`` is the login; ``username`` mirrors it for Django."""

    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def label(self) -> str:
        return self.get_full_name() or self.email


class Workspace(models.Model):
    """One business. An agency runs several; nothing is shared between them."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    default_region = models.CharField(
        max_length=2, blank=True, help_text="Region for phone numbers written without +; blank: LEADBASE_DEFAULT_REGION."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MARKETER = "marketer", "Marketer"
    SALES = "sales", "Sales"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one workspace.

    owner: everything, including members; marketer: all leads, imports, forms, campaigns;
    sales: only the leads assigned to them, and the call queue; viewer: read-only.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"

    @property
    def sees_all_leads(self) -> bool:
        return self.role != Role.SALES

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER, Role.MARKETER, Role.SALES)

    @property
    def can_manage(self) -> bool:
        """Imports, exports, merges of any lead, forms and campaigns."""
        return self.role in (Role.OWNER, Role.MARKETER)


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 of the secret is stored."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, shown to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.workspace})"
