"""leadbase createuser EMAIL [--workspace SLUG] [--role R] [--password P]"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.errors import AccountError
from leadbase.accounts.models import Role


class Command(BaseCommand):
    help = (
        "Create a user with a role in a workspace (created when it does not exist). The password "
        "comes from --password, else $LEADBASE_PASSWORD, else a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--workspace", default="default", help="workspace slug (default: default)")
        parser.add_argument("--role", default=Role.OWNER, choices=Role.values, help="role (default: owner)")
        parser.add_argument("--password", help="the password (else $LEADBASE_PASSWORD or a prompt)")
        parser.add_argument("--name", default="", help="the person's full name")

    def handle(self, *args, **options):
        password = options["password"] or os.environ.get("LEADBASE_PASSWORD")
        if not password:
            if not os.isatty(0):
                raise CommandError("No password: use --password or LEADBASE_PASSWORD.")
            password = getpass.getpass("Password: ")
        try:
            user = do_create_user(
                options["email"], password, workspace_slug=options["workspace"], role=options["role"],
                name=options["name"],
            )
        except AccountError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{user.email} is {options['role']} of workspace “{options['workspace']}”.")
