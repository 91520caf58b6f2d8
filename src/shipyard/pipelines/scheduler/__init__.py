"""The one scheduler: due pipelines and monitors, cron slots and new-data triggers, each slot
claimed once in the metadata database and recorded as a trigger."""

from shipyard.pipelines.scheduler.entities import Job, Trigger, check_cron
from shipyard.pipelines.scheduler.runner import Scheduler, SchedulerOptions
from shipyard.pipelines.scheduler.service import TriggerStore

__all__ = ["Job", "Scheduler", "SchedulerOptions", "Trigger", "TriggerStore", "check_cron"]
