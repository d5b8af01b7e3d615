"""Demo registry: signed procedures of the past year with answered follow-ups, so the pages have something to show.

Idempotent: a clinic that already has signed demo procedures is left alone.
Scores follow plausible trajectories (most patients improve slowly, some do
not) with realistic attrition; nothing here is clinical data.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinical import aftercare
from accretion.clinical.screening import DEFAULT_PROTOCOL
from accretion.outcomes import questionnaires, summary
from accretion.outcomes.models import Mode, QuestionnaireResponse, QuestionnaireTask
from accretion.outcomes.services import schedule_baseline, schedule_follow_ups
from accretion.procedures.models import FollowUp, Procedure, Status
from accretion.screenings.models import Screening

PROCEDURES_PER_CLINIC = 24
COMPLETION = {"baseline": 0.95, "2w": 0.85, "6w": 0.8, "3m": 0.7, "6m": 0.6, "12m": 0.5}
DIAGNOSES = ["facet_oa", "disc_degeneration_mild", "spondylosis_nonradicular", "paraspinal_strain",
             "disc_degeneration_moderate"]


def load_demo(clinic, members: dict, patients: list, today) -> int:
    if Procedure.objects.filter(clinic=clinic, status=Status.SIGNED).exists():
        return 0
    rng = random.Random(f"outcomes-{clinic.slug}")
    physician, nurse = members["physician"], members["nurse"]
    created = 0
    for number, patient in enumerate(patients[:PROCEDURES_PER_CLINIC]):
        day = today - timedelta(days=rng.randint(20, 400))
        region = rng.choice(["lumbar", "lumbar", "lumbar", "cervical", "thoracic"])
        diagnosis = rng.choice(DIAGNOSES)
        Screening.objects.create(
            clinic=clinic, patient=patient, created_by=nurse, status="decided", decision="eligible", findings=[],
            intake={"age": 55, "region": region, "diagnoses": [diagnosis], "planned_targets": ["facet_joint"]},
            ruleset=DEFAULT_PROTOCOL.ruleset, decided_at=_at(day - timedelta(days=14)))
        started = _at(day)
        procedure = Procedure.objects.create(
            clinic=clinic, patient=patient, planned_date=day, region=region, targets=["facet_joint"],
            levels={"lumbar": ["L4-L5"], "cervical": ["C5-C6"], "thoracic": ["T7-T8"]}[region], created_by=nurse,
            physician=physician, prep_tech=members["prep_tech"], status=Status.SIGNED, started_at=started,
            completed_at=started + timedelta(hours=1), signed_at=started + timedelta(hours=2), signed_by=physician,
            consistency_score=Decimal(rng.choice(["1.00", "1.00", "0.90", "0.80"])),
            placement_rate=Decimal(rng.choice(["1.00", "1.00", "1.00", "0.50"])),
            billing_code="0232T", billing_units=1,
            aftercare_plan=aftercare.plan(day, clinic.get_aftercare_protocol()).to_dict())
        record(None, Action.CREATE, procedure, clinic=clinic, source="demo", status=procedure.status)
        for item in aftercare.plan(day, clinic.get_aftercare_protocol()).follow_ups:
            FollowUp.objects.create(clinic=clinic, procedure=procedure, key=item.key, due=item.due)
        _answer(procedure, [schedule_baseline(procedure), *schedule_follow_ups(procedure)], rng, today)
        summary.refresh(procedure)
        created += 1
    return created


def _at(day):
    return timezone.make_aware(datetime.combine(day, time(9, 30)))


def _answer(procedure, tasks, rng, today):
    responder = rng.random() < 0.55
    baseline_pain = rng.randint(5, 8)
    baseline_disability = rng.randint(2, 4)  # per ODI/NDI section, 0-5
    for task in tasks:
        if task.closes_on >= today or rng.random() > COMPLETION[task.time_point]:
            continue  # still open, or lost to follow-up
        months = {"baseline": 0, "2w": 0.5, "6w": 1.5, "3m": 3, "6m": 6, "12m": 12}[task.time_point]
        relief = min(months / 3, 1) * (rng.uniform(0.35, 0.6) if responder else rng.uniform(0.0, 0.2))
        pain = max(0, round(baseline_pain * (1 - relief)))
        disability = max(0, round(baseline_disability * (1 - relief)))
        answers = {"nrs": {"nrs": pain}}
        for instrument in task.instruments:
            if instrument in ("odi", "ndi"):
                answers[instrument] = {f"{instrument}-{i}": str(max(0, min(5, disability + rng.choice([-1, 0, 0, 1]))))
                                       for i in range(1, 11)}
            elif instrument == "pgic":
                answers["pgic"] = {"pgic": str(2 if responder else rng.choice([3, 4]))}
            elif instrument == "baseline":
                answers["baseline"] = {"activity_level": rng.choice(["sedentary", "light", "moderate", "vigorous"]),
                                       "smoking": rng.choice(["never", "never", "former", "current"]),
                                       "height_cm": float(rng.randint(150, 190)), "weight_kg": float(rng.randint(55, 110)),
                                       "general_health": rng.choice(["very_good", "good", "good", "fair"])}
            elif instrument == "safety":
                answers["safety"] = {k: False for k in ("fever", "infection_signs", "new_weakness_numbness",
                                                        "bowel_bladder_change", "emergency_visit")}
        for instrument, values in answers.items():
            if instrument in task.instruments:
                QuestionnaireResponse.objects.create(task=task, instrument=instrument, answers=values,
                                                     score=questionnaires.score(instrument, values))
        QuestionnaireTask.objects.filter(pk=task.pk).update(
            completed_at=_at(task.due), mode=rng.choice([Mode.PATIENT_LINK, Mode.PATIENT_LINK, Mode.PHONE]))
