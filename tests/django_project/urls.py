from __future__ import annotations

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", views.health),
    path("session/form", views.session_form),
    path("api/me", views.me),
    path("api/async-me", views.async_me),
    path("api/orders", views.create_order),
    path("api/countdown", views.countdown),
    path("api/reports/q3", views.me),
    path("drf/me", views.DRFMe.as_view()),
    path("drf/orders", views.DRFOrders.as_view()),
    path("drf/public", views.DRFPublic.as_view()),
]
