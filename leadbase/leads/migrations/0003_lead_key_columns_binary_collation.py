"""PostgreSQL only: byte-order collation on the search and identity key columns.

Search uses prefix ranges (``key >= 'ab' AND key < 'ab\\uffff'``) on these indexed columns; that
is only a prefix match under a byte-order collation. A database created with a language
collation (``en_US.UTF-8``) would otherwise miss rows. SQLite compares bytes already.
"""

from django.db import migrations

COLUMNS = {"name_key": 200, "family_key": 100, "email_key": 320, "phone_e164": 20}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS.items():
        schema_editor.execute(
            f'ALTER TABLE "leads_lead" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "C"'
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS.items():
        schema_editor.execute(
            f'ALTER TABLE "leads_lead" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_lead_add_created_index")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
