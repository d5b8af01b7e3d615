"""`accretion preparation PREP.json`: derived values and classification codes of a PRP preparation."""

from accretion.cli.base import ClinicalCommand, bad_input
from accretion.clinical.preparation import derive, parse_preparation


class Command(ClinicalCommand):
    help = (
        "Read a PRP preparation record (a JSON file, or - for standard input; counts in "
        "10^3/uL, volumes in mL) and print its derived values as JSON: concentration "
        "factor, dose, recovery, leukocytes, PAW and Mishra codes. Bad input exits 2. "
        "Uses no database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "preparation", metavar="PREP.json", help="The preparation record as a JSON object; - reads standard input."
        )

    def handle(self, *args, preparation, **options):
        data = self.read_json(preparation)
        with bad_input():
            derived = derive(parse_preparation(data))
        self.write_json(derived.to_dict())
