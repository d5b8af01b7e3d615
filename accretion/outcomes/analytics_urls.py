from django.urls import path

app_name = "outcomes_analytics"
urlpatterns: list = []
