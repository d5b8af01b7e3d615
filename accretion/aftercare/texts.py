"""The aftercare handout's words in English and Spanish.

The plan (accretion.clinical.aftercare) gives every patient-facing text as a
stable code plus an English default.  English handouts use those defaults as
they are; Spanish handouts look each code up in :data:`CODE_TEXTS_ES`.  A
custom activity text set by the clinic is shown as the clinic wrote it, in
both languages.

Dates are written with the small month and day-name tables below, not with
the server's locale, so a handout reads the same on every machine.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from accretion.clinical.aftercare import (
    ACTIVITY_GUIDANCE_CUSTOM_CODE,
    ACTIVITY_GUIDANCE_DEFAULT_CODE,
    AftercarePlan,
    parse_follow_up_key,
)
from accretion.clinical.antithrombotics import CONTINUE, Antithrombotic, HoldDecision
from accretion.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, pick

__all__ = [
    "CODE_TEXTS_ES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "UI",
    "code_text",
    "follow_up_label",
    "format_date",
    "handout",
    "medicine_lines",
    "pick_language",
]


MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}
# Monday first, as datetime.date.weekday() counts.
WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def pick_language(requested: str | None, preferred: str | None) -> str:
    """``?lang=`` when it names a handout language, else the patient's preferred language, else English."""
    return pick(requested, preferred)


def format_date(day: _dt.date, lang: str) -> str:
    """``Monday, November 30, 2026`` or ``lunes, 30 de noviembre de 2026``."""
    weekday = WEEKDAYS[lang][day.weekday()]
    month = MONTHS[lang][day.month - 1]
    if lang == "es":
        return f"{weekday}, {day.day} de {month} de {day.year}"
    return f"{weekday}, {month} {day.day}, {day.year}"


def follow_up_label(key: str, lang: str) -> str:
    """``"2w"`` -> ``2 weeks`` / ``2 semanas``; ``"1m"`` -> ``1 month`` / ``1 mes``."""
    n, unit = parse_follow_up_key(key)
    words = {
        ("en", "w"): ("week", "weeks"),
        ("en", "m"): ("month", "months"),
        ("es", "w"): ("semana", "semanas"),
        ("es", "m"): ("mes", "meses"),
    }[(lang, unit)]
    return f"{n} {words[0] if n == 1 else words[1]}"


# ---------------------------------------------------------------------------
# Plan texts by code (Spanish).  English comes from the plan itself.
# ---------------------------------------------------------------------------

CODE_TEXTS_ES: dict[str, str] = {
    # Ice or heat (AftercareProtocol.cold_or_heat)
    "ice": (
        "Durante las primeras 48 a 72 horas, puede colocar una bolsa de hielo envuelta en un paño sobre la zona "
        "de la inyección hasta 20 minutos seguidos, hasta 3 veces al día. Nunca ponga el hielo directamente "
        "sobre la piel."
    ),
    "heat": (
        "Aplique calor suave, por ejemplo una toalla tibia y húmeda, sobre la zona de la inyección hasta "
        "20 minutos seguidos, hasta 4 veces al día durante la primera semana. No use hielo y no se duerma "
        "sobre una almohadilla eléctrica."
    ),
    "either": (
        "Puede usar una bolsa de hielo o calor suave, lo que le resulte más cómodo, hasta 20 minutos seguidos, "
        "varias veces al día. Proteja la piel con un paño y no se duerma sobre una almohadilla eléctrica."
    ),
    # Activity (the standard text; a clinic's own text is shown as written)
    ACTIVITY_GUIDANCE_DEFAULT_CODE: (
        "Tómelo con calma los primeros 2 días; puede hacer actividades ligeras de todos los días, como caminar. "
        "Durante 1 semana, evite el ejercicio intenso, levantar objetos pesados y agacharse o girar el cuerpo "
        "una y otra vez; después, aumente la actividad poco a poco, según le indique su médico."
    ),
    # Pain relief while NSAIDs are avoided
    "acetaminophen_unless_contraindicated": (
        "Hasta la fecha indicada, no tome analgésicos antiinflamatorios (AINE), como ibuprofeno o naproxeno. "
        "Para el dolor, use acetaminofén (Tylenol) según las indicaciones de la etiqueta, a menos que un médico "
        "le haya dicho que no lo tome. No deje de tomar la aspirina ni ningún medicamento para diluir la sangre "
        "que le hayan recetado para el corazón o la circulación sin antes consultar al médico que se lo recetó."
    ),
    # Warning signs
    "fever": "Fiebre de más de 38.3 °C (101 °F), o escalofríos con temblores.",
    "redness_or_drainage": (
        "Enrojecimiento que se extiende, hinchazón que sigue empeorando, o pus u otra secreción en el sitio "
        "de la inyección."
    ),
    "new_weakness_or_numbness": (
        "Debilidad o entumecimiento nuevos en un brazo o una pierna, o un entumecimiento que sigue empeorando."
    ),
    "bowel_or_bladder": "Pérdida del control de los intestinos o de la vejiga, o no poder orinar ni evacuar.",
    "headache_or_stiff_neck": "Dolor de cabeza fuerte o rigidez en el cuello.",
    # Whom to contact (WarningSign.call)
    "call_clinic": (
        "Llame a la clínica el mismo día. Si la clínica está cerrada, vaya a una sala de emergencias."
    ),
    "call_emergency": "Vaya ahora mismo a la sala de emergencias más cercana.",
}


def code_text(code: str, english: str, lang: str) -> str:
    """The text of a plan code in ``lang``; English is the plan's own text.

    A code without a Spanish text (a newly added one) falls back to English
    rather than leaving the handout without advice; a test lists every code
    the plan can produce and requires a translation for each.
    """
    if lang == "en":
        return english
    return CODE_TEXTS_ES.get(code, english)


# ---------------------------------------------------------------------------
# The handout's own words
# ---------------------------------------------------------------------------

UI: dict[str, dict[str, str]] = {
    "en": {
        "title": "Aftercare after your PRP spine injection",
        "subtitle": "Platelet-rich plasma (PRP) injection",
        "patient": "Patient",
        "injection_date": "Injection date",
        "questions": "Questions? Call {clinic} at {phone}.",
        "questions_no_phone": "Questions? Call {clinic}.",
        "key_dates": "Key dates",
        "key_dates_note": "Each instruction applies up to and including the date shown.",
        "soreness_through": "Soreness may last through",
        "nsaid_through": "No NSAIDs (ibuprofen, naproxen) through",
        "driving_through": "No driving through",
        "soaking_through": "No baths, pools or hot tubs through",
        "soreness_heading": "What to expect",
        "soreness_text": (
            "Some soreness and stiffness at the injection site is expected. It is usually worst for the "
            "first 48 to 72 hours and may last through {date}."
        ),
        "pain_heading": "Pain relief: no NSAIDs through {date}",
        "cold_heat_heading": "Ice or heat",
        "activity_heading": "Activity",
        "driving_heading": "Driving and bathing",
        "driving_text": "Do not drive for 24 hours after the injection; someone else must drive you home.",
        "soaking_text": (
            "For 2 days, do not take a tub bath and do not use a swimming pool or hot tub (through {date})."
        ),
        "help_heading": "When to get help",
        "clinic_group": "Call the clinic",
        "emergency_group": "Go to the emergency department",
        "if_you_have": "if you have:",
        "phone": "Clinic phone",
        "follow_ups_heading": "Follow-up visits",
        "follow_up_after": "Time after the injection",
        "follow_up_due": "Due date",
        "follow_ups_note": "Call the clinic to book or confirm each visit.",
        # Calendar (.ics)
        "cal_name": "Aftercare – {clinic}",
        "cal_nsaid": "No NSAIDs (ibuprofen, naproxen)",
        "cal_soreness": "Soreness after the injection may last",
        "cal_follow_up": "Follow-up visit ({label}) – {clinic}",
        "cal_follow_up_text": "Follow-up {label} after the injection is due. Call {clinic} to book or confirm: {phone}",
        "cal_soreness_text": "Some soreness and stiffness at the injection site is expected.",
        # Anticoagulants and antiplatelets: the reviewing physician's decisions
        "medicines_heading": "Blood thinners",
        "restart_on": "Restart {drug} on {date} unless told otherwise.",
        "restart_note": "Restart {drug} as your physician told you: {note}",
        "physician_note": "Your physician's instructions: {note}",
        "last_dose": "Your last dose of {drug} before the injection: {date}.",
        "keep_taking": "Keep taking {drug} as usual; it was not stopped for the injection.",
        "ask_before_restart": "If you stopped {drug} for the injection, ask the clinic before you restart it.",
        "ask_before_restart_any": (
            "If you stopped a blood thinner for the injection, ask the clinic before you restart it."
        ),
        "cal_restart": "Restart {drug}",
        "cal_restart_text": "Restart {drug} today unless told otherwise.",
    },
    "es": {
        "title": "Cuidados después de su inyección de PRP en la columna",
        "subtitle": "Inyección de plasma rico en plaquetas (PRP)",
        "patient": "Paciente",
        "injection_date": "Fecha de la inyección",
        "questions": "¿Tiene preguntas? Llame a {clinic} al {phone}.",
        "questions_no_phone": "¿Tiene preguntas? Llame a {clinic}.",
        "key_dates": "Fechas importantes",
        "key_dates_note": "Cada indicación se aplica hasta la fecha señalada, inclusive.",
        "soreness_through": "El dolor puede durar hasta el",
        "nsaid_through": "No tome AINE (ibuprofeno, naproxeno) hasta el",
        "driving_through": "No maneje hasta el",
        "soaking_through": "No use tina, piscina ni jacuzzi hasta el",
        "soreness_heading": "Qué esperar",
        "soreness_text": (
            "Es normal sentir algo de dolor y rigidez en el sitio de la inyección. Suelen ser más fuertes "
            "durante las primeras 48 a 72 horas y pueden durar hasta el {date}."
        ),
        "pain_heading": "Alivio del dolor: no tome AINE hasta el {date}",
        "cold_heat_heading": "Hielo o calor",
        "activity_heading": "Actividad",
        "driving_heading": "Manejar y bañarse",
        "driving_text": (
            "No maneje durante las 24 horas siguientes a la inyección; otra persona debe llevarle a su casa."
        ),
        "soaking_text": (
            "Durante 2 días, no se bañe en tina y no use piscinas ni jacuzzis (hasta el {date})."
        ),
        "help_heading": "Cuándo pedir ayuda",
        "clinic_group": "Llame a la clínica",
        "emergency_group": "Vaya a la sala de emergencias",
        "if_you_have": "si tiene:",
        "phone": "Teléfono de la clínica",
        "follow_ups_heading": "Consultas de seguimiento",
        "follow_up_after": "Tiempo después de la inyección",
        "follow_up_due": "Fecha",
        "follow_ups_note": "Llame a la clínica para programar o confirmar cada consulta.",
        # Calendar (.ics)
        "cal_name": "Cuidados después de la inyección – {clinic}",
        "cal_nsaid": "No tomar AINE (ibuprofeno, naproxeno)",
        "cal_soreness": "Posible dolor después de la inyección",
        "cal_follow_up": "Consulta de seguimiento ({label}) – {clinic}",
        "cal_follow_up_text": (
            "Le corresponde la consulta de seguimiento a las {label} de la inyección. "
            "Llame a {clinic} para programarla o confirmarla: {phone}"
        ),
        "cal_soreness_text": "Es normal sentir algo de dolor y rigidez en el sitio de la inyección.",
        # Anticoagulantes y antiplaquetarios: lo que decidió el médico
        "medicines_heading": "Medicamentos para diluir la sangre",
        "restart_on": "Vuelva a tomar {drug} el {date}, salvo que le indiquen otra cosa.",
        "restart_note": "Vuelva a tomar {drug} como le indicó su médico: {note}",
        "physician_note": "Indicaciones de su médico: {note}",
        "last_dose": "Su última dosis de {drug} antes de la inyección: {date}.",
        "keep_taking": "Siga tomando {drug} como de costumbre; no se suspendió para la inyección.",
        "ask_before_restart": (
            "Si dejó de tomar {drug} para la inyección, consulte a la clínica antes de volver a tomarlo."
        ),
        "ask_before_restart_any": (
            "Si dejó de tomar un medicamento para diluir la sangre para la inyección, consulte a la clínica "
            "antes de volver a tomarlo."
        ),
        "cal_restart": "Volver a tomar {drug}",
        "cal_restart_text": "Vuelva a tomar {drug} hoy, salvo que le indiquen otra cosa.",
    },
}
assert set(UI["en"]) == set(UI["es"])


def questions_line(clinic, lang: str) -> str:
    ui = UI[lang]
    if clinic.phone:
        return ui["questions"].format(clinic=clinic.name, phone=clinic.phone)
    return ui["questions_no_phone"].format(clinic=clinic.name)


def medicine_lines(decisions: Sequence[HoldDecision], pending: Sequence[Antithrombotic], lang: str) -> list[str]:
    """What the handout says about blood thinners: the physician's decision for each, or ask before restarting.

    ``decisions`` are the reviewing physician's; ``pending`` the antithrombotics the screening found with no
    decision recorded. With neither, one general line: never an empty section.
    """
    ui = UI[lang]
    lines: list[str] = []
    for decision in decisions:
        drug = decision.drug.name
        if decision.action == CONTINUE:
            lines.append(ui["keep_taking"].format(drug=drug))
            continue
        if decision.restart_on is not None:
            line = ui["restart_on"].format(drug=drug, date=format_date(decision.restart_on, lang))
            if decision.restart_note:
                line += " " + ui["physician_note"].format(note=decision.restart_note)
        else:
            line = ui["restart_note"].format(drug=drug, note=decision.restart_note)
        lines.append(line)
        if decision.last_dose is not None:
            lines.append(ui["last_dose"].format(drug=drug, date=format_date(decision.last_dose, lang)))
    decided = {d.drug.generic for d in decisions}
    lines.extend(ui["ask_before_restart"].format(drug=d.name) for d in pending if d.generic not in decided)
    return lines or [ui["ask_before_restart_any"]]


def handout(plan: AftercarePlan, lang: str, clinic, decisions: Sequence[HoldDecision] = (),
            pending: Sequence[Antithrombotic] = ()) -> dict[str, Any]:
    """Everything the handout templates show, in ``lang``, as plain strings."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown handout language {lang!r}")
    ui = UI[lang]
    data = plan.to_dict()

    def date(day: _dt.date) -> str:
        return format_date(day, lang)

    activity = data["activity_guidance"]
    if activity["code"] == ACTIVITY_GUIDANCE_CUSTOM_CODE:
        activity_text = activity["text"]
    else:
        activity_text = code_text(activity["code"], activity["text"], lang)

    groups = []
    for call in ("clinic", "emergency"):
        signs = [s for s in data["warning_signs"] if s["call"] == call]
        if not signs:
            continue
        groups.append({
            "call": call,
            "heading": ui[f"{call}_group"],
            "signs": [code_text(s["code"], s["text"], lang) for s in signs],
            "call_text": code_text(f"call_{call}", signs[0]["call_text"], lang),
        })

    return {
        "lang": lang,
        "ui": ui,
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "questions": questions_line(clinic, lang),
        "procedure_date": date(plan.procedure_date),
        "key_dates": [
            (ui["soreness_through"], date(plan.soreness_expected_through)),
            (ui["nsaid_through"], date(plan.nsaid_avoid_through)),
            (ui["driving_through"], date(plan.no_driving_through)),
            (ui["soaking_through"], date(plan.no_soaking_through)),
        ],
        "soreness_text": ui["soreness_text"].format(date=date(plan.soreness_expected_through)),
        "pain_heading": ui["pain_heading"].format(date=date(plan.nsaid_avoid_through)),
        "pain_text": code_text(data["acetaminophen_alternative"]["code"], data["acetaminophen_alternative"]["text"],
                               lang),
        "cold_or_heat_text": code_text(data["cold_or_heat"]["code"], data["cold_or_heat"]["text"], lang),
        "activity_text": activity_text,
        "activity_is_custom": activity["code"] == ACTIVITY_GUIDANCE_CUSTOM_CODE,
        "driving_text": ui["driving_text"],
        "soaking_text": ui["soaking_text"].format(date=date(plan.no_soaking_through)),
        "warning_groups": groups,
        "medicine_lines": medicine_lines(decisions, pending, lang),
        "follow_ups": [
            {"key": f.key, "label": follow_up_label(f.key, lang), "due": date(f.due), "due_iso": f.due.isoformat()}
            for f in plan.follow_ups
        ],
    }
