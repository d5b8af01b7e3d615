"""Load the demonstration clinics, staff and patients. Safe to run again."""

import random
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accretion.audit.log import Action, record
from accretion.cli.address import browse_url
from accretion.clinics.models import Clinic, Membership
from accretion.clinics.roles import ROLE_NAMES
from accretion.consents.models import PriceList
from accretion.outcomes.demo import load_demo as load_outcomes
from accretion.patients.models import Patient
from accretion.practice.demo import load_demo as load_practice
from accretion.procedures.demo import TODAY as TODAY_PLANS
from accretion.procedures.demo import load_demo as load_today

PASSWORD = "accretion-demo"
CLINICS = [
    ("north", "North Spine & Pain Center", "+1 (555) 010-2000", "N"),
    ("south", "South Interventional Spine Clinic", "+1 (555) 020-3000", "S"),
]
PATIENTS_PER_CLINIC = 30
SCHEDULE_PATIENTS = 2  # two more, for the day schedule, drawn apart so that the 30 above stay who they were
# Example self-pay prices so estimates work out of the box; each clinic sets its own.
EXAMPLE_PRICES = {"currency": "USD", "consultation": 250, "prp_kit": 450, "injection_target": 300,
                  "additional_level": 150, "image_guidance": 200, "follow_up_visit": 95}

GIVEN = {
    "en": [("Margaret", "female"), ("Robert", "male"), ("Linda", "female"), ("James", "male"), ("Patricia", "female"),
           ("Michael", "male"), ("Barbara", "female"), ("David", "male"), ("Susan", "female"), ("Thomas", "male"),
           ("Karen", "female"), ("Daniel", "male"), ("Nancy", "female"), ("Paul", "male"), ("Helen", "female")],
    "es": [("María", "female"), ("José", "male"), ("Guadalupe", "female"), ("Luis", "male"), ("Carmen", "female"),
           ("Jorge", "male"), ("Rosa", "female"), ("Miguel", "male"), ("Ana", "female"), ("Francisco", "male")],
}
FAMILY = {
    "en": ["Anderson", "Brooks", "Carter", "Dawson", "Ellis", "Fletcher", "Graham", "Hughes", "Jensen", "Keller",
           "Lawson", "Morgan", "Nolan", "Owens", "Parker", "Reed", "Sutton", "Turner", "Walsh", "Young"],
    "es": ["García", "Hernández", "López", "Martínez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz"],
}


def demo_patients(clinic, prefix, rng, today, numbers=range(1, PATIENTS_PER_CLINIC + 1)):
    for number in numbers:
        language = "es" if rng.random() < 0.3 else "en"
        given, sex = rng.choice(GIVEN[language])
        family = rng.choice(FAMILY[language])
        born = today - timedelta(days=rng.randint(28 * 365, 82 * 365))
        yield Patient(
            clinic=clinic,
            mrn=f"{prefix}{100000 + number}",
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex=sex,
            phone=f"+1 (555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            email=f"{given}.{family}{number}@example.org".lower().encode("ascii", "ignore").decode() if rng.random() < 0.8 else "",
            preferred_language=language,
        )


class Command(BaseCommand):
    help = "Create the demo clinics (north, south), one user per role per clinic, and about 64 patients."

    def add_arguments(self, parser):
        parser.add_argument("--address", default="127.0.0.1:8000",
                            help="What `runserver` is given (port, or host:port), for the address printed at the end.")

    def handle(self, *args, **options):
        try:
            url = browse_url(options["address"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        User = get_user_model()
        rng = random.Random(20261127)
        today = date.today()
        created_users = 0
        created_patients = 0
        with transaction.atomic():
            for slug, name, phone, prefix in CLINICS:
                clinic, _ = Clinic.objects.get_or_create(slug=slug, defaults={"name": name, "phone": phone})
                PriceList.objects.get_or_create(clinic=clinic, defaults=EXAMPLE_PRICES)
                members = {}
                for role in ROLE_NAMES:
                    username = f"{role}@{slug}.demo"
                    user = User.objects.filter(username=username).first()
                    if user is None:
                        user = User.objects.create_user(username=username, email=username, password=PASSWORD,
                                                        first_name=role.replace("_", " ").title(), last_name=slug.title())
                        created_users += 1
                    Membership.objects.get_or_create(user=user, clinic=clinic, defaults={"role": role})
                    members[role] = user
                load_practice(clinic, members, today)
                existing = set(Patient.objects.filter(clinic=clinic).values_list("mrn", flat=True))
                extra = demo_patients(clinic, prefix, random.Random(f"{slug}-schedule"), today,
                                      range(PATIENTS_PER_CLINIC + 1, PATIENTS_PER_CLINIC + SCHEDULE_PATIENTS + 1))
                new = [p for p in [*demo_patients(clinic, prefix, rng, today), *extra] if p.mrn not in existing]
                for patient in Patient.objects.bulk_create(new):
                    record(None, Action.CREATE, patient, patient_id=patient.pk, clinic=clinic, source="demo")
                created_patients += len(new)
                patients = list(Patient.objects.filter(clinic=clinic).order_by("mrn"))
                load_outcomes(clinic, members, patients, today)
                load_today(clinic, members, patients[-len(TODAY_PLANS):], today)
        self.stdout.write(f"Demo data ready ({created_users} users and {created_patients} patients created now).")
        self.stdout.write(f"Accretion Portal: {url} — demo sign-in with password '{PASSWORD}' as:")
        for slug, *_ in CLINICS:
            self.stdout.write("  " + "  ".join(f"{role}@{slug}.demo" for role in ROLE_NAMES))
