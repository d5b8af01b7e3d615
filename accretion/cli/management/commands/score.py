"""`accretion score odi|ndi FILE.json` and `accretion score change odi|ndi|nrs --baseline B --followup F`."""

from accretion.cli.base import ClinicalCommand, add_subcommands, bad_input, invalid
from accretion.clinical.instruments import change, parse_answers_file, score_ndi, score_odi

SCORERS = {"odi": score_odi, "ndi": score_ndi}
TITLES = {"odi": "Oswestry Disability Index (low back)", "ndi": "Neck Disability Index"}


def number(text: str, option: str) -> int | float:
    """A number typed on the command line, as JSON would give it: int if whole, else float."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        shown = repr(text) if len(text) <= 40 else repr(text[:37]) + "..."
        raise invalid(f"{option}: must be a number, got {shown}") from None


class Command(ClinicalCommand):
    help = (
        "Score an outcome questionnaire (odi, ndi) from a JSON file holding "
        '{"answers": [10 values, each 0-5 or null]}, or work out the change from baseline '
        "and responder status (change odi|ndi|nrs). Prints JSON. Bad input exits 2. "
        "Uses no database."
    )

    def add_arguments(self, parser):
        sub = add_subcommands(parser, dest="action", required=True, metavar="{odi,ndi,change}")
        for name, title in TITLES.items():
            scorer = sub.add_parser(
                name,
                help=f"Score the {title}; two or more unanswered sections give no score.",
                description=f"Score the {title} from a JSON file holding "
                '{"answers": [10 values, each 0-5 or null]}.',
            )
            scorer.add_argument("file", metavar="FILE.json", help="The answers file; - reads standard input.")
        changer = sub.add_parser(
            "change",
            help="Change from baseline (improvement is positive) and responder status.",
            description="Change from baseline and responder status: ODI and NDI as 0-100 %, NRS as 0-10.",
        )
        changer.add_argument("instrument", choices=("odi", "ndi", "nrs"), help="The instrument of both scores.")
        changer.add_argument("--baseline", required=True, metavar="B", help="Score before the procedure.")
        changer.add_argument("--followup", required=True, metavar="F", help="Score at follow-up.")

    def handle(self, *args, action, **options):
        if action == "change":
            baseline = number(options["baseline"], "--baseline")
            followup = number(options["followup"], "--followup")
            with bad_input(rename={"baseline": "--baseline", "followup": "--followup"}):
                result = change(options["instrument"], baseline, followup)
        else:
            data = self.read_json(options["file"])
            with bad_input():
                result = SCORERS[action](parse_answers_file(data))
        self.write_json(result.to_dict())
