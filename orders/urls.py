from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.order_list, name="list"),
    path("orders/new/", views.order_create, name="create"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
    path("orders/<int:pk>/transitions/<str:name>/", views.order_transition, name="transition"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
