"""`accretion aftercare --procedure-date YYYY-MM-DD`: the aftercare plan after a PRP spine injection."""

from typing import Any

from accretion.cli.base import ClinicalCommand, bad_input, wrap
from accretion.clinical.aftercare import (
    DEFAULT_PROTOCOL,
    NSAID_DAYS_MAX,
    NSAID_DAYS_MIN,
    AftercareProtocol,
    parse_follow_up_key,
    plan,
)

KEY_DATES = (
    ("soreness_expected_through", "Soreness may last through"),
    ("nsaid_avoid_through", "No NSAIDs (ibuprofen, naproxen) through"),
    ("no_driving_through", "No driving through"),
    ("no_soaking_through", "No baths, pools or hot tubs through"),
)


def follow_up_label(key: str) -> str:
    """``"2w"`` -> ``"2 weeks"``, ``"1m"`` -> ``"1 month"``."""
    n, unit = parse_follow_up_key(key)
    word = "week" if unit == "w" else "month"
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(data: dict[str, Any]) -> list[str]:
    """The plan (``AftercarePlan.to_dict()``) as readable text."""
    width = max(len(label) for _, label in KEY_DATES)
    lines = [
        f"Aftercare plan for a procedure on {data['procedure_date']}",
        "",
        "Key dates (each applies up to and including the date shown):",
        *(f"  {label.ljust(width)}  {data[key]}" for key, label in KEY_DATES),
        "",
        f"Pain relief (no NSAIDs through {data['nsaid_avoid_through']}):",
        wrap(data["acetaminophen_alternative"]["text"], indent="  "),
        "",
        "Ice or heat:",
        wrap(data["cold_or_heat"]["text"], indent="  "),
        "",
        "Activity:",
        wrap(data["activity_guidance"]["text"], indent="  "),
        "",
        "Warning signs:",
    ]
    for sign in data["warning_signs"]:
        lines.append(wrap(sign["text"], indent="    ", first="  - "))
        lines.append(wrap(sign["call_text"], indent="    "))
    labels = [follow_up_label(f["key"]) for f in data["follow_ups"]]
    width = max(len(label) for label in labels)
    lines += ["", "Follow-up visits:"]
    lines += [f"  {label.ljust(width)}  due {f['due']}" for label, f in zip(labels, data["follow_ups"])]
    return lines


class Command(ClinicalCommand):
    help = (
        "Print the aftercare plan for a PRP spine injection: key dates, pain relief, ice or "
        "heat, activity, warning signs and follow-up visits with their due dates. Readable "
        "text, or JSON with --json. Bad input exits 2. Uses no database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--procedure-date", required=True, metavar="YYYY-MM-DD", help="The day of the injection."
        )
        parser.add_argument(
            "--nsaid-days",
            type=int,
            metavar="N",
            help=(
                f"Days after the procedure to avoid NSAIDs, {NSAID_DAYS_MIN} to {NSAID_DAYS_MAX} "
                f"(default {DEFAULT_PROTOCOL.nsaid_days})."
            ),
        )
        parser.add_argument("--json", action="store_true", help="Print the plan as JSON.")

    def handle(self, *args, procedure_date, nsaid_days, json, **options):
        with bad_input(rename={"procedure_date": "--procedure-date", "nsaid_days": "--nsaid-days"}):
            protocol = DEFAULT_PROTOCOL if nsaid_days is None else AftercareProtocol(nsaid_days=nsaid_days)
            data = plan(procedure_date, protocol).to_dict()
        if json:
            self.write_json(data)
        else:
            self.write_lines(render_text(data))
