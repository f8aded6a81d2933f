"""What the command-line groups share: one error line, and the services for one command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from service import bootstrap
from service.config import Settings
from service.domain.errors import DomainError


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr starting 'homeschool: error:', then exit with ``code``."""
    click.echo(f"homeschool: error: {message}", err=True)
    sys.exit(code)


@contextmanager
def command_services() -> Iterator[bootstrap.Services]:
    """The services on the environment's settings, the database ready and the deployed versions read.

    A domain error (bad settings, an unknown case, a refusal) ends the command with its message, exit 1.
    """
    try:
        services = bootstrap.build_services(Settings.from_env())
    except (DomainError, ValueError) as exc:
        fail(str(exc), code=1)
    try:
        bootstrap.prepare_database(services)
        if services.runtime.deployments is not None:  # 'current' is the deployed current version
            services.runtime.deployments.refresh(force=True)
        yield services
    except DomainError as exc:
        fail(str(exc), code=1)
    finally:
        services.database.dispose()
