from django.urls import path

from accretion.consents import views

app_name = "consents"
urlpatterns = [
    path("clinic/prices/", views.price_list, name="prices"),
    path("procedures/<int:procedure_id>/estimate/", views.estimate_new, name="estimate"),
    path("procedures/<int:procedure_id>/consent/", views.consent_sign, name="sign"),
    path("consents/<int:consent_id>/", views.consent_detail, name="detail"),
    path("consents/<int:consent_id>/consent.pdf", views.consent_pdf, name="pdf"),
    path("consents/<int:consent_id>/email/", views.consent_email, name="email"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw, name="withdraw"),
]
