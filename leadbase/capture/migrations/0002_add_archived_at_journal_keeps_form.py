"""Removal of forms, tracked links and channels: ``archived_at`` on each (removed while they
have history), and the journal's ``form`` becomes RESTRICT so deleting a form can never delete
its submissions by cascade. No data changes; the on_delete change is enforced by Django."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0001_initial_forms_pages_journal_channels"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="archived_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="form",
            name="archived_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Removed with submissions: unpublished, journal kept.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="trackedlink",
            name="archived_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="submission",
            name="form",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="submissions",
                to="capture.form",
            ),
        ),
    ]
