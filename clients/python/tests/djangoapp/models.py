import uuid

from django.db import models

from snorky.backend.django import subscribable


class Team(models.Model):
    name = models.CharField(max_length=50)


@subscribable(model="task")
class Task(models.Model):
    """Serialized by the default: every field type the encoder must handle."""

    title = models.CharField(max_length=100)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tasks")
    done = models.BooleanField(default=False)
    due = models.DateField(null=True, blank=True)
    estimate = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    ref = models.UUIDField(default=uuid.uuid4)
    changed = models.DateTimeField(auto_now=True)


@subscribable
class Note(models.Model):
    """Serialized by its own jsonify(); a key set before the insert (so bulk_create can publish)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    text = models.CharField(max_length=100)
    hits = models.IntegerField(default=0)

    def jsonify(self):
        return {"id": self.id, "text": self.text, "hits": self.hits, "shout": self.text.upper()}


class Unsendable(models.Model):
    text = models.CharField(max_length=10)

    def jsonify(self):
        return {"text": self.text, "oops": object()}


subscribable(Unsendable)
