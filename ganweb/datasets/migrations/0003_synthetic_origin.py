from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0002_paired_layout"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="synthetic_origin",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
