"""The deployment tables: versions of a process (diagram, forms, access file) stored by content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class DeploymentFileRow(Base):
    """One file's exact bytes, stored once per SHA-256 (a form shared by many versions is stored once)."""

    __tablename__ = "deployment_files"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class DeploymentRow(Base):
    """One version of one process: which files (path → file hash) make it, who deployed it and when."""

    __tablename__ = "deployments"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120), index=True)
    diagram_hash: Mapped[str] = mapped_column(ForeignKey("diagram_versions.content_hash"))
    manifest: Mapped[dict[str, str]] = mapped_column(JSON)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(120))
    #: Why a version that failed the pre-deployment checks went live anyway (None: it passed).
    override_reason: Mapped[str | None] = mapped_column(Text)


class CurrentDeploymentRow(Base):
    """The version new cases of a process start on; every process checks this small table every few seconds."""

    __tablename__ = "current_deployments"

    process_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    deployment_hash: Mapped[str] = mapped_column(ForeignKey("deployments.content_hash"))
    changed_at: Mapped[datetime]
