import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0006_job_note")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="init_from",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="jobs.job",
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="init_from_step",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="init_from_share",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="job",
            name="init_from_label",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="job",
            name="imported",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
