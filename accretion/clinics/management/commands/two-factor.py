"""`accretion two-factor off USERNAME`: turn off a person's two-factor sign-in (a lost phone).

An operator's tool: the person signs in with the password alone and sets it up
again (a clinic that requires it asks at once). Audited on the account.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_otp.plugins.otp_totp.models import TOTPDevice

from accretion.audit.log import NO_CLINIC, Action, record
from accretion.cli.base import OneLineUsage, add_subcommands, invalid, operator_name


class Command(OneLineUsage, BaseCommand):
    help = "Turn off a person's two-factor sign-in, e.g. after a lost phone. Audited. Bad input exits 2."

    def add_arguments(self, parser):
        sub = add_subcommands(parser, dest="action", required=True, metavar="{off}")
        off = sub.add_parser("off", help="Remove the person's authenticator app.",
                             description="Remove the person's authenticator app; they sign in with the password "
                                         "and set it up again.")
        off.add_argument("username", metavar="USERNAME", help="The user name (e-mail) the person signs in with.")

    def handle(self, *args, action, username, **options):
        name = username.strip().lower()
        user = get_user_model().objects.filter(username=name).first() if "\x00" not in name else None
        if user is None:
            raise invalid(f"USERNAME: no account {username[:60]!r}")
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        if not removed:
            self.stdout.write(f"{name} has no two-factor sign-in; nothing changed.")
            return
        record(None, Action.TWO_FACTOR_CHANGE, user=user, clinic=NO_CLINIC, username=operator_name(),
               source="command", enabled=False, member=name)
        self.stdout.write(f"Two-factor sign-in of {name} is off; they sign in with the password and set it up again.")
