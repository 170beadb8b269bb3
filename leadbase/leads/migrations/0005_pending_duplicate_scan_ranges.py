"""PendingScan: one row per workspace while a possible-duplicate scan is queued, with the id range
of the new leads it will scan (coalesces the scans of a burst of single creates)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial_users_workspaces'),
        ('leads', '0004_lead_alias_kept_aside_contacts'),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingScan',
            fields=[
                ('workspace', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='accounts.workspace')),
                ('first_id', models.BigIntegerField()),
                ('last_id', models.BigIntegerField()),
                ('queued_at', models.DateTimeField(help_text='When its task was queued.')),
            ],
        ),
    ]
