"""Feedback's forms on the order page, under `/orders/<id>/` in the `orders` URL namespace (mounted by
`orderdesk/urls.py`). The customer's questionnaire (`/survey/<token>/`) is mounted there too, outside it."""

from django.urls import path

from feedback import views

urlpatterns = [
    path("orders/<int:pk>/complaints/", views.complaint_add, name="complaint_add"),
    path("orders/<int:pk>/complaints/<int:item>/", views.complaint_handle, name="complaint_handle"),
    path("orders/<int:pk>/followups/", views.followup_add, name="followup_add"),
]

#: the customer's side of the tracking page (no account; mounted beside ``/track/<token>/`` by the root URLconf)
track_urlpatterns = [
    path("track/<str:token>/complaint/", views.track_complaint, name="track_complaint"),
    path("track/<str:token>/receipt/", views.track_receipt, name="track_receipt"),
]
