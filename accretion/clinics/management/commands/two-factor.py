"""`accretion two-factor off USERNAME`: turn off a person's two-factor sign-in (a lost phone).

An operator's tool: the person signs in with the password alone and sets it up
again (a clinic that requires it asks at once). Audited on the account.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accretion.audit.log import Action, record
from accretion.cli.base import OneLineUsage, add_subcommands, invalid, operator_name
from accretion.clinics.models import ApiToken, Membership
from accretion.clinics.two_factor import remove_second_factor


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
        if not remove_second_factor(user):  # the app and the recovery codes
            self.stdout.write(f"{name} has no two-factor sign-in; nothing changed.")
            return
        ApiToken.objects.filter(user=user).delete()  # issued with the lost phone's codes
        operator = operator_name()
        # The operator acted, on the member's account: one row in each of the member's clinics.
        for membership in Membership.objects.filter(user=user).select_related("clinic"):
            record(None, Action.TWO_FACTOR_CHANGE, user=None, clinic=membership.clinic, username=operator,
                   source="command", enabled=False, member=name)
        self.stdout.write(f"Two-factor sign-in of {name} is off; they sign in with the password and set it up again.")
