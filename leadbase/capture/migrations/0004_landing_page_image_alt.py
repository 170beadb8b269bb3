"""A landing page's image gets a description for screen readers (empty, as every existing page's
image now: decorative, shown with ``alt=""`` as before). No data changes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0003_submission_consent_texts"),
    ]

    operations = [
        migrations.AddField(
            model_name="landingpage",
            name="image_alt",
            field=models.CharField(
                blank=True,
                help_text="What the image shows, for screen readers; empty: decorative, not read out.",
                max_length=300,
            ),
        ),
    ]
