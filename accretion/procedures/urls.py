from django.urls import path

from accretion.procedures import protocol_views, schedule_views, views

app_name = "procedures"
urlpatterns = [
    path("patients/<int:patient_id>/procedures/new/", views.plan_procedure, name="plan"),
    path("procedures/<int:procedure_id>/", views.procedure_detail, name="detail"),
    path("procedures/<int:procedure_id>/team/", views.assign_team, name="assign"),
    path("procedures/<int:procedure_id>/timeout/", views.timeout, name="timeout"),
    path("procedures/<int:procedure_id>/preparation/", views.preparation, name="preparation"),
    path("procedures/<int:procedure_id>/injections/", views.injection, name="injection"),
    path("procedures/<int:procedure_id>/injections/<int:injection_id>/image/", views.injection_image,
         name="injection-image"),
    path("procedures/<int:procedure_id>/injections/<int:injection_id>/remove/", views.remove_injection,
         name="injection-remove"),
    path("procedures/<int:procedure_id>/complete/", views.complete, name="complete"),
    path("procedures/<int:procedure_id>/sign/", views.sign, name="sign"),
    path("procedures/<int:procedure_id>/addenda/", views.addendum, name="addendum"),
    path("procedures/<int:procedure_id>/cancel/", views.cancel, name="cancel"),
    path("schedule/week/", schedule_views.week, name="week"),
    path("schedule/day/print/", schedule_views.day_print, name="day-print"),
    path("clinic/procedure-protocol/", protocol_views.procedure_protocol, name="protocol"),
]
