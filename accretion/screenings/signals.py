"""What other parts of the portal hear from screening.

`screening_settled` is sent inside the transaction that decides or reviews a
screening, with `screening` (the patient's latest now) and `request`; a
receiver's writes commit or roll back with the decision. Outcomes listens to
stop and resume questionnaires of procedures planned for the patient.
"""

from django.dispatch import Signal

screening_settled = Signal()
