"""Two-factor sign-in with an authenticator app (TOTP, django-otp).

* Anyone may turn it on at `/accounts/two-factor/`: scan the QR code (or type
  the key), confirm with a code. Turning it off asks for a current code.
* Signing in with a confirmed device is two steps: the password (the sign-in
  form, locked out as before after repeated failures), then the 6-digit code
  at `/accounts/two-factor/verify/`; only then is the person signed in. Wrong
  codes slow down (django-otp's throttling) and are audited as failed
  sign-ins; after five the password has to be given again.
* A clinic may require it of some or all roles (`Clinic.two_factor_roles`,
  on the Settings page): members in those roles are then sent to set it up
  before any of its pages opens (`requires` asks `session_problem`).
* Turning it on gives ten recovery codes (django-otp's static device), shown
  once; each signs in once in place of the app's code, for a lost phone.

Every change is audited on the account, as passwords are.
"""

import base64
import secrets
import time

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accretion.audit.log import NO_CLINIC, Action, record
from accretion.clinics.models import ApiToken

PENDING = "two_factor_pending"  # session: the user whose password was right, waiting for the code
PENDING_SECONDS = 300  # the code must follow the password within five minutes
MOST_WRONG_CODES = 5
DEVICE_NAME = "Authenticator app"


RECOVERY_CODES = 10
RECOVERY_DEVICE_NAME = "Recovery codes"


class CodeForm(forms.Form):
    code = forms.CharField(label="6-digit code", min_length=6, max_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "pattern": "[0-9]{6}", "autofocus": True}))

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError("The code is 6 digits.")
        return code


class SignInCodeForm(forms.Form):
    """The code step of signing in: the app's 6-digit code, or one of the account's recovery codes."""

    code = forms.CharField(label="Code", max_length=40, help_text="The 6-digit code of your app, or a recovery code.",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                                         "autocapitalize": "none", "spellcheck": "false"}))

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not (code.isdigit() and len(code) == 6) and not (code.isalnum() and len(code) == 16):
            raise forms.ValidationError("Enter the 6 digits your app shows, or a recovery code (16 letters and "
                                        "digits).")
        return code

    @property
    def is_recovery(self) -> bool:
        return not self.cleaned_data["code"].isdigit()


def shown(code: str) -> str:
    """A recovery code as the page shows it, in groups of four: `abcd-efgh-ijkl-mnop`."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def new_recovery_codes(user) -> list[str]:
    """Ten new recovery codes for `user`, replacing any earlier ones (which stop working)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    # 80 random bits in 16 base32 characters, the most the token column holds (the library's own is 40 bits).
    codes = [base64.b32encode(secrets.token_bytes(10)).decode().lower() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [shown(code) for code in codes]


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def remove_second_factor(user) -> bool:
    """Delete the account's authenticator apps and recovery codes; whether it had an app."""
    had_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return had_app


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _verified(request) -> bool:
    check = getattr(request.user, "is_verified", None)  # set by OTPMiddleware on session requests
    return bool(check and check())


def session_problem(request) -> str | None:
    """Why this signed-in session may not open the clinic's records, or None when it may.

    "code": the account has an authenticator app but this session never gave a code (it was opened with the
    password before the app was set up): sign in again. "setup": the active clinic requires two-factor
    sign-in and the account has no app yet.
    """
    if _verified(request):
        return None
    has_app = getattr(request, "has_two_factor", None)  # from the clinic middleware's query, when it ran
    if has_app if has_app is not None else user_has_device(request.user):
        return "code"
    clinic = getattr(request, "clinic", None)
    return "setup" if clinic is not None and clinic.requires_two_factor(getattr(request, "role", None)) else None


def token_allowed(user, clinic, role) -> bool:
    """A bearer token of `clinic` still answers: the clinic does not require two-factor of `role`, or the
    account has it."""
    return not clinic.requires_two_factor(role) or user_has_device(user)


class SignIn(auth_views.LoginView):
    """The password step; with a confirmed device, the code step follows before the session is signed in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not user_has_device(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {"user": user.pk, "backend": user.backend, "wrong": 0,
                                         "next": self.get_success_url(), "at": time.time(),
                                         "hash": user.get_session_auth_hash()}
        return redirect("two-factor-verify")


def verify(request):
    """The code step of signing in."""
    pending = request.session.get(PENDING)
    user = get_user_model().objects.filter(pk=(pending or {}).get("user"), is_active=True).first()
    device = confirmed_device(user) if user else None
    stale = (pending is not None and (time.time() - pending.get("at", 0) > PENDING_SECONDS
                                      or (user is not None and pending.get("hash") != user.get_session_auth_hash())))
    if stale:  # too long ago, or the password changed since: the password again
        messages.error(request, "Please sign in again.")
    if device is None or stale:
        request.session.pop(PENDING, None)
        return redirect("login")
    form = SignInCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        used = device
        if form.is_recovery:
            used = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if used is not None and used.verify_token(form.cleaned_data["code"]):  # a recovery code is used up
            request.session.pop(PENDING, None)
            user.backend = pending["backend"]
            login(request, user)  # audited as a sign-in (clinics/signals.py)
            otp_login(request, used)
            if form.is_recovery:
                left = recovery_codes_left(user)
                record(request, Action.RECOVERY_CODE_USED, user=user, clinic=NO_CLINIC, left=left)
                messages.warning(request, f"You signed in with a recovery code; {left} left. If your phone is "
                                          "lost, set up the app again and make new codes under Account.")
            target = pending.get("next") or reverse("home")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse("home")
            return redirect(target)
        pending["wrong"] += 1
        request.session[PENDING] = pending
        record(request, Action.LOGIN_FAILED, user=user, clinic=NO_CLINIC, username=user.get_username(),
               reason="two-factor code")
        if pending["wrong"] >= MOST_WRONG_CODES:
            request.session.pop(PENDING, None)
            messages.error(request, "Too many wrong codes. Sign in again with your password.")
            return redirect("login")
        form.add_error("code", "That recovery code is not right, or was used already." if form.is_recovery
                       else _wrong(device))
    return render(request, "registration/two_factor_verify.html", {"form": form, "username": user.get_username()},
                  status=400 if form.errors else 200)


def _wrong(device: TOTPDevice, hint: str = "") -> str:
    """Why a code was refused: wrong or expired, or tried again too soon after a wrong one (throttled)."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return "Too many wrong codes in a row: wait a few seconds, then enter the code your app shows now."
    return " ".join(filter(None, ["That code is not right, or it has expired.", hint,
                                  "Enter the code your app shows now."]))


def _qr(url: str) -> str:
    """The otpauth URL as a QR code, an SVG data: URI (the pages' CSP allows data: images, no inline SVG styles)."""
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2)


def _grouped(device: TOTPDevice) -> str:
    key = base64.b32encode(device.bin_key).decode()
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def _required(request) -> bool:
    clinic = getattr(request, "clinic", None)
    return bool(clinic and clinic.requires_two_factor(request.role))


def _show_codes(request, codes: list[str]):
    """The page that shows new recovery codes, once (never cached, never shown again)."""
    return render(request, "registration/recovery_codes.html", {"codes": codes})


@never_cache
@login_required
def setup(request):
    """Turn two-factor sign-in on (scan, confirm with a code) or off (confirm with a code); make new recovery
    codes (confirm with a code)."""
    user = request.user
    device = confirmed_device(user)
    if device is not None:
        action = request.POST.get("action") if request.method == "POST" else None
        off = CodeForm(request.POST if action == "off" else None)
        renew = CodeForm(request.POST if action == "recovery" else None, prefix="recovery")
        form = renew if action == "recovery" else off
        if action in ("off", "recovery") and form.is_valid():
            if not device.verify_token(form.cleaned_data["code"]):
                form.add_error("code", _wrong(device))
            elif action == "recovery":
                codes = new_recovery_codes(user)
                record(request, Action.TWO_FACTOR_CHANGE, user=user, clinic=NO_CLINIC, enabled=True,
                       recovery_codes="renewed")
                return _show_codes(request, codes)
            else:
                requiring = [m.clinic.name for m in request.memberships if m.clinic.requires_two_factor(m.role)]
                if requiring:
                    messages.error(request, f"{', '.join(requiring)} requires two-factor sign-in; it stays on.")
                    return redirect("two-factor")
                remove_second_factor(user)
                record(request, Action.TWO_FACTOR_CHANGE, user=user, clinic=NO_CLINIC, enabled=False)
                messages.success(request, "Two-factor sign-in is off.")
                return redirect("two-factor")
        context = {"form": off, "renew": renew, "enabled": True, "required": _required(request),
                   "recovery_left": recovery_codes_left(user)}
        return render(request, "registration/two_factor.html", context,
                      status=400 if off.errors or renew.errors else 200)
    form = CodeForm(request.POST or None)
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=user, confirmed=False, name=DEVICE_NAME)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"]):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()  # a second page opened at once
            ApiToken.objects.filter(user=user).delete()  # tokens issued on the password alone end here
            request.session.cycle_key()
            otp_login(request, pending)
            codes = new_recovery_codes(user)
            record(request, Action.TWO_FACTOR_CHANGE, user=user, clinic=NO_CLINIC, enabled=True,
                   recovery_codes="new")
            messages.success(request, "Two-factor sign-in is on. From now on, signing in asks for a code.")
            return _show_codes(request, codes)
        form.add_error("code", _wrong(pending, "Check that the app shows Accretion Portal and that the time on "
                                               "your phone is correct."))
    context = {"form": form, "enabled": False, "qr": _qr(pending.config_url), "key": _grouped(pending),
               "required": _required(request)}
    return render(request, "registration/two_factor.html", context, status=400 if form.errors else 200)

