"""The week's schedule and the printable day list.

Both read their procedures in a fixed number of queries and audit the
patients they name as one list read, as Today does. A bad `start`, `date` or
`by` shows the page for the default (this week, today, by time or by room)
with a message saying what was wrong: never an error page.
"""

from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accretion.audit.log import Action, record
from accretion.clinical.schedule import week_start
from accretion.clinics.tenancy import clinic_objects, requires
from accretion.procedures import schedule
from accretion.procedures.models import Procedure

WEEK_SHOWN = 400  # procedures a week page lists; more are counted
DAY_LIST_SHOWN = 300  # rows of a printed day list; more are counted
WEEK_VIEWS = {"room": "by room", "physician": "by physician"}


def _audit(request, object_type, rows, **details):
    ids = sorted({row.patient_id for row in rows})
    if ids:
        record(request, Action.LIST, object_type=object_type, ids=ids, **details)


@require_GET
@requires("patient.view")
def week(request):
    today = timezone.localdate()
    start, date_message = schedule.parse_day(request.GET.get("start"), today)
    by = request.GET.get("by") or "room"
    by_message = ""
    if by not in WEEK_VIEWS:
        by_message, by = f"There is no view “{by[:40]}”: shown by room.", "room"
    monday = week_start(start)
    days, total, rows = schedule.week(clinic_objects(request, Procedure), monday, by, request.clinic.rooms,
                                      WEEK_SHOWN)
    _audit(request, "procedures.schedule.week", rows, week=f"{monday:%Y-%m-%d}")
    context = {"days": days, "monday": monday, "sunday": monday + timedelta(days=6), "total": total,
               "more": total - len(rows), "by": by, "views": WEEK_VIEWS, "messages_": [date_message, by_message],
               "previous": monday - timedelta(days=7), "next": monday + timedelta(days=7), "today": today,
               "this_week": week_start(today)}
    return render(request, "procedures/week.html", context)


@require_GET
@requires("patient.view")
def day_print(request):
    today = timezone.localdate()
    on, date_message = schedule.parse_day(request.GET.get("date"), today)
    by, by_message = schedule.parse_view(request.GET.get("by"))
    procedures = schedule.day(clinic_objects(request, Procedure), on)
    rows = list(procedures[:DAY_LIST_SHOWN])
    total = len(rows) if len(rows) < DAY_LIST_SHOWN else procedures.count()
    schedule.mark_overlaps(rows)
    _audit(request, "procedures.schedule.day", rows, day=f"{on:%Y-%m-%d}")
    context = {"day": on, "groups": schedule.group(rows, by, request.clinic.rooms), "total": total,
               "more": total - len(rows), "by": by, "views": schedule.VIEWS,
               "messages_": [date_message, by_message], "printed_at": timezone.localtime()}
    return render(request, "procedures/day_print.html", context)
