"""Ending a credential ends its live sockets too (see ganweb/core/ws_auth.py)."""

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from ganweb.core.ws_auth import credential_end, session_group, token_group


@receiver(user_logged_out)
def close_sockets_of_the_session(sender, request, user, **kwargs):
    # Sent before logout() flushes the session, so the key is still the old one.
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        credential_end(session_group(session_key))


@receiver(post_delete, sender=Token)
def close_sockets_of_the_token(sender, instance, **kwargs):
    credential_end(token_group(instance.key))
