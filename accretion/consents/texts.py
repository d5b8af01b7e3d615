"""Patient-facing words of the consent, in English and Spanish, by stable code."""

DOCUMENT_VERSION = {"en": "2026.1", "es": "2026.1"}

SECTION_TITLES = {
    "procedure": {"en": "The procedure", "es": "El procedimiento"},
    "benefits": {"en": "Possible benefits and how certain they are", "es": "Posibles beneficios y qué tan seguros son"},
    "risks": {"en": "Risks", "es": "Riesgos"},
    "alternatives": {"en": "Alternatives", "es": "Alternativas"},
    "expectations": {"en": "What PRP cannot do for your diagnosis", "es": "Lo que el PRP no puede hacer en su diagnóstico"},
    "cost": {"en": "Cost and payment", "es": "Costo y pago"},
    "refusal": {"en": "Your right to refuse or stop", "es": "Su derecho a negarse o a cambiar de opinión"},
}

UI = {
    "title": {"en": "Consent to a platelet-rich plasma (PRP) spinal injection",
              "es": "Consentimiento para una inyección de plasma rico en plaquetas (PRP) en la columna"},
    "confirm": {"en": "I have read this section and my questions about it were answered.",
                "es": "He leído esta sección y me respondieron mis preguntas."},
    "typed_name": {"en": "Your full name", "es": "Su nombre completo"},
    "signature": {"en": "Sign here with your finger, a pen or the mouse",
                  "es": "Firme aquí con el dedo, un lápiz o el ratón"},
    "clear": {"en": "Clear signature", "es": "Borrar la firma"},
    "submit": {"en": "Sign consent", "es": "Firmar el consentimiento"},
    "education": {"en": "I was offered the clinic's patient information about PRP (version {version}).",
                  "es": "Me ofrecieron la información de la clínica sobre el PRP (versión {version})."},
    "signed_by": {"en": "Signed by", "es": "Firmado por"},
    "who_signs": {"en": "Who signs", "es": "Quién firma"},
    "signer_patient": {"en": "The patient", "es": "El paciente"},
    "signer_representative": {"en": "A legally authorised representative of the patient",
                              "es": "Un representante legalmente autorizado del paciente"},
    "representative_name": {"en": "Representative's full name", "es": "Nombre completo del representante"},
    "relationship": {"en": "Relationship to the patient", "es": "Relación con el paciente"},
    "relationship_other": {"en": "Relationship, in your words", "es": "Relación, en sus palabras"},
    "representative_note": {"en": "Only when a legally authorised representative signs for the patient:",
                            "es": "Solo cuando firma un representante legalmente autorizado en nombre del paciente:"},
    "representative_line": {
        "en": "Signed by {name}, {relationship}, legally authorised representative of {patient}",
        "es": "Firmado por {name}, {relationship}, representante legalmente autorizado de {patient}",
    },
    "explained_by": {"en": "Explained by", "es": "Explicado por"},
    "withdrawn": {"en": "WITHDRAWN", "es": "RETIRADO"},
    "withdrawal_reason": {"en": "Reason", "es": "Motivo"},
    "recorded_by": {"en": "Recorded by", "es": "Registrado por"},
}

# Why a signature was refused, in the consent's language (the form shows every one at once).
ERRORS = {
    "sections": {"en": "Please confirm every section: {items}.", "es": "Confirme cada sección: {items}."},
    "section": {"en": "Please confirm this section.", "es": "Confirme esta sección."},
    "sign_here": {"en": "Please sign in the box.", "es": "Firme en el recuadro."},
    "unreadable": {"en": "The signature could not be read; clear it and sign again.",
                   "es": "No se pudo leer la firma; bórrela y firme de nuevo."},
    "typed_name_required": {"en": "This field is required: the patient types their full name.",
                            "es": "Este campo es obligatorio: escriba su nombre completo."},
    "typed_name_mismatch": {
        "en": "The typed name must match the patient's name as registered: {name}. If someone else signs for the "
              "patient, choose legally authorised representative.",
        "es": "El nombre escrito debe coincidir con el nombre registrado del paciente: {name}. Si otra persona "
              "firma por el paciente, elija representante legalmente autorizado."},
    "representative_name": {"en": "Give the representative's full name.",
                            "es": "Escriba el nombre completo del representante."},
    "representative_relationship": {"en": "Choose the representative's relationship to the patient.",
                                    "es": "Elija la relación del representante con el paciente."},
    "representative_relationship_other": {"en": "Say how the representative is related to the patient.",
                                          "es": "Diga qué relación tiene el representante con el paciente."},
    "signed_by": {"en": "Choose who signs: the patient or a legally authorised representative.",
                  "es": "Elija quién firma: el paciente o un representante legalmente autorizado."},
    "summary": {"en": "Please correct the following before signing:", "es": "Corrija lo siguiente antes de firmar:"},
}


def error(key: str, language: str, **values) -> str:
    return pick(ERRORS[key], language).format(**values)


# How a legally authorised representative is related to the patient, as it reads inside a sentence
# ("Signed by Ann Quinlan, legal guardian, ..."): lower case; lists capitalise the first letter.
RELATIONSHIPS = {
    "parent": {"en": "parent", "es": "padre o madre"},
    "legal_guardian": {"en": "legal guardian", "es": "tutor legal"},
    "spouse_partner": {"en": "spouse or partner", "es": "cónyuge o pareja"},
    "health_care_poa": {"en": "health-care power of attorney", "es": "apoderado para decisiones de salud"},
    "other": {"en": "other", "es": "otra"},
}

REGIONS = {"cervical": {"en": "neck (cervical spine)", "es": "cuello (columna cervical)"},
           "thoracic": {"en": "mid-back (thoracic spine)", "es": "espalda media (columna torácica)"},
           "lumbar": {"en": "lower back (lumbar spine)", "es": "espalda baja (columna lumbar)"}}

TARGETS = {
    "facet_joint": {"en": "facet joints", "es": "articulaciones facetarias"},
    "interspinous_ligament": {"en": "interspinous ligaments", "es": "ligamentos interespinosos"},
    "paraspinal_muscle": {"en": "paraspinal muscles", "es": "músculos paravertebrales"},
    "thoracolumbar_fascia": {"en": "thoracolumbar fascia", "es": "fascia toracolumbar"},
    "epidural": {"en": "epidural space (investigational)", "es": "espacio epidural (en investigación)"},
    "intradiscal": {"en": "intervertebral disc (investigational)", "es": "disco intervertebral (en investigación)"},
}

ITEMS = {
    "consultation": {"en": "Consultation", "es": "Consulta"},
    "prp_kit": {"en": "PRP preparation, per kit", "es": "Preparación de PRP, por kit"},
    "injection_target": {"en": "Injection, per target", "es": "Inyección, por sitio"},
    "additional_level": {"en": "Each additional spinal level", "es": "Cada nivel vertebral adicional"},
    "image_guidance": {"en": "Image guidance (fluoroscopy or ultrasound)", "es": "Guía por imagen (fluoroscopia o ultrasonido)"},
    "follow_up_visit": {"en": "Follow-up visit", "es": "Visita de seguimiento"},
}


def pick(table: dict, language: str) -> str:
    return table.get(language) or table["en"]


def representative_line(language: str, *, name: str, relationship: str, other: str, patient: str) -> str:
    """'Signed by Ann Quinlan, legal guardian, legally authorised representative of Margaret Quinlan'."""
    said = other.strip() if relationship == "other" else pick(RELATIONSHIPS[relationship], language)
    return pick(UI["representative_line"], language).format(name=name, relationship=said, patient=patient)
