from rest_framework import serializers

from .models import Task


class TaskSerializer(serializers.ModelSerializer):
    team = serializers.IntegerField(min_value=1, max_value=1_000_000)

    class Meta:
        model = Task
        fields = ["id", "title", "team", "done"]
