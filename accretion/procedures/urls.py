from django.urls import path

from accretion.procedures import views

app_name = "procedures"
urlpatterns = [
    path("patients/<int:patient_id>/procedures/new/", views.plan_procedure, name="plan"),
    path("procedures/<int:procedure_id>/", views.procedure_detail, name="detail"),
]
