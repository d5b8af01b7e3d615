import os
from datetime import date

import pytest
from django.test import Client

from accretion.clinics.models import Clinic, Membership
from accretion.clinics.roles import ROLE_NAMES
from accretion.clinics.tenancy import SESSION_KEY
from accretion.patients.models import Patient

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# made by fixtures around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.installed"]  # the installed command's fixtures (migrated_file)

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Argon2 is deliberately slow; tests that check it restore the real list.
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def fresh_cache(django_db_blocker):
    """An empty shared cache before and after the test (rate-limit counters live there). The cache may be the
    database's (CACHE_URL=db://), so clearing it is let through pytest-django's guard."""
    from django.core.cache import cache

    with django_db_blocker.unblock():
        cache.clear()
    yield cache
    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture
def clinics(db):
    north = Clinic.objects.create(slug="north", name="North Spine", phone="+1 555 0100")
    south = Clinic.objects.create(slug="south", name="South Spine", phone="+1 555 0200")
    return {"north": north, "south": south}


# Names of the staff fixture's users, so pages show names: "Pat Physician" (north), "Sam Physician" (south).
FIRST_NAMES = {"north": "Pat", "south": "Sam"}
LAST_NAMES = {"physician": "Physician", "nurse": "Nurse", "prep_tech": "Prep", "front_desk": "Desk",
              "clinic_admin": "Admin", "auditor": "Auditor"}


def staff_full_name(slug: str, role: str) -> str:
    """The name pages show for staff[(slug, role)]: staff_full_name("north", "physician") == "Pat Physician"."""
    return f"{FIRST_NAMES[slug]} {LAST_NAMES[role]}"


@pytest.fixture
def staff(clinics, django_user_model):
    """One user per role per clinic: staff[("north", "physician")], named staff_full_name("north", "physician")."""
    users = {}
    for slug, clinic in clinics.items():
        for role in ROLE_NAMES:
            user = django_user_model.objects.create_user(
                username=f"{role}@{slug}.test", email=f"{role}@{slug}.test", password="correct horse battery",
                first_name=FIRST_NAMES[slug], last_name=LAST_NAMES[role],
            )
            Membership.objects.create(user=user, clinic=clinic, role=role)
            users[(slug, role)] = user
    return users


_mrn_counter = iter(range(1, 10**9))


@pytest.fixture
def make_patient():
    def make(clinic, **fields):
        number = next(_mrn_counter)
        values = {
            "mrn": f"T{number:06d}",
            "given_name": "Ada",
            "family_name": f"Lovelace{number}",
            "date_of_birth": date(1970, 5, 17),
            "sex": "female",
            "preferred_language": "en",
        }
        values.update(fields)
        return Patient.objects.create(clinic=clinic, **values)

    return make


def screened(patient, decision="eligible", findings=(), diagnoses=("facet_oa",), review_outcome=""):
    """A decided screening of `patient`, newer than any before it (the one that counts)."""
    from django.utils import timezone

    from accretion.screenings.models import Screening

    return Screening.objects.create(
        clinic=patient.clinic, patient=patient, created_by=patient.clinic.memberships.first().user,
        status="reviewed" if review_outcome else "decided", decision=decision, findings=list(findings),
        intake={"diagnoses": list(diagnoses)}, ruleset="default-2026.1", decided_at=timezone.now(),
        review_outcome=review_outcome,
    )


def signed_in(user, clinic=None) -> Client:
    client = Client()
    client.force_login(user)
    if clinic is not None:
        session = client.session
        session[SESSION_KEY] = clinic.pk
        session.save()
    return client


def api_client(user, clinic) -> Client:
    from accretion.clinics.models import ApiToken

    _, raw = ApiToken.issue(user, clinic, hours=1)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    }
