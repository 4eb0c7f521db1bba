"""The job form is built from the family's settings schema in gan_core."""

from __future__ import annotations

from django import forms

# The few settings that matter most, shown above the rest ("Advanced").
BASIC_SETTINGS = ("image_size", "steps", "precision")

FIELD_TYPES = {
    "int": forms.IntegerField,
    "float": forms.FloatField,
    "str": forms.CharField,
}


def settings_form_class(schema: list[dict]) -> type[forms.Form]:
    """A Django form with one field per family setting, bounds from the schema."""
    fields = {}
    for spec in schema:
        kind = spec.get("type", "str")
        label = spec["name"].replace("_", " ")
        common = {"label": label, "help_text": spec.get("help", ""), "required": False}
        if spec.get("choices"):
            choices = [(str(choice), str(choice)) for choice in spec["choices"]]
            fields[spec["name"]] = forms.ChoiceField(choices=choices, **common)
        elif kind == "bool":
            fields[spec["name"]] = forms.BooleanField(**common)
        elif kind in ("int", "float"):
            bounds = {
                key: spec[name]
                for key, name in (("min_value", "min"), ("max_value", "max"))
                if spec.get(name) is not None
            }
            fields[spec["name"]] = FIELD_TYPES[kind](**common, **bounds)
        else:
            fields[spec["name"]] = forms.CharField(**common)
    return type("JobSettingsForm", (forms.Form,), fields)


def settings_from_form(form: forms.Form, schema: list[dict]) -> dict:
    """Only the values the person set; the family's defaults fill the rest."""
    values = {}
    for spec in schema:
        value = form.cleaned_data.get(spec["name"])
        if value in (None, "") and spec.get("type") != "bool":
            continue
        if spec.get("choices") and spec.get("type") in ("int", "float"):
            value = {"int": int, "float": float}[spec["type"]](value)
        values[spec["name"]] = value
    return values


class JobLabelForm(forms.Form):
    """What the person calls the run and why they started it."""

    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Blank: the family and the data's name.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text="Why this run: what you are trying, what you changed.",
    )


class JobDevicesForm(forms.Form):
    """How many devices the job trains on at once: 1 .. the most an online
    training worker owns (ganweb.jobs.devices_online)."""

    gpus = forms.TypedChoiceField(
        label="devices",
        coerce=int,
        required=False,
        empty_value=1,
        help_text="One process per device on one worker; the batch is split "
        "between them.",
    )

    def __init__(self, *args, offered: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gpus"].choices = [(n, str(n)) for n in range(1, offered + 1)]
        self.fields["gpus"].widget.attrs["data-max"] = str(offered)
