"""leadbase token create --user EMAIL [--workspace SLUG] [--scope read|write] [--name NAME]
leadbase token list [--workspace SLUG]
leadbase token revoke TOKEN   (its prefix as `token list` shows it, its id, or the whole token)
"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.actions import do_create_api_token, do_revoke_api_token, hash_token
from leadbase.accounts.errors import AccountError
from leadbase.accounts.models import ApiToken, TokenScope, User
from leadbase.accounts.queries import get_only_workspace

COLUMNS = ("id", "prefix", "name", "workspace", "user", "scope", "created", "last used", "revoked")


class Command(BaseCommand):
    help = (
        "Manage API tokens. `token create` prints a new token once (only its hash is stored); "
        "`token list` shows every token by its prefix; `token revoke` turns one off for good."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it")
        create.add_argument("--user", required=True, help="email of the member the token acts as")
        create.add_argument("--workspace", help="workspace slug (default: the only one)")
        create.add_argument("--scope", default=TokenScope.WRITE, choices=TokenScope.values)
        create.add_argument("--name", default="", help="a label to recognise the token by")
        listing = sub.add_parser("list", help="list tokens, revoked ones included")
        listing.add_argument("--workspace", help="only this workspace's tokens (default: all)")
        revoke = sub.add_parser("revoke", help="revoke a token: it gets 401 from then on")
        revoke.add_argument("token", help="the token's prefix (see `token list`), its id, or the token")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except AccountError as exc:
            raise CommandError(exc.message) from None

    def _create(self, options):
        workspace = get_only_workspace(options["workspace"])
        user = User.objects.filter(email=options["user"].strip().lower()).first()
        if user is None:
            raise CommandError(f"There is no user {options['user']}.")
        _, secret = do_create_api_token(user, workspace, scope=options["scope"], name=options["name"])
        self.stdout.write(secret)

    def _list(self, options):
        tokens = ApiToken.objects.select_related("workspace", "user").order_by("workspace__slug", "created_at", "id")
        if options["workspace"]:
            tokens = tokens.filter(workspace=get_only_workspace(options["workspace"]))
        rows = [
            (
                str(t.pk), t.prefix, t.name or "-", t.workspace.slug, t.user.email, t.scope,
                _when(t.created_at), _when(t.last_used_at, "never"), _when(t.revoked_at, "-"),
            )
            for t in tokens
        ]
        if not rows:
            self.stdout.write("No API tokens.")
            return
        widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
        for row in [COLUMNS, *rows]:
            self.stdout.write("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())

    def _revoke(self, options):
        token = _find(options["token"].strip())
        label = f"{token.prefix}…" + (f" ({token.name})" if token.name else "")
        if do_revoke_api_token(token):
            self.stdout.write(f"Revoked token {label} of workspace “{token.workspace.slug}”.")
        else:
            self.stdout.write(f"Token {label} was already revoked on {_when(token.revoked_at)}; nothing changed.")


def _find(given: str) -> ApiToken:
    """The one token ``given`` names: an id, a whole token, or a prefix as ``token list`` shows it.

    Prefixes are the token's first 10 characters, random after ``lb_``: two tokens rarely share
    one, and when they do the id tells them apart.
    """
    tokens = ApiToken.objects.select_related("workspace").order_by("pk")
    if given.isascii() and given.isdigit():
        found = list(tokens.filter(pk=int(given)))
    else:
        found = list(tokens.filter(digest=hash_token(given))) or list(tokens.filter(prefix=given)[:10])
    if not found:
        raise CommandError(f"There is no API token “{given}”; `leadbase token list` shows them.")
    if len(found) > 1:
        ids = ", ".join(str(t.pk) for t in found)
        raise CommandError(f"Several tokens have the prefix “{given}” (ids {ids}): revoke one by its id.")
    return found[0]


def _when(moment: datetime | None, missing: str = "") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else missing
