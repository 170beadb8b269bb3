"""The ``leadbase`` command: Leadbase's own subcommands, then any Django management command.

``leadbase`` alone (or ``--help``) lists Leadbase's commands; ``leadbase CMD --help`` shows one.
Operators' Django commands (``migrate``, ``shell``, ``dbshell``…) remain reachable by name.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "serve": "migrate, then run the web server and the background worker",
    "worker": "run background tasks only (for scale-out)",
    "createuser": "create a user (and the workspace when it does not exist)",
    "token": "API tokens: token create --user EMAIL --workspace SLUG, token list, token revoke TOKEN",
    "import": "import leads from a CSV file",
    "export": "export leads as CSV or JSONL",
    "demo": "load the realistic demo workspace `demo`",
    "replay": "reprocess failed form submissions from the journal",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbase.settings")
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: leadbase COMMAND [options]   (leadbase COMMAND --help for one command)\n")
        for name, text in COMMANDS.items():
            print(f"  {name:<11} {text}")
        print("\nAny Django management command (migrate, shell, dbshell, …) also works.")
        return
    if argv[0] == "--version" or (argv[0] in COMMANDS and "--version" in argv):
        print(version())  # Django's own --version printed Django's version as Leadbase's
        return
    from django.core.management import execute_from_command_line

    from leadbase.settings_errors import stop_on_setting_error

    with stop_on_setting_error():
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 (reads leadbase.settings: a bad variable stops here)
        if argv[0] in COMMANDS and "--help" not in argv and "-h" not in argv:
            _migrate_if_needed()
    execute_from_command_line(["leadbase", *argv])


def version() -> str:
    """``leadbase 0.1.0 (Django 5.2.19, Python 3.11.7)``."""
    import platform
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    import django

    try:
        own = installed("leadbase")
    except PackageNotFoundError:  # run from a checkout that is not installed
        own = "(not installed)"
    return f"leadbase {own} (Django {django.get_version()}, Python {platform.python_version()})"


def _migrate_if_needed() -> None:
    """Apply pending migrations first, so every command works on a fresh data dir; restore any
    index a killed bulk import left missing."""
    import django
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    django.setup()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    from leadbase.leads.bulkload import ensure_lead_indexes

    ensure_lead_indexes()  # an import killed in bulk-load mode leaves indexes to rebuild


if __name__ == "__main__":
    main()
