"""The consent texts a failed post was shown, on its journal row, so that its replay records what
the visitor agreed to rather than the form's text at the time of the replay. No data changes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0002_add_archived_at_journal_keeps_form"),
    ]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="consent_texts",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Of a post that failed: {purpose: text} of the consent boxes as the form showed them "
                "when it came in, which its replay records as what the visitor agreed to.",
            ),
        ),
    ]
