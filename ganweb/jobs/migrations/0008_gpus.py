from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0007_init_from")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="gpus",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="job",
            name="ranks",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
