"""`agency`: the application's command group plus the process commands (worker, scheduler, mailer)."""

from __future__ import annotations

from agency.cli import main
from workers.mailer import mailer_command
from workers.scheduler import scheduler_command
from workers.worker import worker_command

for _command in (worker_command, scheduler_command, mailer_command):
    main.add_command(_command)

__all__ = ["main"]
