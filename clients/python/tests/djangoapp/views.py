from rest_framework import generics

import snorky.backend.django.rest_framework as snorky

from .models import Task
from .serializers import TaskSerializer


class TaskList(snorky.ListSubscribeCreateAPIView):
    """GET /tasks/?team=T[&done=true|false]: the filter in SQL and, the same, for Snorky."""

    serializer_class = TaskSerializer
    dealer = "tasks"

    def filters(self):
        team = int(self.request.query_params["team"])
        done = self.request.query_params.get("done")
        return team, None if done is None else done == "true"

    def get_queryset(self):
        team, done = self.filters()
        rows = Task.objects.filter(team_id=team).order_by("id")
        return rows if done is None else rows.filter(done=done)

    def get_dealer_query(self):
        team, done = self.filters()
        query = ["==", "team", team]
        return query if done is None else ["and", query, ["==", "done", done]]


class TaskDetail(snorky.SubscribeModelMixin, generics.UpdateAPIView, generics.DestroyAPIView):
    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    dealer = "tasks"

    def get(self, request, *args, **kwargs):
        return self.retrieve(request, *args, **kwargs)

    def get_dealer_query(self):
        return ["==", "id", int(self.kwargs["pk"])]


class PlainTaskList(snorky.ListSubscribeAPIView):
    """Broadcast dealer, no query: every task."""

    queryset = Task.objects.order_by("id")
    serializer_class = TaskSerializer
    dealer = "all_tasks"


class WrongDealer(snorky.ListSubscribeAPIView):
    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    dealer = "no_such_dealer"
