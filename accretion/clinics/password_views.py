"""Changing one's password, and resetting a forgotten one by an e-mailed link (Django's own views, audited).

* `/accounts/password/`: a signed-in user changes the password (the current
  one is asked for; the password rules apply). The session stays signed in.
* `/accounts/password-reset/`: the sign-in page's "Forgot your password?"
  sends a one-time link to the account's address. The answer is the same
  whether or not the address has an account; requests are limited per client
  address. The link's host comes from PORTAL_BASE_URL, never from the
  request's Host header. Setting a new password through it also lifts a
  lockout of the account.

Every change and every reset (requested and completed) is one audit row for
the account, with no clinic: the administrators of each of its clinics see it.
"""

from urllib.parse import urlsplit

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django_otp import user_has_device

from accretion.audit.log import NO_CLINIC, Action, client_address, record
from accretion.ratelimit import over_limit

RESET_REQUESTS_PER_HOUR = 5  # per client address


class _RefusedWith400:
    """A form with errors answers 400, as every other form of the portal does."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordChange(_RefusedWith400, auth_views.PasswordChangeView):
    """The account page: two-factor status and the password change form."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "two_factor_on": user_has_device(self.request.user)}

    def form_valid(self, form):
        response = super().form_valid(form)
        record(self.request, Action.PASSWORD_CHANGE, user=self.request.user, clinic=NO_CLINIC)
        messages.success(self.request, "Your password was changed.")
        return response


def _too_many(request) -> bool:
    return over_limit(f"password-reset:{client_address(request)}", RESET_REQUESTS_PER_HOUR, 3600)


class PasswordReset(_RefusedWith400, auth_views.PasswordResetView):
    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")

    def form_valid(self, form):
        portal = urlsplit(settings.PORTAL_BASE_URL)
        email = form.cleaned_data["email"]
        accounts = list(get_user_model().objects.filter(email__iexact=email, is_active=True))
        limited = _too_many(self.request)
        for account in accounts:
            record(self.request, Action.PASSWORD_RESET_REQUESTED, user=account, clinic=NO_CLINIC,
                   sent=not limited)
        if limited:  # the same answer as a sent link: nothing tells a stranger what happened
            return super(auth_views.PasswordResetView, self).form_valid(form)
        form.save(domain_override=portal.netloc, use_https=portal.scheme == "https", request=self.request,
                  from_email=self.from_email, email_template_name=self.email_template_name,
                  subject_template_name=self.subject_template_name)
        return super(auth_views.PasswordResetView, self).form_valid(form)


class PasswordResetConfirm(_RefusedWith400, auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        reset_lockout(username=form.user.get_username())
        record(self.request, Action.PASSWORD_RESET, user=form.user, clinic=NO_CLINIC)
        return response
