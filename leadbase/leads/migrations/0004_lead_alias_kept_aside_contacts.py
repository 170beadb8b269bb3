"""LeadAlias: the other email keys and phones a lead answers to, for identity matching.

Backfill: every email a merge set aside in a lead's ``alternates`` becomes an email alias (its key
is the address lowercased, as the cleaning rules define it). Phones set aside were stored as
typed, without the region needed to read them as E.164, so they are not backfilled; merges from
now on record them. Batched by id, re-runnable (existing aliases are skipped).
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def backfill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    LeadAlias = apps.get_model("leads", "LeadAlias")
    last = 0
    while True:
        leads = list(
            Lead.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "workspace_id", "email_key", "alternates")[:BATCH]
        )
        if not leads:
            return
        last = leads[-1][0]
        aliases = [
            LeadAlias(workspace_id=workspace_id, lead_id=pk, kind="email", key=address.lower())
            for pk, workspace_id, email_key, alternates in leads
            for address in (alternates or {}).get("email", [])
            if isinstance(address, str) and "@" in address and address.lower() != email_key
        ]
        LeadAlias.objects.bulk_create(aliases, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial_users_workspaces"),
        ("leads", "0003_lead_key_columns_binary_collation"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=8)),
                ("key", models.CharField(max_length=320)),
                (
                    "lead",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="leads.lead"
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("workspace", "kind", "key", "lead"), name="lead_alias_unique")
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
