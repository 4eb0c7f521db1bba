from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_checkpoint_timeline")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
