from django.urls import path

from accretion.education import views

app_name = "education"
urlpatterns = [
    path("<slug:clinic_slug>/", views.page, name="page"),
]
