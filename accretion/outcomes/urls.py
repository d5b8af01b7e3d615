from django.urls import path

from accretion.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("f/<str:token>/", views.patient_form, name="patient-form"),
    path("outcomes/tasks/<int:task_id>/", views.staff_entry, name="staff-entry"),
    path("outcomes/worklist/", views.worklist, name="worklist"),
]
