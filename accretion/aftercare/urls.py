from django.urls import path

from accretion.aftercare import views

app_name = "aftercare"
urlpatterns = [
    path("procedures/<int:procedure_id>/aftercare/", views.handout_page, name="handout"),
    path("procedures/<int:procedure_id>/aftercare.pdf", views.handout_pdf, name="pdf"),
    path("procedures/<int:procedure_id>/aftercare.ics", views.handout_ics, name="ics"),
    path("clinic/aftercare-settings/", views.clinic_settings, name="settings"),
]
