from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from ganweb.accounts.throttle import (
    client_address,
    lockout_message,
    login_failure_record,
    login_seconds_locked,
    login_success_record,
)


class SignUpForm(UserCreationForm):
    """Username and password; nothing else is needed to start training."""


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refused outright while the door is locked."""

    locked = False

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        seconds = login_seconds_locked(username=username, address=address)
        if seconds:
            # Checked before authenticate(): a locked account answers the same
            # whether or not the password is right, so guessing gains nothing.
            self.locked = True
            raise forms.ValidationError(lockout_message(seconds), code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failure_record(username=username, address=address)
            raise
        login_success_record(username=username, address=address)
        return cleaned
