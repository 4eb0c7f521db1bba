from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render

from ganweb.accounts.forms import SignUpForm, ThrottledAuthenticationForm
from ganweb.accounts.throttle import UNAVAILABLE_RETRY_SECONDS


@login_not_required
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(
        request,
        "accounts/signup.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


class LoginView(auth_views.LoginView):
    """Sign-in with a lockout after a burst of wrong passwords (429 meanwhile;
    503 while the lockout counters cannot be reached)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked:
            response.status_code = 429
        elif form.unavailable:
            response.status_code = 503
            response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response
