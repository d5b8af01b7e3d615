from django.urls import path

from accretion.adverse_events import views

app_name = "adverse_events"
urlpatterns = [
    path("patients/<int:patient_id>/adverse-events/new/", views.event_new, name="new"),
    path("adverse-events/", views.event_list, name="list"),
    path("adverse-events/<int:event_id>/", views.event_detail, name="detail"),
    path("adverse-events/<int:event_id>/judge/", views.event_judge, name="judge"),
]
