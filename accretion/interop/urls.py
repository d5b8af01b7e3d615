from django.urls import path

from accretion.interop import views

app_name = "fhir"
urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_search, name="patient-search"),
    path("Patient/<str:patient_id>", views.patient_read, name="patient"),
    path("Procedure", views.procedure_search, name="procedure-search"),
    path("Procedure/<str:procedure_id>", views.procedure_read, name="procedure"),
    path("Organization/<str:organization_id>", views.organization_read, name="organization"),
]
