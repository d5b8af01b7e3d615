"""`accretion screen INTAKE.json`: screen one intake with the clinic's spine PRP rule set."""

from django.utils import timezone

from accretion.cli.base import ClinicalCommand, bad_input, wrap
from accretion.clinical.screening import Decision, decide, parse_intake


def render_text(decision: Decision) -> list[str]:
    """The decision as a readable list: decision, rule set, then one block per finding."""
    lines = [f"Decision: {decision.decision}", f"Ruleset:  {decision.ruleset}"]
    if not decision.findings:
        lines.append("Findings: none")
    else:
        lines.append(f"Findings: {len(decision.findings)}")
    for number, finding in enumerate(decision.findings, start=1):
        lines += [
            "",
            f"{number}. {finding.severity}: {finding.code}",
            wrap(finding.message, indent="   "),
            wrap(f"Source: {finding.source}", indent="   "),
        ]
    if decision.medications:
        lines += ["", "Medications as read:"]
        for reading in decision.medications:
            read_as = ", ".join(reading.ingredients) or "no drug identified"
            classes = f" [{', '.join(reading.classes)}]" if reading.classes else ""
            unread = f"; not read: {', '.join(reading.unread)}" if reading.unread else ""
            lines.append(wrap(f"{reading.entered!r}: {read_as}{classes}{unread}", indent="  ", first="- "))
    return lines


class Command(ClinicalCommand):
    help = (
        "Screen a patient's intake (a JSON file, or - for standard input) with the spine PRP "
        "rule set and print the decision and its findings as JSON. Exits 0 whatever the "
        "decision; bad input exits 2. Uses no database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "intake", metavar="INTAKE.json", help="The intake as a JSON object; - reads standard input."
        )
        parser.add_argument("--text", action="store_true", help="Print a readable list instead of JSON.")

    def handle(self, *args, intake, text, **options):
        data = self.read_json(intake)
        with bad_input():
            # Without a procedure_date, the intake is screened for today in the clinic's time zone.
            decision = decide(parse_intake(data, today=timezone.localdate()))
        if text:
            self.write_lines(render_text(decision))
        else:
            self.write_json(decision.to_dict())
