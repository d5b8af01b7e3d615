"""The consent document: rendered once per language, stored exactly as the patient read it."""

from dataclasses import dataclass

from django.template.loader import render_to_string

from accretion.consents import texts

STRUCTURAL = {
    "disc_herniation": {"en": "a disc herniation", "es": "una hernia de disco"},
    "spinal_stenosis": {"en": "spinal stenosis", "es": "estenosis espinal"},
}
ORDER = ["procedure", "benefits", "risks", "alternatives", "expectations", "cost", "refusal"]


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    html: str


def structural_diagnoses(screening) -> list[str]:
    """The structural diagnoses a screening flagged (STRUCTURAL_EXPECTATION), if any."""
    if screening is None or not any(f["code"] == "STRUCTURAL_EXPECTATION" for f in screening.findings):
        return []
    return [code for code in screening.intake.get("diagnoses", []) if code in STRUCTURAL]


def render(language: str, *, clinic, procedure, estimate, lines, structural: list[str]) -> list[Section]:
    join = " y " if language == "es" else " and "
    context = {
        "clinic": clinic,
        "procedure": procedure,
        "estimate": estimate,
        "lines": [
            {**line, "description": texts.pick(texts.ITEMS[line["code"]], language)} for line in lines
        ],
        "region": texts.pick(texts.REGIONS[procedure.region], language),
        "targets": join.join(texts.pick(texts.TARGETS[t], language) for t in procedure.targets),
        "structural": join.join(texts.pick(STRUCTURAL[code], language) for code in structural),
    }
    codes = [code for code in ORDER if code != "expectations" or structural]
    return [
        Section(code, texts.pick(texts.SECTION_TITLES[code], language),
                render_to_string(f"consents/{language}/{code}.html", context).strip())
        for code in codes
    ]


def as_html(language: str, sections: list[Section]) -> str:
    """The whole document as one HTML fragment: what is stored and hashed."""
    title = texts.pick(texts.UI["title"], language)
    body = "\n".join(f'<section data-section="{s.code}">\n<h2>{s.title}</h2>\n{s.html}\n</section>' for s in sections)
    return f'<article lang="{language}" data-version="{texts.DOCUMENT_VERSION[language]}">\n<h1>{title}</h1>\n{body}\n</article>'
