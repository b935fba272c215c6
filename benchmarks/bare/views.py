import uuid

from rest_framework import serializers, viewsets

from benchmarks.bare.models import BenchOrder


class BenchOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = BenchOrder
        fields = "__all__"
        read_only_fields = ("number", "owner", "created_at", "updated_at")


class BenchOrderViewSet(viewsets.ModelViewSet):
    serializer_class = BenchOrderSerializer

    def get_queryset(self):
        return BenchOrder.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user, number=uuid.uuid4().hex[:20])
