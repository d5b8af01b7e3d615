from axes.models import AccessAttempt
from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accretion.audit.log import Action, changes, record
from accretion.clinics.forms import AddMemberForm, ChangeRoleForm, SwitchClinicForm
from accretion.clinics.models import Membership
from accretion.clinics.people import staff_name
from accretion.clinics.roles import CLINIC_ADMIN, PERMISSIONS, ROLE_NAMES, role_label
from accretion.clinics.tenancy import SESSION_KEY, clinic_objects, get_clinic_object, requires


def locked_out(request, response=None, credentials=None):
    """What a locked account sees (django-axes calls this)."""
    message = (
        f"This account is locked after {settings.LOGIN_FAILURE_LIMIT} failed sign-ins. "
        f"Try again in {settings.LOCKOUT_MINUTES} minutes, or ask your clinic administrator."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": [{"field": "username", "message": message}]}, status=403)
    return render(request, "registration/login.html", {"locked_message": message}, status=403)


@login_required
@require_POST
def switch_clinic(request):
    form = SwitchClinicForm(request.POST)
    wanted = form.cleaned_data["clinic"] if form.is_valid() else None
    membership = next((m for m in request.memberships if m.clinic_id == wanted), None)
    if membership is None:
        messages.error(request, "You are not a member of that clinic.")
        return redirect("home")
    request.session[SESSION_KEY] = membership.clinic_id
    record(request, Action.SWITCH_CLINIC, membership.clinic, clinic=membership.clinic)
    messages.success(request, f"You are now working in {membership.clinic.name}.")
    return redirect("home")


@requires("members.manage")
def member_list(request):
    form = AddMemberForm(request.POST or None, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            _add_member(request, form.cleaned_data)
        except IntegrityError:  # the same person added twice at once: the other request won
            form.add_error("email", "This person was added a moment ago; see the list below.")
        else:
            messages.success(request, f"{form.cleaned_data['email']} was added as {role_label(form.cleaned_data['role'])}.")
            return redirect("members")
    members = list(clinic_objects(request, Membership).select_related("user").order_by("user__username"))
    locked = lockouts([m.user.username for m in members])
    for member in members:
        member.lockout = locked.get(member.user.username)
    return render(
        request,
        "clinics/members.html",
        {"form": form, "members": members, "role_names": ROLE_NAMES, "permission_rows": _permission_rows()},
        status=400 if form.errors else 200,
    )


def lockouts(usernames) -> dict:
    """The accounts among `usernames` that django-axes has locked now: username -> failures, last failure and
    when the lock lifts by itself. One query, whatever the number of members."""
    cooloff = settings.AXES_COOLOFF_TIME
    rows = (AccessAttempt.objects.filter(username__in=usernames, attempt_time__gt=timezone.now() - cooloff)
            .values("username").annotate(failures=Sum("failures_since_start"), last=Max("attempt_time")))
    return {row["username"]: {"failures": row["failures"], "last": row["last"], "until": row["last"] + cooloff}
            for row in rows if row["failures"] >= settings.AXES_FAILURE_LIMIT}


@requires("members.manage")
@require_POST
def member_unlock(request, membership_id):
    """Lift a member's sign-in lock now (django-axes' own reset), instead of waiting for it to expire."""
    membership = get_clinic_object(request, Membership.objects.select_related("user"), pk=membership_id)
    username = membership.user.username
    lock = lockouts([username]).get(username)
    cleared = reset_lockout(username=username)
    record(request, Action.UNLOCK, membership, member=username, failures=lock["failures"] if lock else 0,
           cleared=cleared)
    if lock:
        messages.success(request, f"{staff_name(membership.user)} can sign in again.")
    else:
        messages.info(request, f"{staff_name(membership.user)} was not locked; nothing to unlock.")
    return redirect("members")


def _permission_rows():
    return [
        {"name": name, "allows": allows, "marks": [role in roles for role in ROLE_NAMES]}
        for name, (allows, roles) in PERMISSIONS.items()
    ]


def _add_member(request, data):
    with transaction.atomic():
        user = data["user"]
        if user is None:
            email = data["email"].lower()
            user = get_user_model().objects.create_user(username=email, email=email, password=data["password"])
        membership = Membership.objects.create(user=user, clinic=request.clinic, role=data["role"])
        record(request, Action.PERMISSION_CHANGE, membership, member=user.username, role=data["role"], previous=None,
               changes=changes({"role": None}, {"role": data["role"]}))


@requires("members.manage")
@require_POST
def member_change(request, membership_id):
    membership = get_clinic_object(request, Membership.objects.select_related("user"), pk=membership_id)
    removing = "remove" in request.POST
    form = ChangeRoleForm(request.POST)
    if not removing and not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return redirect("members")
    new_role = None if removing else form.cleaned_data["role"]
    with transaction.atomic():
        admins = clinic_objects(request, Membership).select_for_update().filter(role=CLINIC_ADMIN)
        if membership.role == CLINIC_ADMIN and new_role != CLINIC_ADMIN and admins.count() <= 1:
            messages.error(request, "A clinic needs at least one clinic administrator.")
            return redirect("members")
        previous = membership.role
        if removing:
            record(request, Action.PERMISSION_CHANGE, membership, member=membership.user.username, role=None,
                   previous=previous, changes=changes({"role": previous}, {"role": None}))
            membership.delete()
            messages.success(request, f"{staff_name(membership.user)} no longer has access to this clinic.")
        else:
            membership.role = new_role
            membership.save(update_fields=["role"])
            record(request, Action.PERMISSION_CHANGE, membership, member=membership.user.username, role=new_role,
                   previous=previous, changes=changes({"role": previous}, {"role": new_role}))
            messages.success(request, f"{staff_name(membership.user)} is now {membership.get_role_display()}.")
    return redirect("members")
