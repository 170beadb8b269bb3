"""leadbase token create --user EMAIL --workspace SLUG [--scope read|write] [--name NAME]"""

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.actions import do_create_api_token
from leadbase.accounts.errors import AccountError
from leadbase.accounts.models import TokenScope, User
from leadbase.accounts.queries import get_only_workspace


class Command(BaseCommand):
    help = "Manage API tokens. `token create` prints a new token once; only its hash is stored."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it")
        create.add_argument("--user", required=True, help="email of the member the token acts as")
        create.add_argument("--workspace", help="workspace slug (default: the only one)")
        create.add_argument("--scope", default=TokenScope.WRITE, choices=TokenScope.values)
        create.add_argument("--name", default="", help="a label to recognise the token by")

    def handle(self, *args, **options):
        try:
            workspace = get_only_workspace(options["workspace"])
            user = User.objects.filter(email=options["user"].strip().lower()).first()
            if user is None:
                raise CommandError(f"There is no user {options['user']}.")
            _, secret = do_create_api_token(user, workspace, scope=options["scope"], name=options["name"])
        except AccountError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(secret)
