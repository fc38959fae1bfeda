from django.db import models

from snorky.backend.django import subscribable


# Every save and delete becomes a DataSync delta of model "task" (the model
# snorky.toml's dealer is configured with), published after the commit.
@subscribable(model="task")
class Task(models.Model):
    title = models.CharField(max_length=200)
    team = models.PositiveIntegerField()
    done = models.BooleanField(default=False)

    def jsonify(self):
        return {"id": self.id, "title": self.title, "team": self.team, "done": self.done}
