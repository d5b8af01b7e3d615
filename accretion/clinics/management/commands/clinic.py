"""`accretion clinic create SLUG --name NAME --admin EMAIL [--phone PHONE] [--password-stdin]` and `accretion clinic list`.

How an operator sets up a clinic on a new installation: the clinic and its
first clinic administrator, who then adds the staff on the Staff page. A new
administrator account gets the password read from standard input
(`--password-stdin`, checked by the password rules) or a random one printed
once, to be changed after signing in (`/accounts/password/`). An existing
account only gains the membership. Audited; bad input exits 2 with one line.
"""

import secrets
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count

from accretion.audit.log import Action, changes, record
from accretion.cli.base import OneLineUsage, add_subcommands, invalid, operator_name
from accretion.clinics.forms import ClinicDetailsForm
from accretion.clinics.models import Clinic, Membership, slug_validator
from accretion.clinics.roles import CLINIC_ADMIN

USERNAME_MAX = 150  # Django's user name column


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


class Command(OneLineUsage, BaseCommand):
    help = "Create a clinic with its first clinic administrator, or list the clinics. Bad input exits 2."

    def add_arguments(self, parser):
        sub = add_subcommands(parser, dest="action", required=True, metavar="{create,list}")
        create = sub.add_parser("create", help="Create a clinic and its first clinic administrator.",
                                description="Create a clinic and its first clinic administrator.")
        create.add_argument("slug", metavar="SLUG", help="Short name in lower-case letters, digits and hyphens.")
        create.add_argument("--name", required=True, help="The clinic's name, as patients see it.")
        create.add_argument("--phone", default="", help="The phone number printed on patients' handouts.")
        create.add_argument("--admin", required=True, metavar="EMAIL", help="The first clinic administrator.")
        create.add_argument("--password-stdin", action="store_true",
                            help="Read a new administrator's initial password from standard input.")
        sub.add_parser("list", help="List the clinics.", description="List the clinics with their staff count.")

    def handle(self, *args, action, **options):
        if action == "list":
            return self._list()
        return self._create(**options)

    def _list(self):
        clinics = Clinic.objects.annotate(members=Count("memberships")).order_by("slug")
        if not clinics:
            self.stdout.write("no clinic yet: create one with `accretion clinic create`")
        for clinic in clinics:
            self.stdout.write(f"{clinic.slug}\t{clinic.name}\t{clinic.phone or '-'}\t"
                              f"{clinic.members} member{'s' if clinic.members != 1 else ''}")

    def _create(self, *, slug, name, phone, admin, password_stdin, **options):
        try:
            slug_validator(slug)
        except ValidationError:
            raise invalid(f"SLUG: {_shown(slug)} is not a slug: lower-case letters, digits and hyphens, "
                          "starting with a letter or digit, at most 40") from None
        details = ClinicDetailsForm({"name": name, "phone": phone})
        if not details.is_valid():
            field, errors = next(iter(details.errors.items()))
            raise invalid(f"--{field}: {errors[0]}")
        email = admin.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise invalid(f"--admin: {_shown(admin)} is not an e-mail address") from None
        if len(email) > USERNAME_MAX:
            raise invalid(f"--admin: at most {USERNAME_MAX} characters (it is the user name to sign in with)")
        user = get_user_model().objects.filter(username=email).first()
        password = None
        if user is None:
            password = self._read_password() if password_stdin else secrets.token_urlsafe(12)
            try:
                password_validation.validate_password(password, get_user_model()(username=email, email=email))
            except ValidationError as error:
                raise invalid(f"password: {' '.join(error.messages)}") from None
        elif password_stdin:
            raise invalid(f"--password-stdin: {email} already has an account; its password is not changed here")
        operator = operator_name()
        with transaction.atomic():
            if Clinic.objects.filter(slug=slug).exists():
                raise invalid(f"SLUG: a clinic with the slug {slug!r} exists already")
            clinic = Clinic.objects.create(slug=slug, **details.cleaned_data)
            record(None, Action.CREATE, clinic, clinic=clinic, username=operator, source="command",
                   name=clinic.name)
            if user is None:
                user = get_user_model().objects.create_user(username=email, email=email, password=password)
            membership = Membership.objects.create(user=user, clinic=clinic, role=CLINIC_ADMIN)
            record(None, Action.PERMISSION_CHANGE, membership, clinic=clinic, username=operator, source="command",
                   member=user.username, role=CLINIC_ADMIN, previous=None,
                   changes=changes({"role": None}, {"role": CLINIC_ADMIN}))
        self.stdout.write(f"Clinic {slug} created: {clinic.name}. Clinic administrator: {email}.")
        if password is not None and not password_stdin:
            self.stdout.write(f"Initial password (shown once; change it after signing in): {password}")

    def _read_password(self) -> str:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise invalid("--password-stdin: no password on standard input")
        if "\x00" in password:
            raise invalid("--password-stdin: the password contains a NUL character")
        return password


