from django.http import HttpResponse
from django.urls import path

app_name = "orders"


def _placeholder(request, *args, **kwargs):
    return HttpResponse("OrderDesk")


urlpatterns = [
    path("", _placeholder, name="dashboard"),
    path("orders/<int:pk>/", _placeholder, name="detail"),
]
