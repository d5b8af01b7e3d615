"""What a patient who reports a red flag must do now, in the patient's language.

Shown on the thank-you page of the patient's link and to staff who enter the
answers from a call (they read it to the patient). The rules are
accretion.clinical.red_flags; the words follow the published post-procedure
instructions of clinical reference §8 ("When to call / ER").
"""

from accretion.clinical.red_flags import EMERGENCY, Assessment

# The signs as the patient reported them, in plain words (the questions of safety.<language>.json).
SIGNS = {
    "fever": {"en": "a fever above 38.3 °C (101 °F) or shaking chills",
              "es": "fiebre de más de 38.3 °C (101 °F) o escalofríos con temblores"},
    "infection_signs": {"en": "redness that spreads, swelling that keeps getting worse, or fluid draining from the "
                              "injection site",
                        "es": "enrojecimiento que se extiende, hinchazón que sigue empeorando, o líquido que sale "
                              "del sitio de la inyección"},
    "new_weakness_numbness": {"en": "new weakness or numbness in an arm or a leg",
                              "es": "debilidad o adormecimiento nuevos en un brazo o una pierna"},
    "bowel_bladder_change": {"en": "a new problem controlling your bladder or bowels, or not being able to pass urine",
                             "es": "un problema nuevo para controlar la orina o las evacuaciones, o no poder orinar"},
}

WORDS = {
    "heading": {"en": "Please act now", "es": "Actúe ahora"},
    "told_us": {"en": "You told us about: {signs}.", "es": "Usted nos dijo que tiene: {signs}."},
    "and": {"en": "and", "es": "y"},
    # New weakness or numbness, loss of bowel or bladder control -> emergency department (clinical reference §8:
    # phillysmartpain.com, hospital.uillinois.edu, sw.org; inability to urinate: firststatespine.com).
    "emergency": {"en": "Go to an emergency department now (or call 911). Do not wait for the clinic to call you.",
                  "es": "Vaya ahora mismo a una sala de emergencias (o llame al 911). No espere a que la clínica "
                        "le llame."},
    "emergency_why": {"en": "After a spinal injection, these can be signs that something is pressing on the nerves "
                            "in your spine, such as bleeding or an infection. A doctor needs to check you right away "
                            "to protect your legs, bladder and bowels.",
                      "es": "Después de una inyección en la columna, esto puede ser señal de que algo presiona los "
                            "nervios de la columna, como un sangrado o una infección. Un médico tiene que revisarle "
                            "de inmediato para proteger sus piernas, la orina y las evacuaciones."},
    "emergency_call": {"en": "Then call {clinic} to tell them: {phone}.",
                       "es": "Después llame a {clinic} para avisarles: {phone}."},
    "emergency_call_no_phone": {"en": "Then call {clinic} to tell them.",
                                "es": "Después llame a {clinic} para avisarles."},
    # Fever above 101 °F, chills, spreading redness, drainage, worsening swelling -> call the clinic (clinical
    # reference §8: jeffreypengmd.com, orthopedicspecialistsofseattle.com, phillysmartpain.com).
    "call": {"en": "Call {clinic} now: {phone}.", "es": "Llame ahora a {clinic}: {phone}."},
    "call_no_phone": {"en": "Call {clinic} now. If you do not have the number or cannot reach the clinic, go to an "
                            "urgent care center or an emergency department today.",
                      "es": "Llame ahora a {clinic}. Si no tiene el número o no logra comunicarse con la clínica, "
                            "vaya hoy a un centro de atención de urgencias o a una sala de emergencias."},
    "call_why": {"en": "After an injection, these can be signs of an infection, which needs to be checked today.",
                 "es": "Después de una inyección, esto puede ser señal de una infección, que hay que revisar hoy."},
    "call_unreachable": {"en": "If you cannot reach the clinic, go to an urgent care center or an emergency "
                               "department today.",
                         "es": "Si no logra comunicarse con la clínica, vaya hoy a un centro de atención de urgencias "
                               "o a una sala de emergencias."},
    # Leg weakness, bowel or urinary change, neck stiffness -> ER (hospital.uillinois.edu); severe headache
    # (firststatespine.com): clinical reference §8.
    "call_worse": {"en": "Go to an emergency department now if you also get new weakness or numbness, a problem "
                         "controlling your bladder or bowels, a severe headache or a stiff neck.",
                   "es": "Vaya ahora mismo a una sala de emergencias si además tiene debilidad o adormecimiento "
                         "nuevos, un problema para controlar la orina o las evacuaciones, un dolor de cabeza fuerte o "
                         "el cuello rígido."},
    "your_clinic": {"en": "your clinic", "es": "su clínica"},
    "call_911": {"en": "Call 911", "es": "Llamar al 911"},
    "call_button": {"en": "Call the clinic:", "es": "Llamar a la clínica:"},
}


def _w(key: str, language: str, **values) -> str:
    return WORDS[key][language].format(**values)


def _signs(flags, language: str) -> str:
    words = [SIGNS[flag][language] for flag in flags]
    if len(words) <= 1:
        return "".join(words)
    return f"{'; '.join(words[:-1])}; {_w('and', language)} {words[-1]}"


def advice(assessment: Assessment, clinic, language: str) -> dict | None:
    """{"urgency", "heading", "paragraphs"} for a patient with red flags; None without one.

    `clinic` needs `name` and `phone`; without a phone the patient is never shown an empty number.
    """
    if not assessment:
        return None
    language = language if language in ("en", "es") else "en"
    name = (getattr(clinic, "name", "") or "").strip() or _w("your_clinic", language)
    phone = (getattr(clinic, "phone", "") or "").strip()
    told = _w("told_us", language, signs=_signs(assessment.flags, language))
    if assessment.urgency == EMERGENCY:
        call = (_w("emergency_call", language, clinic=name, phone=phone) if phone
                else _w("emergency_call_no_phone", language, clinic=name))
        paragraphs = [_w("emergency", language), told, _w("emergency_why", language), call]
    else:
        call = (_w("call", language, clinic=name, phone=phone) if phone
                else _w("call_no_phone", language, clinic=name))
        paragraphs = [call, told, _w("call_why", language)]
        if phone:
            paragraphs.append(_w("call_unreachable", language))
        paragraphs.append(_w("call_worse", language))
    return {"urgency": assessment.urgency, "heading": _w("heading", language), "paragraphs": paragraphs,
            "phone": phone, "call_911": _w("call_911", language),
            "call_button": _w("call_button", language)}
