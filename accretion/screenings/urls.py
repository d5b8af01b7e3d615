from django.urls import path

from accretion.screenings import views

app_name = "screenings"
urlpatterns = [
    path("patients/<int:patient_id>/screenings/new/", views.screening_new, name="new"),
    path("screenings/<int:screening_id>/", views.screening_detail, name="detail"),
    path("screenings/<int:screening_id>/edit/", views.screening_edit, name="edit"),
    path("screenings/<int:screening_id>/review/", views.screening_review, name="review"),
    path("screenings/rules/", views.rule_catalog, name="catalog"),
    path("clinic/screening-protocol/", views.clinic_protocol, name="protocol"),
]
