"""Dataset forms: the upload page (works without JavaScript too) and rename."""

from __future__ import annotations

from django import forms

ACCEPT = ".zip,.tar,.tgz,.gz,image/png,image/jpeg,image/webp,image/bmp,image/gif"


class DatasetUploadForm(forms.Form):
    """The name; the files themselves (field ``upload``, one archive or several
    images) go straight to the dataset service, which checks them."""

    name = forms.CharField(max_length=200, required=False)
    pairing = forms.ChoiceField(
        choices=[
            ("", "Not paired (flat, classes, or unpaired A/ and B/)"),
            ("folders", "Paired: A/ and B/ files matched by name (pix2pix)"),
            ("side_by_side", "Paired: A and B side by side in each image (pix2pix)"),
        ],
        required=False,
    )


class DatasetRenameForm(forms.Form):
    name = forms.CharField(max_length=200)
