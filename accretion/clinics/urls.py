from django.contrib.auth import views as auth_views
from django.urls import path

from accretion.clinics import password_views, two_factor, views
from accretion.clinics.settings_views import clinic_settings

urlpatterns = [
    path("accounts/login/", two_factor.SignIn.as_view(), name="login"),
    path("accounts/two-factor/", two_factor.setup, name="two-factor"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two-factor-verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", password_views.PasswordChange.as_view(), name="password-change"),
    path("accounts/password-reset/", password_views.PasswordReset.as_view(), name="password-reset"),
    path("accounts/password-reset/sent/",
         auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_sent.html"),
         name="password-reset-sent"),
    path("accounts/reset/<uidb64>/<token>/", password_views.PasswordResetConfirm.as_view(),
         name="password-reset-confirm"),
    path("accounts/reset/done/",
         auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
         name="password-reset-complete"),
    path("clinic/switch/", views.switch_clinic, name="switch-clinic"),
    path("clinic/", clinic_settings, name="clinic-settings"),
    path("members/", views.member_list, name="members"),
    path("members/<int:membership_id>/", views.member_change, name="member-change"),
    path("members/<int:membership_id>/unlock/", views.member_unlock, name="member-unlock"),
]
