"""Periodic jobs whose next run is kept in the database (the `scheduled_jobs` table came with the core's
first migration), each run as a supervised attempt of `bot.loops`."""

from bot.scheduler.scheduler import PeriodicJob, Scheduler

__all__ = ["PeriodicJob", "Scheduler"]
