from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from ganweb.accounts.throttle import (
    LockoutUnavailable,
    client_address,
    lockout_message,
    login_failure_record,
    login_seconds_locked,
    login_success_record,
)


class SignUpForm(UserCreationForm):
    """Username and password; nothing else is needed to start training."""


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refused outright while the door is locked, and
    while nobody can tell whether it is (``unavailable``: the counters are
    out of reach)."""

    locked = False
    unavailable = False

    def clean(self):
        try:
            return self._clean_throttled()
        except LockoutUnavailable as exc:
            self.unavailable = True
            raise forms.ValidationError(str(exc), code="unavailable") from exc

    def _clean_throttled(self):
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
