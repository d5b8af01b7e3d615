from django.urls import path

from accretion.recall import views

app_name = "recall"
urlpatterns = [
    path("practice/recall/", views.recall_page, name="lot"),
    path("practice/recall/quarantine/", views.quarantine, name="quarantine"),
]
