"""Template filters for how things are shown, built into every template (settings.TEMPLATES "builtins").

- ``{{ amount|money:estimate }}``: an amount in the currency of `estimate` (anything with `currency` and
  `clinic`, such as an Estimate or a PriceList), written in that clinic's locale: ``$1,540.00``. The
  argument may also be a currency code (then the default locale, en-US, is used).
- ``{{ user|staff_name }}``: "Dana Reyes" (the user name when no name is set); ``{{ user|staff_name:role }}``
  adds the role's words: "Dana Reyes (Nurse)".
- ``{{ role|role_label }}``: a role code in words ("prep_tech" -> "Preparation technician").
- ``{{ row.state|task_state }}``: a questionnaire task state in words ("not_open" -> "not open yet"), from
  outcomes.models.TASK_STATES.
"""

from django import template

from accretion import money as money_format
from accretion.clinics import people, roles

register = template.Library()


@register.filter
def money(amount, source):
    if isinstance(source, str):
        return money_format.format_money(amount, source)
    clinic = getattr(source, "clinic", None)
    return money_format.format_money(amount, source.currency, getattr(clinic, "locale", money_format.DEFAULT_LOCALE))


@register.filter
def staff_name(user, role=None):
    return people.staff_name(user or None, role)


@register.filter
def role_label(role):
    return roles.role_label(role)


@register.filter
def task_state(state):
    from accretion.outcomes.models import TASK_STATES

    return TASK_STATES.get(state, state)
