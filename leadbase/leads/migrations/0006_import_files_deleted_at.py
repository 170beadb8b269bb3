"""ImportJob.files_deleted_at: when an import's report (or its upload, never imported) was deleted as
too old (``LEADBASE_IMPORT_FILES_DAYS``)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0005_pending_duplicate_scan_ranges'),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='files_deleted_at',
            field=models.DateTimeField(blank=True, help_text='When its report (or its upload, never imported) was deleted as too old.', null=True),
        ),
    ]
