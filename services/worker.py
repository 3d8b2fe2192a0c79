"""The job worker's entry point: the huey instance with every task module registered.

Production: ``huey_consumer services.worker.huey -k thread -w 4``.
"""
from services import (  # noqa: F401  (registers their tasks)
    campaign_send,
    mail,
    maintenance,
    survey_reminders,
    tiers,
)
from services.jobs import huey

__all__ = ["huey"]
