from django.contrib.auth import views as auth_views
from django.urls import path

from accretion.clinics import views
from accretion.clinics.settings_views import clinic_settings

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clinic/switch/", views.switch_clinic, name="switch-clinic"),
    path("clinic/", clinic_settings, name="clinic-settings"),
    path("members/", views.member_list, name="members"),
    path("members/<int:membership_id>/", views.member_change, name="member-change"),
]
