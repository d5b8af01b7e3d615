"""Sign-in events go to the audit log."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accretion.audit.log import Action, record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(request, Action.LOGIN, user=user, clinic=None)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(request, Action.LOGOUT, user=user, clinic=None)


def _account(username):
    return get_user_model().objects.filter(username=username).first() if username else None


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials.get("username") or "")[:150]
    if getattr(request, "axes_locked_out", False):
        return  # the lockout itself is recorded once, below
    account = _account(username)
    # The row names the targeted account (if it exists) so its clinics' admins see it.
    reason = getattr(request, "login_reason", "")  # e.g. the password asked again to leave patient mode
    record(request, Action.LOGIN_FAILED, user=account, clinic=None, username=username,
           **({"reason": reason} if reason else {}))


@receiver(user_locked_out)
def _locked_out(sender, request, username=None, ip_address=None, **kwargs):
    username = (username or "")[:150]
    record(request, Action.LOCKED_OUT, user=_account(username), clinic=None, username=username)
