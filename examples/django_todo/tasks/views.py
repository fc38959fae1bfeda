from rest_framework import generics
from rest_framework.exceptions import ValidationError

import snorky.backend.django.rest_framework as snorky

from .models import Task
from .serializers import TaskSerializer


class TaskList(snorky.ListSubscribeCreateAPIView):
    """GET /api/tasks/?team=T&done=true|false|any (with X-Snorky: Subscribe
    for a live view), POST /api/tasks/ {title, team}."""

    serializer_class = TaskSerializer
    dealer = "tasks"  # a filter dealer (snorky.toml)

    def view(self):
        params = self.request.query_params
        try:
            team = int(params.get("team", ""))
        except ValueError:
            raise ValidationError({"team": "an integer"})
        done = {"true": True, "false": False, "any": None}.get(params.get("done", "any"), "bad")
        if done == "bad":
            raise ValidationError({"done": "true, false or any"})
        return team, done

    def get_queryset(self):
        team, done = self.view()
        rows = Task.objects.filter(team=team).order_by("id")
        return rows if done is None else rows.filter(done=done)

    def get_dealer_query(self):
        # The same condition as get_queryset(), as a Snorky filter.
        team, done = self.view()
        query = ["==", "team", team]
        return query if done is None else ["and", query, ["==", "done", done]]


class TaskDetail(generics.RetrieveUpdateDestroyAPIView):
    """GET, PATCH, DELETE /api/tasks/<id>/."""

    queryset = Task.objects.all()
    serializer_class = TaskSerializer
