from django.urls import path

from accretion.outcomes import analytics_views as views
from accretion.outcomes.thresholds_views import responder_thresholds

app_name = "outcomes_analytics"
urlpatterns = [
    path("outcomes/", views.outcomes, name="page"),
    path("outcomes/report.pdf", views.report_pdf, name="report-pdf"),
    path("outcomes/export.csv", views.export_csv, name="export-csv"),
    path("outcomes/data-dictionary/", views.data_dictionary, name="data-dictionary"),
    path("clinic/responder-thresholds/", responder_thresholds, name="thresholds"),
]
