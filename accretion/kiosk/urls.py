from django.urls import path

from accretion.kiosk import views

app_name = "patient-mode"
urlpatterns = [
    # Staff pages (closed in patient mode like any other): hand the screen to the patient for one task.
    path("procedures/<int:procedure_id>/hand-to-patient/", views.start_consent, name="consent"),
    path("outcomes/tasks/<int:task_id>/hand-to-patient/", views.start_questionnaire, name="questionnaire"),
    # The patient screen: the only pages open in patient mode.
    path("patient-mode/", views.screen, name="screen"),
    path("patient-mode/return/", views.leave, name="return"),
]
