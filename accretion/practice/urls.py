from django.urls import path

from accretion.practice import views

app_name = "practice"
urlpatterns = [
    path("practice/training/", views.training, name="training"),
    path("practice/training/record/", views.training_record, name="training-record"),
    path("practice/training/modules/", views.training_module_add, name="module-add"),
    path("practice/equipment/", views.equipment, name="equipment"),
    path("practice/equipment/add/", views.equipment_add, name="equipment-add"),
    path("practice/equipment/<int:equipment_id>/", views.equipment_edit, name="equipment-edit"),
    path("practice/kits/", views.kits, name="kits"),
    path("practice/kits/receive/", views.kit_receive, name="kit-receive"),
    path("practice/kits/<int:kit_lot_id>/", views.kit_adjust, name="kit-adjust"),
    path("practice/kits/<int:kit_lot_id>/release/", views.kit_release, name="kit-release"),
]
